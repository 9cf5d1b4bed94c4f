import { useState, type FormEvent } from 'react';
import {
  api,
  isOperationKind,
  type ConstraintValue,
  ROLES,
  type Credential,
  type CredentialKind,
  type ExecutorOperationKind,
  type OperationKind,
  type OperationRule,
  type Policy,
  type Role,
} from '../api.ts';
import { ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { Link } from '../components/link.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { PrincipalPicker } from '../components/principal-picker.tsx';
import { useName } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

/** The operation kinds each credential kind serves (PROTOCOL §6); `reveal` is break-glass on any. */
const OPERATIONS_FOR: Record<CredentialKind, readonly ExecutorOperationKind[]> = {
  'signing-key': ['sign'],
  'http-token': ['http'],
  kubeconfig: ['kubernetes.exec'],
  'ssh-key': ['ssh.exec'],
  postgres: ['sql.exec'],
};

/** A placeholder per kind: what its constraints may look like. */
const CONSTRAINT_EXAMPLES: Record<OperationKind, string> = {
  sign: 'format=raw',
  http: 'method=POST\npath=/admin/rotate/*\nbody={"action": "rotate"}',
  'kubernetes.exec': 'namespace=prod-*\npod=api-*',
  'ssh.exec': 'command=["systemctl", "restart", "nginx"]',
  'sql.exec': 'readOnly=true',
  reveal: '',
  'credential.reshare': '',
  'credential.rotate': '',
};

function exampleFor(kind: OperationKind | undefined): string {
  return kind !== undefined ? CONSTRAINT_EXAMPLES[kind] : '';
}

/** `key=glob` lines; `true`/`false` become booleans, a JSON array a list of globs, a JSON object `{name: glob}` (http headers, query, body). */
export function parseConstraints(text: string): Record<string, ConstraintValue> | undefined {
  const out: Record<string, ConstraintValue> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`Constraint line ${i + 1} needs the form key=pattern.`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === 'true' || value === 'false') out[key] = value === 'true';
    else if (value.startsWith('[')) {
      const list: unknown = JSON.parse(value);
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`Constraint ${key}: a list must be a JSON array of strings.`);
      out[key] = list as string[];
    } else if (value.startsWith('{')) {
      const fields: unknown = JSON.parse(value);
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || !Object.values(fields).every((x) => typeof x === 'string')) {
        throw new Error(`Constraint ${key}: an object must be JSON of name: pattern strings.`);
      }
      out[key] = fields as Record<string, string>;
    } else out[key] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function parseGroups(text: string): { group: string; min: number }[] | undefined {
  const groups = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const [group, min] = s.split('=').map((x) => x.trim());
      const n = Number(min);
      if (group === '' || !Number.isInteger(n) || n < 1) throw new Error(`Group rule “${s}” needs the form group=number, for example sre=1.`);
      return { group, min: n };
    });
  return groups.length === 0 ? undefined : groups;
}

interface OperationRow {
  /** '' until chosen: the first kind offered */
  kind: OperationKind | '';
  constraints: string;
}

