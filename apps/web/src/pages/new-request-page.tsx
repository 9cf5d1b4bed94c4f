import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { isCustodyOperationKind } from '../../../../libs/contracts/index.ts';
import { canRequest } from '../../../../libs/policy/index.ts';
import { api, assertUnreachable, OPERATION_KINDS, type Credential, type NewRequest, type OperationKind, type OperationRule, type Policy, type RequestPreview } from '../api.ts';
import { Empty, ErrorMessage, Loading, Notice, ProblemText } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { Link } from '../components/link.tsx';
import { operationSummary } from '../components/operation-view.tsx';
import { formatBytes } from '../format.ts';
import { FORM_MESSAGES, formatDuration } from '../messages.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

/** What a person may ask of one credential: the kinds its policies let them request, with each kind's constraints. */
interface Requestable {
  credential: Credential;
  kinds: Map<OperationKind, OperationRule[]>;
}

/** Credentials with the operation kinds their policies let `me` request (the gateway decides again at submission). */
function requestables(credentials: Credential[], policies: Policy[], me: { id: string; kind: 'user' | 'service_account'; roles: string[]; groups: string[] }): Requestable[] {
  const out: Requestable[] = [];
  for (const credential of credentials) {
    const kinds = new Map<OperationKind, OperationRule[]>();
    for (const policy of policies) {
      if (policy.credentialId !== credential.id) continue;
      if (!canRequest({ ...policy, requesters: policy.requesters ?? undefined, operationTimeoutSeconds: policy.operationTimeoutSeconds ?? undefined }, me)) continue;
      for (const rule of policy.operations) {
        // Re-share and rotation start from the credentials page, where their form is.
        if (!OPERATION_KINDS.includes(rule.kind) || isCustodyOperationKind(rule.kind)) continue;
        kinds.set(rule.kind, [...(kinds.get(rule.kind) ?? []), rule]);
      }
    }
    if (kinds.size > 0) out.push({ credential, kinds });
  }
  return out;
}

