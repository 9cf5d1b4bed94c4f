import type { ReactNode } from 'react';
import { CopyButton } from './copy-button.tsx';
import { ScrollTable } from './scroll-table.tsx';

function Value({ label, value, copy = false }: { label: string; value: string; copy?: boolean }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        <pre className="code" data-testid={`result-${label.toLowerCase().replace(/\W+/g, '-')}`}>
          {value}
        </pre>
        {copy && <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />}
      </dd>
    </>
  );
}

function RowsTable({ rows }: { rows: Record<string, unknown>[] }) {
  const columns = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  return (
    <ScrollTable columns={columns}>
      {rows.map((row, i) => (
        <tr key={i}>
          {columns.map((c) => (
            <td key={c}>{row[c] === null ? <em>null</em> : typeof row[c] === 'object' ? JSON.stringify(row[c]) : String(row[c])}</td>
          ))}
        </tr>
      ))}
    </ScrollTable>
  );
}

/** The operation's output (PROTOCOL §6) or its error. */
export function ResultView({ result }: { result: Record<string, unknown> }) {
  const r = result;
  const parts: ReactNode[] = [];
  if (typeof r.error === 'string') parts.push(<Value key="error" label="Error" value={r.error} />);
  if (typeof r.alg === 'string') parts.push(<Value key="alg" label="Algorithm" value={r.alg} />);
  if (typeof r.kid === 'string') parts.push(<Value key="kid" label="Key id" value={r.kid} />);
  if (typeof r.signature === 'string') parts.push(<Value key="sig" label="Signature" value={r.signature} copy />);
  if (typeof r.jws === 'string') parts.push(<Value key="jws" label="JWS" value={r.jws} copy />);
  if (typeof r.status === 'number') parts.push(<Value key="status" label="HTTP status" value={String(r.status)} />);
  if (typeof r.body === 'string') parts.push(<Value key="body" label="Body" value={r.body} />);
  if (typeof r.exitCode === 'number') parts.push(<Value key="exit" label="Exit code" value={String(r.exitCode)} />);
  if (typeof r.stdout === 'string') parts.push(<Value key="stdout" label="Standard output" value={r.stdout} />);
  if (typeof r.stderr === 'string' && r.stderr !== '') parts.push(<Value key="stderr" label="Standard error" value={r.stderr} />);
  if (typeof r.rowCount === 'number') parts.push(<Value key="rc" label="Rows" value={String(r.rowCount)} />);
  if (typeof r.envelope === 'string') parts.push(<Value key="env" label="Envelope (JWE to your encryption key; open it with the qg CLI)" value={r.envelope} copy />);
  return (
    <>
      {parts.length > 0 ? <dl className="fields">{parts}</dl> : <pre className="code">{JSON.stringify(r, null, 2)}</pre>}
      {Array.isArray(r.rows) && r.rows.length > 0 && <RowsTable rows={r.rows as Record<string, unknown>[]} />}
    </>
  );
}
