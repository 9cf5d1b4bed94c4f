import type { ReactNode } from 'react';

/** A table that scrolls sideways on narrow screens, with one header cell per column; `children` are its rows. */
export function ScrollTable({ columns, testId, children }: { columns: string[]; testId?: string; children: ReactNode }) {
  return (
    <div className="table-scroll">
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