function bytesToB64u(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Lines of a textarea: one argument each (an argv, never a shell line); blank lines dropped. */
function argv(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
}

interface KindFields {
  signSource: 'text' | 'file';
  signText: string;
  signFile: { name: string; bytes: Uint8Array } | null;
  signFormat: 'raw' | 'jws';
  method: (typeof HTTP_METHODS)[number];
  path: string;
  headers: string;
  body: string;
  namespace: string;
  pod: string;
  container: string;
  command: string;
  sql: string;
  readOnly: boolean;
  revealConfirmed: boolean;
}

const EMPTY_FIELDS: KindFields = {
  signSource: 'text',
  signText: '',
  signFile: null,
  signFormat: 'raw',
  method: 'GET',
  path: '/',
  headers: '',
  body: '',
  namespace: '',
  pod: '',
  container: '',
  command: '',
  sql: '',
  readOnly: true,
  revealConfirmed: false,
};

/** The operation's params from the form, or the sentence that says what is missing. */
function paramsOf(kind: OperationKind, f: KindFields, recipient: string | null): { params: Record<string, unknown> } | { missing: string } {
  switch (kind) {
    case 'sign': {
      const bytes = f.signSource === 'file' ? f.signFile?.bytes : new TextEncoder().encode(f.signText);
      if (bytes === undefined || bytes.byteLength === 0) return { missing: FORM_MESSAGES.signPayload };
      return { params: { payload: bytesToB64u(bytes), format: f.signFormat } };
    }
    case 'http': {
      if (!f.path.startsWith('/')) return { missing: FORM_MESSAGES.httpPath };
      const headers: Record<string, string> = {};
      for (const line of f.headers.split('\n').filter((l) => l.trim() !== '')) {
        const at = line.indexOf(':');
        if (at < 1) return { missing: FORM_MESSAGES.httpHeaders };
        headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return { params: { method: f.method, path: f.path, ...(Object.keys(headers).length > 0 ? { headers } : {}), ...(f.body !== '' ? { body: f.body } : {}) } };
    }
    case 'kubernetes.exec': {
      if (f.namespace.trim() === '' || f.pod.trim() === '') return { missing: FORM_MESSAGES.kubernetesTarget };
      const command = argv(f.command);
      if (command.length === 0) return { missing: FORM_MESSAGES.command };
      return { params: { namespace: f.namespace.trim(), pod: f.pod.trim(), ...(f.container.trim() !== '' ? { container: f.container.trim() } : {}), command } };
    }
    case 'ssh.exec': {
      const command = argv(f.command);
      if (command.length === 0) return { missing: FORM_MESSAGES.command };
      return { params: { command } };
    }
    case 'sql.exec':
      if (f.sql.trim() === '') return { missing: FORM_MESSAGES.sql };
      return { params: { sql: f.sql, readOnly: f.readOnly } };
    case 'reveal':
      if (recipient === null) return { missing: FORM_MESSAGES.noKeysForReveal };
      if (!f.revealConfirmed) return { missing: FORM_MESSAGES.revealConfirm };
      return { params: { recipient } };
    case 'credential.reshare':
    case 'credential.rotate':
      return { missing: 'Re-share and rotation are started from the credentials page.' };
    default:
      return assertUnreachable(kind, 'operation kind');
  }
}

/** A constraint of a policy rule, in words, so the requester knows what will be admitted. */
function constraintText(rules: OperationRule[]): string | null {
  const parts = rules.filter((r) => r.constraints !== undefined && Object.keys(r.constraints).length > 0).map((r) => JSON.stringify(r.constraints));
  if (parts.length === 0 || parts.length < rules.length) return null;
  return `Policies admit only: ${parts.join(' or ')}`;
}

function KindForm({ kind, fields, set, recipient }: { kind: OperationKind; fields: KindFields; set: (change: Partial<KindFields>) => void; recipient: string | null }) {
  switch (kind) {
    case 'sign':
      return (
        <>
          <fieldset className="segmented">
            <legend>What to sign</legend>
            <label>
              <input type="radio" name="sign-source" checked={fields.signSource === 'text'} onChange={() => set({ signSource: 'text' })} /> Paste text
            </label>
            <label>
              <input type="radio" name="sign-source" checked={fields.signSource === 'file'} onChange={() => set({ signSource: 'file' })} /> Choose a file
            </label>
          </fieldset>
          {fields.signSource === 'text' ? (
            <Field label="Text to sign" hint="Signed as UTF-8 bytes, exactly as typed.">
              <textarea rows={4} value={fields.signText} onChange={(e) => set({ signText: e.target.value })} />
            </Field>
          ) : (
            <Field label="File to sign" hint={fields.signFile !== null ? `${fields.signFile.name}: ${formatBytes(fields.signFile.bytes.byteLength)}` : 'Its bytes are signed as they are (up to 1 MiB).'}>
              <input
                type="file"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file === undefined) return set({ signFile: null });
                  void file.arrayBuffer().then((buf) => set({ signFile: { name: file.name, bytes: new Uint8Array(buf) } }));
                }}
              />
            </Field>
          )}
          <Field label="Signature format" className="narrow">
            <select value={fields.signFormat} onChange={(e) => set({ signFormat: e.target.value === 'jws' ? 'jws' : 'raw' })}>
              <option value="raw">raw signature</option>
              <option value="jws">JWS (compact)</option>
            </select>
          </Field>
        </>
      );
    case 'http':
      return (
        <>
          <div className="grid-2">
            <Field label="Method" className="narrow">
              <select value={fields.method} onChange={(e) => set({ method: HTTP_METHODS.find((m) => m === e.target.value) ?? 'GET' })}>
                {HTTP_METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </Field>
            <Field label="Path" hint="Relative to the credential’s base URL, starting with /.">
              <input value={fields.path} onChange={(e) => set({ path: e.target.value })} />
            </Field>
          </div>
          <Field label="Headers" hint="One per line: Name: value. The credential’s own header is added by the gateway.">
            <textarea rows={3} value={fields.headers} onChange={(e) => set({ headers: e.target.value })} />
          </Field>
          <Field label="Body" hint="Sent as it is; leave empty for none.">
            <textarea rows={4} value={fields.body} onChange={(e) => set({ body: e.target.value })} />
          </Field>
        </>
      );
    case 'kubernetes.exec':
      return (
        <>
          <div className="grid-2">
            <Field label="Namespace">
              <input value={fields.namespace} onChange={(e) => set({ namespace: e.target.value })} />
            </Field>
            <Field label="Pod">
              <input value={fields.pod} onChange={(e) => set({ pod: e.target.value })} />
            </Field>
          </div>
          <Field label="Container" hint="Optional: the pod’s default container otherwise." className="narrow">
            <input value={fields.container} onChange={(e) => set({ container: e.target.value })} />
          </Field>
          <Field label="Command" hint="One argument per line, the program first; no shell reads it.">
            <textarea rows={3} value={fields.command} onChange={(e) => set({ command: e.target.value })} />
          </Field>
        </>
      );
    case 'ssh.exec':
      return (
        <Field label="Command" hint="One argument per line, the program first: the gateway quotes each one, so each stays one argument.">
          <textarea rows={3} value={fields.command} onChange={(e) => set({ command: e.target.value })} />
        </Field>
      );
    case 'sql.exec':
      return (
        <>
          <Field label="SQL statement">
            <textarea rows={5} className="code" value={fields.sql} onChange={(e) => set({ sql: e.target.value })} />
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={fields.readOnly} onChange={(e) => set({ readOnly: e.target.checked })} /> Read-only (run in a read-only transaction, rolled back)
          </label>
        </>
      );
    case 'reveal':
      return (
        <div className="notice notice-warning stack" data-testid="reveal-warning">
          <p>
            <strong>Break-glass: this hands you the secret itself.</strong> Once approved, the credential’s secret is sealed to your own key in this browser and shown to you.
            It is then no longer protected by a quorum: whatever it opens must be rotated afterwards. Every custodian sees that you asked, and the audit log keeps it.
          </p>
          {recipient === null ? (
            <p>
              {FORM_MESSAGES.noKeysForReveal} <Link href="/keys">Go to My keys</Link>.
            </p>
          ) : (
            <p className="small">
              Sealed to your encryption key <code>{recipient}</code>.
            </p>
          )}
          <label className="checkbox">
            <input type="checkbox" checked={fields.revealConfirmed} onChange={(e) => set({ revealConfirmed: e.target.checked })} /> I need the secret itself, and I will see to it that it is rotated
          </label>
        </div>
      );
    case 'credential.reshare':
    case 'credential.rotate':
      return <p>Re-share and rotation are started from the credentials page.</p>;
    default:
      return assertUnreachable(kind, 'operation kind');
  }
}

