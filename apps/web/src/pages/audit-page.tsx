import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, AUDIT_ACTIONS, AUDIT_SEARCH_MAX, describeError, type AuditEntry, type AuditListQuery } from '../api.ts';
import { auditToCsv, auditToJsonLines } from '../audit-export.ts';
import { Empty, ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { formatTime, shortDigest } from '../format.ts';
import { useName } from '../session.tsx';
import { useLoad } from '../use-load.ts';

const PAGE = 100;
/** The most entries one export collects, page after page; a larger one asks for narrower filters. */
const EXPORT_MAX = 100_000;
const EXPORT_PAGE = 1000;

const ACTION_FAMILIES = [...new Set(AUDIT_ACTIONS.map((a) => a.split('.')[0] ?? a))];

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

/** The filters as the form holds them: times in the browser's local time (datetime-local). */
interface FilterForm {
  actor: string;
  action: string;
  subject: string;
  from: string;
  to: string;
  q: string;
}

const NO_FILTER: FilterForm = { actor: '', action: '', subject: '', from: '', to: '', q: '' };

function localToIso(local: string): string | undefined {
  if (local === '') return undefined;
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function toQuery(f: FilterForm): AuditListQuery {
  return { actor: f.actor || undefined, action: f.action || undefined, subject: f.subject.trim() || undefined, from: localToIso(f.from), to: localToIso(f.to), q: f.q.trim() || undefined };
}

/** A value of an entry's data, readable: text as is, anything else as compact JSON. */
function readable(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function EntryData({ data }: { data: Record<string, unknown> }) {
  const keys = Object.keys(data ?? {});
  if (keys.length === 0) return <span className="muted">—</span>;
  return (
    <>
      <dl className="kv">
        {keys.map((k) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{readable(data[k])}</dd>
          </div>
        ))}
      </dl>
      <details className="json-toggle">
        <summary>JSON</summary>
        <pre className="code">{JSON.stringify(data, null, 2)}</pre>
      </details>
    </>
  );
}

function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The hash-chained audit log for auditors: newest first, filtered by the gateway, paged with its cursor, exportable. */
export function AuditPage() {
  const name = useName();
  const people = useLoad(() => Promise.all([api.listUsers().catch(() => []), api.listServiceAccounts().catch(() => [])]), []);
  const [form, setForm] = useState<FilterForm>(NO_FILTER);
  const [applied, setApplied] = useState<AuditListQuery>({});
  const first = useLoad(() => api.listAuditPage({ ...applied, order: 'desc', limit: PAGE }), [applied]);
  const [more, setMore] = useState<{ entries: AuditEntry[]; cursor: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportNote, setExportNote] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);

  useEffect(() => setMore(null), [applied]);

  const entries = [...(first.data?.entries ?? []), ...(more?.entries ?? [])];
  const cursor = more !== null ? more.cursor : (first.data?.nextCursor ?? null);
  const filtered = Object.values(applied).some((v) => v !== undefined);

  const actorName = useMemo(
    () => (a: string) => {
      const m = /^(user|service_account):(.+)$/.exec(a);
      return m === null ? a : name(m[2], m[1] === 'user' ? 'user' : 'service_account');
    },
    [name],
  );

  const set = (field: keyof FilterForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [field]: e.target.value }));

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setApplied(toQuery(form));
  };

  const clear = () => {
    setForm(NO_FILTER);
    setApplied({});
  };

  const loadMore = () => {
    if (cursor === null) return;
    setLoadingMore(true);
    setMoreError(null);
    api.listAuditPage({ ...applied, order: 'desc', limit: PAGE, cursor }).then(
      (page) => {
        setMore((m) => ({ entries: [...(m?.entries ?? []), ...page.entries], cursor: page.nextCursor ?? null }));
        setLoadingMore(false);
      },
      (err: unknown) => {
        setMoreError(describeError(err));
        setLoadingMore(false);
      },
    );
  };

  /** Every entry the filters select, oldest first (seq order, as the chain is verified), page after page. */
  const exportAs = async (format: 'jsonl' | 'csv') => {
    setExporting(format);
    setExportNote(null);
    try {
      const all: AuditEntry[] = [];
      let next: string | null = null;
      do {
        const page = await api.listAuditPage({ ...applied, order: 'asc', limit: EXPORT_PAGE, ...(next !== null ? { cursor: next } : {}) });
        all.push(...page.entries);
        next = page.nextCursor ?? null;
      } while (next !== null && all.length < EXPORT_MAX);
      if (next !== null) {
        setExportNote({ tone: 'error', text: `More than ${EXPORT_MAX} entries match: narrow the filters (a time range) and export in parts.` });
        return;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'jsonl') download(`quorumgate-audit-${stamp}.jsonl`, 'application/x-ndjson', auditToJsonLines(all));
      else download(`quorumgate-audit-${stamp}.csv`, 'text/csv', auditToCsv(all, actorName));
      setExportNote({ tone: 'success', text: `Exported ${all.length} ${all.length === 1 ? 'entry' : 'entries'}, oldest first${filtered ? ', as filtered' : ''}.` });
    } catch (err) {
      setExportNote({ tone: 'error', text: `The export failed: ${describeError(err)}` });
    } finally {
      setExporting(null);
    }
  };

  const [users, accounts] = people.data ?? [[], []];

  return (
    <section className="stack">
      <h1>Audit log</h1>
      <VerifyStatus />
      <form className="card stack" onSubmit={apply} aria-labelledby="audit-filter-title" data-testid="audit-filters">
        <h2 id="audit-filter-title">Find entries</h2>
        <label>
          Search
          <input type="search" maxLength={AUDIT_SEARCH_MAX} value={form.q} onChange={set('q')} placeholder="text in the actor, action, subject or data" />
        </label>
        <div className="filter-grid">
          <label>
            Actor
            <select value={form.actor} onChange={set('actor')}>
              <option value="">Anyone</option>
              {users.map((u) => (
                <option key={u.id} value={`user:${u.id}`}>
                  {u.displayName === u.username ? u.username : `${u.displayName} (${u.username})`}
                </option>
              ))}
              {accounts.map((a) => (
                <option key={a.id} value={`service_account:${a.id}`}>
                  {a.name} (service account)
                </option>
              ))}
              <option value="system">the gateway itself (system)</option>
            </select>
          </label>
          <label>
            Action
            <select value={form.action} onChange={set('action')}>
              <option value="">Any action</option>
              <optgroup label="Families">
                {ACTION_FAMILIES.map((f) => (
                  <option key={f} value={`${f}.*`}>
                    {f}.* (all)
                  </option>
                ))}
              </optgroup>
              <optgroup label="Actions">
                {AUDIT_ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </optgroup>
            </select>
          </label>
          <label>
            Subject
            <input value={form.subject} onChange={set('subject')} placeholder="e.g. request:…" spellCheck={false} />
          </label>
          <label>
            From
            <input type="datetime-local" value={form.from} onChange={set('from')} />
          </label>
          <label>
            Until
            <input type="datetime-local" value={form.to} onChange={set('to')} />
          </label>
        </div>
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <div className="toolbar">
        <span className="muted" data-testid="audit-shown">
          {first.data === undefined ? '' : `${entries.length} ${filtered ? 'matching ' : ''}${entries.length === 1 ? 'entry' : 'entries'} shown, newest first`}
        </span>
        <button type="button" className="secondary small" disabled={exporting !== null} onClick={() => void exportAs('jsonl')}>
          {exporting === 'jsonl' ? 'Exporting…' : 'Export JSON lines'}
        </button>
        <button type="button" className="secondary small" disabled={exporting !== null} onClick={() => void exportAs('csv')}>
          {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {exportNote !== null && (
        <Notice tone={exportNote.tone} role={exportNote.tone === 'error' ? 'alert' : 'status'}>
          {exportNote.text}
        </Notice>
      )}
      {first.error !== undefined && <ErrorMessage title="The audit log could not be loaded" error={first.error} onRetry={first.reload} />}
      {first.data === undefined ? (
        first.error === undefined && <Loading what="the audit log" />
      ) : entries.length === 0 ? (
        <Empty>{filtered ? 'No entry matches these filters.' : 'The audit log is empty.'}</Empty>
      ) : (
        <div className="table-scroll" tabIndex={0} aria-label="Audit entries (scrolls sideways)">
          <table data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Data</th>
                <th scope="col">Previous hash</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq} data-seq={e.seq}>
                  <td>{e.seq}</td>
                  <td className="nowrap">{formatTime(e.at)}</td>
                  <td>
                    <span title={e.actor}>{actorName(e.actor)}</span>
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="small wrap">{e.subject}</td>
                  <td className="small audit-data">
                    <EntryData data={e.data} />
                  </td>
                  <td>
                    <code title={e.prevHash}>{e.prevHash.slice(0, 12)}</code>
                  </td>
                  <td>
                    <code title={e.hash}>{e.hash.slice(0, 12)}</code>
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
      {first.data !== undefined && cursor !== null && (
        <div>
          <button type="button" className="secondary" disabled={loadingMore} onClick={loadMore}>
            {loadingMore ? 'Loading older entries…' : `Load ${PAGE} older entries`}
          </button>
        </div>
      )}
    </section>
  );
}
