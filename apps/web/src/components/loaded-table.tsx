import type { ReactNode } from 'react';
import type { Loaded } from '../use-load.ts';
import { Empty, ErrorMessage, Loading } from './feedback.tsx';
import { ScrollTable } from './scroll-table.tsx';

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
        <ScrollTable columns={columns} testId={testId}>
          {load.data.map(row)}
        </ScrollTable>
      )}
    </>
  );
}