/** "Policy X applies. It needs 2 approvals: any 2 of alice, bob." */
function PreviewView({ preview }: { preview: RequestPreview }) {
  const { me } = useSession();
  const groups = preview.sharing.groups;
  const named = (c: { userId: string; username: string; eligible: boolean }) => `${c.username}${c.userId === me.id ? ' (you)' : ''}${c.eligible ? '' : ' (not for your own request)'}`;
  return (
    <div className="notice notice-info stack" data-testid="request-preview" role="status">
      <p>
        Policy <strong data-testid="preview-policy">{preview.policy.name}</strong> applies. It needs{' '}
        <strong data-testid="preview-min">
          {preview.policy.approvals.min} approval{preview.policy.approvals.min === 1 ? '' : 's'}
        </strong>
        {preview.policy.approvals.groups?.length ? <> ({preview.policy.approvals.groups.map((g) => `at least ${g.min} from ${g.group}`).join(', ')})</> : null}, from:
      </p>
      <ul data-testid="preview-approvers">
        {groups.map((g) => (
          <li key={g.name}>
            {groups.length > 1 ? <>{g.name}: </> : null}any {g.threshold} of {g.custodians.map(named).join(', ')}
          </li>
        ))}
      </ul>
      <p className="small">
        The request waits at most {formatDuration(preview.ttlSeconds)} for its approvals. What would run: <code>{operationSummary(preview.operation)}</code>.
      </p>
    </div>
  );
}

