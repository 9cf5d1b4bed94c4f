import { useState } from 'react';
import { api, describeError, type AuditEntry } from '../api.ts';
import { Empty, ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { formatTime, shortDigest } from '../format.ts';
import { useName } from '../session.tsx';
import { useLoad } from '../use-load.ts';

const PAGE = 200;

function VerifyStatus() {
  const verify = useLoad(() => api.verifyAudit(), []);
  if (verify.data === undefined) {
    return verify.error !== undefined ? (
      <ErrorMessage title="The chain could not be verified" error={verify.error} onRetry={verify.reload} />
    ) : (
      <Loading what="the hash chain verification" />
    );
  }
  const v = verify.data;
  return (
    <Notice tone={v.ok ? 'success' : 'error'} role={v.ok ? 'status' : 'alert'}>
      <span data-testid="audit-verify" data-ok={String(v.ok)}>
        {v.ok ? (
          <>
            <strong>Chain intact.</strong> {v.entries} entries verified
            {v.checkpoints !== undefined ? `, ${v.checkpoints} signed checkpoints` : ''}; head hash <code title={v.headHash}>{shortDigest(v.headHash)}</code>.
          </>
        ) : (
          <>
            <strong>{v.code?.startsWith('CHECKPOINT') === true ? 'Checkpoints broken' : 'Chain broken'}</strong> at seq {v.firstBadSeq ?? '?'}: {v.reason ?? 'the log was altered after it was written.'} {v.entries} entries checked.
          </>
        )}
      </span>{' '}
      <button type="button" className="link-button" onClick={verify.reload}>
        Verify again
      </button>
    </Notice>
  );
}

/** The hash-chained audit log, oldest first, paged with `afterSeq`. */
export function AuditPage() {
  const name = useName();
  const first = useLoad(() => api.listAudit(0, PAGE), []);
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [exhausted, setExhausted] = useState(false);
  const entries = [...(first.data ?? []), ...more];
  const last = entries.at(-1);

  const actor = (a: string) => {
    const m = /^(user|service_account):(.+)$/.exec(a);
    return m === null ? a : name(m[2], m[1] === 'user' ? 'user' : 'service_account');
  };

  const loadMore = () => {
    if (last === undefined) return;
    setLoadingMore(true);
    setMoreError(null);
    api.listAudit(last.seq, PAGE).then(
      (next) => {
        setMore((m) => [...m, ...next]);
        setExhausted(next.length < PAGE);
        setLoadingMore(false);
      },
      (err: unknown) => {
        setMoreError(describeError(err));
        setLoadingMore(false);
      },
    );
  };

  return (
    <section className="stack">
      <h1>Audit log</h1>
      <VerifyStatus />
      {first.error !== undefined && <ErrorMessage title="The audit log could not be loaded" error={first.error} onRetry={first.reload} />}
      {first.data === undefined ? (
        first.error === undefined && <Loading what="the audit log" />
      ) : entries.length === 0 ? (
        <Empty>The audit log is empty.</Empty>
      ) : (
        <div className="table-scroll">
          <table data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Data</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td className="nowrap">{formatTime(e.at)}</td>
                  <td>{actor(e.actor)}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="small">{e.subject}</td>
                  <td className="small audit-data">{e.data === null || Object.keys(e.data).length === 0 ? '' : <code>{JSON.stringify(e.data)}</code>}</td>
                  <td>
                    <code title={e.hash}>{e.hash.slice(0, 10)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {moreError !== null && (
        <div role="alert" className="notice notice-error">
          {moreError}
        </div>
      )}
      {first.data !== undefined && first.data.length === PAGE && !exhausted && (
        <div>
          <button type="button" className="secondary" disabled={loadingMore} onClick={loadMore}>
            {loadingMore ? 'Loading more entries…' : `Load the next ${PAGE} entries`}
          </button>
        </div>
      )}
    </section>
  );
}
