import type { ReactNode } from 'react';
import type { Loaded } from '../use-load.ts';
import { Empty, ErrorMessage, Loading } from './feedback.tsx';

/**
 * A list loaded with useLoad, shown as a table: its load error (with a retry), a loading line,
 * an empty message, or the table with one header cell per column.
 */
export function LoadedTable<T>({
  load,
  errorTitle,
  what,
  empty,
  columns,
  testId,
  row,
}: {
  load: Loaded<T[]>;
  errorTitle: string;
  what: string;
  empty: ReactNode;
  columns: string[];
  testId?: string;
  row: (item: T) => ReactNode;
}) {
  return (
    <>
      {load.error !== undefined && <ErrorMessage title={errorTitle} error={load.error} onRetry={load.reload} />}
      {load.data === undefined ? (
        load.error === undefined && <Loading what={what} />
      ) : load.data.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
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
            <tbody>{load.data.map(row)}</tbody>
          </table>
        </div>
      )}
    </>
  );
}