/** Submit a request from the browser: credential, operation, its parameters, reason and lifetime; the preview says which policy and who decides. */
export function NewRequestPage() {
  const { me } = useSession();
  const catalog = useLoad(async () => {
    const [credentials, policies] = await Promise.all([api.listCredentials(), api.listPolicies()]);
    return requestables(credentials, policies, me);
  }, [me]);
  const [credentialId, setCredentialId] = useState('');
  const [kind, setKind] = useState<OperationKind | ''>('');
  const [fields, setFields] = useState<KindFields>(EMPTY_FIELDS);
  const [reason, setReason] = useState('');
  const [ttlMinutes, setTtlMinutes] = useState<number | ''>('');
  const [preview, setPreview] = useState<{ for: string; result: RequestPreview } | { for: string; error: unknown } | null>(null);
  const { busy, error, setError, run } = useSubmit();
  const idempotencyKey = useRef(crypto.randomUUID());

  const options = catalog.data ?? [];
  const chosen = options.find((o) => o.credential.id === credentialId);
  const kinds = chosen === undefined ? [] : [...chosen.kinds.keys()];
  const recipient = me.keys?.encryptionThumbprint ?? null;
  const built = kind === '' ? null : paramsOf(kind, fields, recipient);
  const operation = built !== null && 'params' in built && kind !== '' ? { kind, params: built.params } : null;
  const policyTtl = preview !== null && 'result' in preview ? preview.result.policy.requestTtlSeconds : null;
  const ttlSeconds = ttlMinutes === '' ? undefined : ttlMinutes * 60;
  const previewBody = useMemo(() => (chosen !== undefined && operation !== null ? JSON.stringify({ credential: chosen.credential.id, operation }) : null), [chosen, operation]);

  // The preview follows the form: asked again (debounced) whenever the operation changes.
  useEffect(() => {
    if (previewBody === null) return setPreview(null);
    let current = true;
    const timer = setTimeout(() => {
      const body = JSON.parse(previewBody) as Pick<NewRequest, 'credential' | 'operation'>;
      api.previewRequest(body).then(
        (result) => current && setPreview({ for: previewBody, result }),
        (err: unknown) => current && setPreview({ for: previewBody, error: err }),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [previewBody]);

  const shownPreview = preview !== null && preview.for === previewBody ? preview : null;

  const chooseCredential = (id: string) => {
    setCredentialId(id);
    const next = options.find((o) => o.credential.id === id);
    const only = next !== undefined && next.kinds.size === 1 ? [...next.kinds.keys()][0] : undefined;
    setKind(only ?? '');
    setError(null);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen === undefined) return setError(FORM_MESSAGES.chooseCredential);
    if (kind === '' || built === null) return setError(FORM_MESSAGES.chooseOperation);
    if ('missing' in built) return setError(built.missing);
    if (reason.trim().length < 3) return setError(FORM_MESSAGES.reason);
    if (ttlSeconds !== undefined && (ttlSeconds < 60 || (policyTtl !== null && ttlSeconds > policyTtl))) return setError(FORM_MESSAGES.ttl(policyTtl ?? 604800));
    void run(async () => {
      const submitted = await api.submitRequest({ credential: chosen.credential.id, operation: { kind, params: built.params }, reason: reason.trim(), ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) }, idempotencyKey.current);
      navigate(`/requests/${submitted.id}`);
    });
  };

  if (catalog.data === undefined) {
    return catalog.error !== undefined ? <ErrorMessage title="The credentials you may use could not be loaded" error={catalog.error} onRetry={catalog.reload} /> : <Loading what="the credentials you may use" />;
  }

  return (
    <section className="stack">
      <p>
        <Link href="/requests">← Requests</Link>
      </p>
      <h1>New request</h1>
      {options.length === 0 ? (
        <Empty>No policy lets you request anything yet. A security lead creates the policies that let you use a credential.</Empty>
      ) : (
        <form className="card stack" noValidate onSubmit={submit} aria-labelledby="new-request-title" data-testid="new-request-form">
          <h2 id="new-request-title">What do you need?</h2>
          <div className="grid-2">
            <Field label="Credential">
              <select value={credentialId} onChange={(e) => chooseCredential(e.target.value)}>
                <option value="">Choose a credential…</option>
                {options.map((o) => (
                  <option key={o.credential.id} value={o.credential.id}>
                    {o.credential.name} ({o.credential.kind})
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Operation">
              <select value={kind} disabled={chosen === undefined} onChange={(e) => setKind(kinds.find((k) => k === e.target.value) ?? '')}>
                <option value="">Choose an operation…</option>
                {kinds.map((k) => (
                  <option key={k} value={k}>
                    {k === 'reveal' ? 'reveal (break-glass)' : k}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {chosen !== undefined && kind !== '' && constraintText(chosen.kinds.get(kind) ?? []) !== null && <p className="hint">{constraintText(chosen.kinds.get(kind) ?? [])}</p>}
          {kind !== '' && <KindForm kind={kind} fields={fields} set={(change) => setFields((f) => ({ ...f, ...change }))} recipient={recipient} />}
          <Field label="Reason" hint="Every reviewer reads it: say what this is for (a ticket, a release).">
            <textarea rows={2} maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} />
          </Field>
          <Field label="Wait for approvals at most (minutes)" hint={policyTtl !== null ? `The policy allows up to ${formatDuration(policyTtl)}; empty: all of it.` : 'Empty: as long as the policy allows.'} className="narrow">
            <input type="number" min={1} max={policyTtl !== null ? Math.floor(policyTtl / 60) : undefined} value={ttlMinutes} onChange={(e) => setTtlMinutes(e.target.value === '' ? '' : Math.max(0, Math.floor(Number(e.target.value))))} />
          </Field>
          {built !== null && 'missing' in built && <p className="hint" data-testid="form-missing">{built.missing}</p>}
          {shownPreview !== null && 'result' in shownPreview && <PreviewView preview={shownPreview.result} />}
          {shownPreview !== null && 'error' in shownPreview && (
            <Notice tone="warning" role="status">
              <span data-testid="preview-refused">
                <ProblemText error={shownPreview.error} />
              </span>
            </Notice>
          )}
          <FormFooter error={error} busy={busy} busyLabel="Submitting…" label="Submit request" />
        </form>
      )}
    </section>
  );
}