function CreatePolicy({ credentials, onCreated }: { credentials: Credential[]; onCreated: (p: Policy) => void }) {
  const [name, setName] = useState('');
  const [credentialId, setCredentialId] = useState(credentials[0]?.id ?? '');
  const credential = credentials.find((c) => c.id === credentialId);
  const kinds: OperationKind[] = credential !== undefined ? [...OPERATIONS_FOR[credential.kind], 'reveal'] : [];
  const [operations, setOperations] = useState<OperationRow[]>([{ kind: '', constraints: '' }]);
  const [min, setMin] = useState(credential?.threshold ?? 2);
  const [groups, setGroups] = useState('');
  const [allowSelf, setAllowSelf] = useState(false);
  const [roles, setRoles] = useState<Role[]>(['requester']);
  const [requesterUsers, setRequesterUsers] = useState<string[]>([]);
  const [serviceAccounts, setServiceAccounts] = useState<string[]>([]);
  const [ttlMinutes, setTtlMinutes] = useState(60);
  const { busy, error, setError, run } = useSubmit();

  const chooseCredential = (id: string) => {
    setCredentialId(id);
    const c = credentials.find((x) => x.id === id);
    if (c !== undefined) setMin(c.threshold);
    setOperations([{ kind: '', constraints: '' }]);
  };
  const setOp = (i: number, patch: Partial<OperationRow>) => setOperations((ops) => ops.map((o, j) => (j === i ? { ...o, ...patch } : o)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (credential === undefined) return setError('Choose a credential.');
    let body;
    try {
      const ops: OperationRule[] = operations.map((o, i) => {
        const kind = o.kind === '' ? kinds[0] : o.kind;
        if (kind === undefined) throw new Error(`Operation ${i + 1}: choose a kind.`);
        const constraints = parseConstraints(o.constraints);
        return constraints === undefined ? { kind } : { kind, constraints };
      });
      const sa = serviceAccounts;
      const requesters = roles.length === 0 && requesterUsers.length === 0 && sa.length === 0 ? undefined : { roles, users: requesterUsers, serviceAccounts: sa };
      const groupRules = parseGroups(groups);
      body = {
        name: name.trim(),
        credentialId: credential.id,
        operations: ops,
        approvals: { min, ...(groupRules !== undefined ? { groups: groupRules } : {}), allowRequesterApproval: allowSelf },
        ...(requesters !== undefined ? { requesters } : {}),
        requestTtlSeconds: Math.round(ttlMinutes * 60),
      };
    } catch (err) {
      return setError(err instanceof Error ? err.message : String(err));
    }
    await run(async () => {
      const created = await api.createPolicy(body);
      // The next policy starts from a blank form, not from this one's rules.
      setName('');
      setOperations([{ kind: '', constraints: '' }]);
      setMin(credential.threshold);
      setGroups('');
      setAllowSelf(false);
      setRoles(['requester']);
      setRequesterUsers([]);
      setServiceAccounts([]);
      setTtlMinutes(60);
      onCreated(created);
    });
  };

  if (credentials.length === 0) return <Notice>Create a credential first: a policy says who may use one credential, for which operations.</Notice>;
  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-policy-title" data-testid="policy-form">
      <h2 id="new-policy-title">New policy</h2>
      <div className="grid-2">
        <Field label="Name">
          <input name="name" required pattern="[a-z0-9][a-z0-9._\-]{1,63}" value={name} onChange={(e) => setName(e.target.value)} placeholder="release-signing" />
        </Field>
        <label>
          Credential
          <select name="credential" value={credentialId} onChange={(e) => chooseCredential(e.target.value)}>
            {credentials.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.kind}, {c.threshold} of {c.custodians.length})
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset>
        <legend>Allowed operations</legend>
        {operations.map((o, i) => (
          <div key={i} className="grid-2 operation-row">
            <label>
              Operation {i + 1}
              <select name={`operation-${i}`} value={o.kind === '' ? kinds[0] : o.kind} onChange={(e) => isOperationKind(e.target.value) && setOp(i, { kind: e.target.value })}>
                {kinds.map((k) => (
                  <option key={k} value={k}>
                    {k === 'reveal' ? 'reveal (break-glass: hands the secret to the requester)' : k}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Constraints (one key=pattern per line)
              <textarea
                name={`constraints-${i}`}
                rows={2}
                spellCheck={false}
                placeholder={exampleFor(o.kind === '' ? kinds[0] : o.kind)}
                value={o.constraints}
                onChange={(e) => setOp(i, { constraints: e.target.value })}
              />
              <span className="hint">
                * matches any text; in an http path only within one segment, ** any number of segments. An http query, headers or body
                take {'{"name": "pattern"}'}, listing exactly what the request may send. A constrained ssh command string admits no shell
                metacharacters; a JSON array constrains an argv. Constraints check what is sent, not what the target does with it.
              </span>
            </label>
            {operations.length > 1 && (
              <div>
                <button type="button" className="secondary small" onClick={() => setOperations((ops) => ops.filter((_, j) => j !== i))}>
                  Remove operation {i + 1}
                </button>
              </div>
            )}
          </div>
        ))}
        <button type="button" className="secondary small" onClick={() => setOperations((ops) => [...ops, { kind: '', constraints: '' }])}>
          Add an operation
        </button>
      </fieldset>
      <fieldset>
        <legend>Approvals</legend>
        <div className="grid-2">
          <label>
            Minimum approvals
            <input name="min" type="number" min={credential?.threshold ?? 1} max={credential?.custodians.length ?? 255} value={min} onChange={(e) => setMin(Number(e.target.value))} />
            <span className="hint">
              Between the credential’s threshold ({credential?.threshold ?? '?'}) and its {credential?.custodians.length ?? '?'} custodians. Any custodian’s
              reject vetoes.
            </span>
          </label>
          <Field label="Per-group minimums (optional)" hint="group=number, comma-separated: at least that many approvers from each group.">
            <input name="groups" value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="sre=1, security=1" />
          </Field>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={allowSelf} onChange={(e) => setAllowSelf(e.target.checked)} /> Requesters who are custodians may approve their own request
        </label>
      </fieldset>
      <fieldset>
        <legend>Who may request</legend>
        <p className="hint">Anyone holding a checked role, or one of the listed users or service accounts.</p>
        <div className="checks">
          {ROLES.map((r) => (
            <label key={r} className="checkbox">
              <input type="checkbox" checked={roles.includes(r)} onChange={(e) => setRoles((rs) => (e.target.checked ? [...rs, r] : rs.filter((x) => x !== r)))} /> {r}
            </label>
          ))}
        </div>
        <PrincipalPicker label="Specific users (optional)" kind="user" chosen={requesterUsers} onChange={setRequesterUsers} testId="requester-users" />
        <PrincipalPicker label="Service accounts (optional)" kind="service_account" chosen={serviceAccounts} onChange={setServiceAccounts} testId="requester-service-accounts" />
      </fieldset>
      <Field label="Request lifetime (minutes)" hint="How long a request waits for its quorum before it expires." className="narrow">
        <input name="ttl" type="number" min={1} max={10080} value={ttlMinutes} onChange={(e) => setTtlMinutes(Number(e.target.value))} />
      </Field>
      <FormFooter error={error} busy={busy} busyLabel="Creating the policy…" label="Create policy" />
    </form>
  );
}

export function describeRule(o: OperationRule): string {
  const c = o.constraints === undefined ? '' : ` (${Object.entries(o.constraints).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')})`;
  return `${o.kind}${c}`;
}

export function PoliciesPage() {
  const policies = useLoad(() => api.listPolicies(), []);
  const credentials = useLoad(() => api.listCredentials(), []);
  const [created, setCreated] = useState<Policy | null>(null);
  const credentialName = new Map((credentials.data ?? []).map((c) => [c.id, c.name]));
  const name = useName();

  return (
    <section className="stack">
      <h1>Policies</h1>
      {created !== null && (
        <Notice tone="success" role="status">
          Policy <code>{created.name}</code> created.
        </Notice>
      )}
      <LoadedTable
        load={policies}
        errorTitle="The policies could not be loaded"
        what="policies"
        empty="No policies yet: no request can be submitted until one exists."
        columns={['Name', 'Credential', 'Operations', 'Approvals', 'Requesters', 'Lifetime']}
        testId="policies-table"
        row={(p) => (
          <tr key={p.id}>
            <td>
              <Link href={`/policies/${p.id}`}>
                <code>{p.name}</code>
              </Link>
            </td>
            <td>
              <Link href={`/credentials/${p.credentialId}`}>{credentialName.get(p.credentialId) ?? 'its credential'}</Link>
            </td>
            <td>{p.operations.map(describeRule).join('; ')}</td>
            <td>
              at least {p.approvals.min}
              {(p.approvals.groups ?? []).map((g) => `, ${g.min} from ${g.group}`).join('')}
              {p.approvals.allowRequesterApproval === true ? ', self-approval allowed' : ''}
            </td>
            <td>
              {p.requesters === null
                ? 'role requester'
                : [
                    ...(p.requesters.roles ?? []).map((r) => `role ${r}`),
                    ...(p.requesters.users ?? []).map((u) => `user ${name(u, 'user')}`),
                    ...(p.requesters.serviceAccounts ?? []).map((a) => name(a, 'service_account')),
                  ].join(', ') || 'nobody'}
            </td>
            <td>{Math.round(p.requestTtlSeconds / 60)} min</td>
          </tr>
        )}
      />
      {credentials.error !== undefined && <ErrorMessage title="The credentials could not be loaded" error={credentials.error} onRetry={credentials.reload} />}
      {credentials.data === undefined ? (
        credentials.error === undefined && <Loading what="credentials" />
      ) : (
        <CreatePolicy
          key={credentials.data.length}
          credentials={credentials.data}
          onCreated={(p) => {
            setCreated(p);
            policies.reload();
          }}
        />
      )}
    </section>
  );
}
