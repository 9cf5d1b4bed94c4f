import { useState, type FormEvent } from 'react';
import { api, CREDENTIAL_KINDS, GENERATED_SIGNING_ALGS, type Credential, type CredentialHealth, type CredentialKind, type GeneratedSigningAlg, type User } from '../api.ts';
import { ErrorMessage, Loading, Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { Link } from '../components/link.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { AffectedCredentialsPanel, ReshareForm } from '../components/reshare-form.tsx';
import { useName, useSession } from '../session.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

interface ConfigField {
  key: string;
  label: string;
  type: 'text' | 'number' | 'checkbox';
  required?: boolean;
  placeholder?: string;
  hint?: string;
  /** A checkbox's state before it is touched; sent either way, so the box always says what the gateway will do. */
  defaultChecked?: boolean;
}

/** Per credential kind (PROTOCOL §6): its config fields and what the secret is. */
const KINDS: Record<CredentialKind, { label: string; fields: ConfigField[]; secretLabel: string; secretHint: string; multiline: boolean }> = {
  'signing-key': {
    label: 'Signing key (sign)',
    fields: [],
    secretLabel: 'Private key as JWK (JSON)',
    secretHint: 'EC P-256 (ES256), Ed25519 (EdDSA) or RSA (PS256). The public key becomes readable on the credential.',
    multiline: true,
  },
  'http-token': {
    label: 'HTTP API token (http)',
    fields: [
      { key: 'baseUrl', label: 'Base URL', type: 'text', required: true, placeholder: 'https://admin.internal.example' },
      { key: 'header', label: 'Header', type: 'text', placeholder: 'Authorization' },
      { key: 'scheme', label: 'Scheme', type: 'text', placeholder: 'Bearer' },
    ],
    secretLabel: 'Token',
    secretHint: 'Sent in the header above; never shown to requesters.',
    multiline: false,
  },
  kubeconfig: {
    label: 'Kubeconfig (kubernetes.exec)',
    fields: [{ key: 'context', label: 'Context', type: 'text', hint: 'Empty: the kubeconfig’s current context.' }],
    secretLabel: 'Kubeconfig (YAML)',
    secretHint: 'A kubeconfig with credentials allowed to exec into the target pods.',
    multiline: true,
  },
  'ssh-key': {
    label: 'SSH private key (ssh.exec)',
    fields: [
      { key: 'host', label: 'Host', type: 'text', required: true },
      { key: 'port', label: 'Port', type: 'number', required: true, placeholder: '22' },
      { key: 'username', label: 'Username', type: 'text', required: true },
      { key: 'hostKeySha256', label: 'Host key SHA-256', type: 'text', required: true, hint: 'The pinned host key fingerprint, as ssh-keygen -lf prints it.' },
    ],
    secretLabel: 'Private key (PEM or OpenSSH)',
    secretHint: 'Unencrypted private key.',
    multiline: true,
  },
  postgres: {
    label: 'PostgreSQL password (sql.exec)',
    fields: [
      { key: 'host', label: 'Host', type: 'text', required: true },
      { key: 'port', label: 'Port', type: 'number', required: true, placeholder: '5432' },
      { key: 'database', label: 'Database', type: 'text', required: true },
      { key: 'user', label: 'User', type: 'text', required: true },
      { key: 'ssl', label: 'Require TLS', type: 'checkbox', defaultChecked: true, hint: 'Off only for a database on this machine (localhost, 127.0.0.1, ::1): the gateway refuses plaintext to any other host.' },
    ],
    secretLabel: 'Password',
    secretHint: '',
    multiline: false,
  },
};

function buildConfig(kind: CredentialKind, values: Record<string, string | boolean>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of KINDS[kind].fields) {
    const v = values[f.key];
    if (f.type === 'checkbox') {
      config[f.key] = typeof v === 'boolean' ? v : f.defaultChecked === true;
    } else if (typeof v === 'string' && v.trim() !== '') {
      config[f.key] = f.type === 'number' ? Number(v) : v.trim();
    }
  }
  return config;
}

interface GroupDraft {
  name: string;
  threshold: number;
  custodians: string[];
}

/**
 * The structure in plain words (spec §3a): "any 2 of alice, bob, carol AND dave". A group
 * of one is that person, whose approval is always needed.
 */
export function sharingSummary(groups: readonly GroupDraft[], nameOf: (id: string) => string): string {
  const parts = groups
    .filter((g) => g.custodians.length > 0)
    .map((g) => {
      const names = g.custodians.map(nameOf);
      if (names.length === 1) return names[0] ?? '';
      if (g.threshold >= names.length) return `all of ${names.join(', ')}`;
      return `any ${g.threshold} of ${names.join(', ')}`;
    });
  return parts.length === 0 ? 'No custodians chosen yet.' : `Approval needs ${parts.join(' AND ')}.`;
}

function CreateCredential({ users, onCreated }: { users: User[]; onCreated: (c: Credential) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<CredentialKind>('signing-key');
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [secret, setSecret] = useState('');
  // A signing key is best born here: the gateway generates it and nobody ever holds the private half.
  const [source, setSource] = useState<'generate' | 'paste'>('generate');
  const [alg, setAlg] = useState<GeneratedSigningAlg>('ES256');
  const [groups, setGroups] = useState<GroupDraft[]>([{ name: 'custodians', threshold: 2, custodians: [] }]);
  const { busy, error, setError, run } = useSubmit();
  const spec = KINDS[kind];
  const generating = kind === 'signing-key' && source === 'generate';
  const candidates = users.filter((u) => u.roles.includes('operator'));
  const grouped = groups.length > 1;
  const nameOf = (id: string) => users.find((u) => u.id === id)?.username ?? 'an unknown user';
  const [custodianFilter, setCustodianFilter] = useState('');
  const needle = custodianFilter.trim().toLowerCase();
  const shown = (u: User) => needle === '' || u.username.toLowerCase().includes(needle) || u.displayName.toLowerCase().includes(needle);

  const update = (at: number, change: Partial<GroupDraft>) => setGroups((gs) => gs.map((g, i) => (i === at ? { ...g, ...change } : g)));
  const toggle = (at: number, id: string, on: boolean) =>
    setGroups((gs) => gs.map((g, i) => (i !== at ? g : { ...g, custodians: on ? [...g.custodians, id] : g.custodians.filter((x) => x !== id) })));
  const addGroup = () =>
    setGroups((gs) => [...(gs.length === 1 && gs[0]?.name === 'custodians' ? [{ ...(gs[0] as GroupDraft), name: '' }] : gs), { name: '', threshold: 1, custodians: [] }]);
  const removeGroup = (at: number) => setGroups((gs) => (gs.length === 2 ? [{ ...(gs[at === 0 ? 1 : 0] as GroupDraft), name: 'custodians' }] : gs.filter((_, i) => i !== at)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    for (const [i, g] of groups.entries()) {
      const label = grouped ? `Group ${g.name.trim() === '' ? i + 1 : `“${g.name.trim()}”`}` : 'The credential';
      if (grouped && g.name.trim() === '') return setError(`Name group ${i + 1}.`);
      if (g.custodians.length === 0) return setError(`${label} needs at least one custodian.`);
      if (g.threshold < 1 || g.threshold > g.custodians.length) return setError(`${label}: the threshold must be between 1 and ${g.custodians.length} (its custodians).`);
    }
    await run(async () => {
      const material = generating ? { generate: { alg } } : { secret };
      const base = { name: name.trim(), kind, config: buildConfig(kind, values), ...material };
      const only = groups[0] as GroupDraft;
      const created = await api.createCredential(
        grouped ? { ...base, sharing: { groups: groups.map((g) => ({ name: g.name.trim(), threshold: g.threshold, custodians: g.custodians })) } } : { ...base, custodians: only.custodians, threshold: only.threshold },
      );
      setSecret('');
      setName('');
      setValues({});
      setGroups([{ name: 'custodians', threshold: 2, custodians: [] }]);
      setKind('signing-key');
      setSource('generate');
      setAlg('ES256');
      onCreated(created);
    });
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-credential-title" data-testid="credential-form">
      <h2 id="new-credential-title">New credential</h2>
      <div className="grid-2">
        <Field label="Name" hint="2–64 characters: a–z, 0–9, dot, underscore, dash.">
          <input name="name" required pattern="[a-z0-9][a-z0-9._\-]{1,63}" value={name} onChange={(e) => setName(e.target.value)} placeholder="prod-release-key" />
        </Field>
        <label>
          Kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as CredentialKind)}>
            {CREDENTIAL_KINDS.map((k) => (
              <option key={k} value={k}>
                {KINDS[k].label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {spec.fields.length > 0 && (
        <fieldset>
          <legend>Configuration</legend>
          <div className="grid-2">
            {spec.fields.map((f) =>
              f.type === 'checkbox' ? (
                <label key={f.key} className="checkbox">
                  <input type="checkbox" checked={(values[f.key] ?? f.defaultChecked) === true} onChange={(e) => setValues({ ...values, [f.key]: e.target.checked })} /> {f.label}
                  {f.hint !== undefined && <span className="hint">{f.hint}</span>}
                </label>
              ) : (
                <label key={f.key}>
                  {f.label}
                  <input
                    name={`config-${f.key}`}
                    type={f.type}
                    required={f.required}
                    placeholder={f.placeholder}
                    value={typeof values[f.key] === 'string' ? (values[f.key] as string) : ''}
                    onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                  />
                  {f.hint !== undefined && <span className="hint">{f.hint}</span>}
                </label>
              ),
            )}
          </div>
        </fieldset>
      )}
      {kind === 'signing-key' && (
        <fieldset data-testid="key-source">
          <legend>Key</legend>
          <label className="checkbox">
            <input type="radio" name="key-source" value="generate" checked={source === 'generate'} onChange={() => setSource('generate')} /> Generate the key here
            <span className="hint">The gateway generates the key pair and splits it at once: nobody, not even you, ever holds the private key. You get its public key.</span>
          </label>
          {source === 'generate' && (
            <label className="narrow">
              Algorithm
              <select name="alg" value={alg} onChange={(e) => setAlg(e.target.value as GeneratedSigningAlg)}>
                {GENERATED_SIGNING_ALGS.map((a) => (
                  <option key={a} value={a}>
                    {a === 'ES256' ? 'ES256 (EC P-256)' : 'EdDSA (Ed25519)'}
                  </option>
                ))}
              </select>
            </label>
          )}
          <label className="checkbox">
            <input type="radio" name="key-source" value="paste" checked={source === 'paste'} onChange={() => setSource('paste')} /> Paste an existing private key
            <span className="hint">Only for a key that already exists elsewhere: whoever pasted it has held it.</span>
          </label>
        </fieldset>
      )}
      {!generating && (
      <label>
        {spec.secretLabel}
        {spec.multiline ? (
          <textarea name="secret" required rows={5} spellCheck={false} autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
        ) : (
          <input name="secret" type="password" required autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
        )}
        <span className="hint">
          {spec.secretHint} The gateway splits it into shares sealed to the custodians and keeps no plaintext copy.
        </span>
      </label>
      )}
      {candidates.length > 8 && (
        <Field label="Find custodians by name" hint="Narrows the lists below; those already chosen stay listed." className="narrow">
          <input type="search" name="custodian-filter" autoComplete="off" value={custodianFilter} onChange={(e) => setCustodianFilter(e.target.value)} placeholder="alice" />
        </Field>
      )}
      {groups.map((group, at) => {
        const elsewhere = new Map(groups.flatMap((g, i) => (i === at ? [] : g.custodians.map((id) => [id, g.name.trim() || `group ${i + 1}`] as const))));
        return (
          <fieldset key={at} data-testid={`sharing-group-${at}`} className={grouped ? 'stack sharing-group' : 'stack'}>
            <legend>{grouped ? `Group ${at + 1}` : 'Custodians'}</legend>
            {grouped && (
              <div className="grid-2">
                <label>
                  Group name
                  <input name={`group-name-${at}`} required maxLength={64} value={group.name} onChange={(e) => update(at, { name: e.target.value })} placeholder={at === 0 ? 'sre' : 'security'} />
                </label>
                <div>
                  <button type="button" className="secondary" onClick={() => removeGroup(at)}>
                    Remove group {at + 1}
                  </button>
                </div>
              </div>
            )}
            {candidates.length === 0 ? (
              <p className="muted">No user has the operator role yet. An admin creates operators; each enrols keys before holding a share.</p>
            ) : (
              <ul className="plain">
                {candidates.filter((u) => shown(u) || group.custodians.includes(u.id)).map((u) => (
                  <li key={u.id}>
                    <label className="checkbox">
                      <input
                        type="checkbox"
                        name="custodian"
                        value={u.username}
                        disabled={u.keysEnrolled !== true || elsewhere.has(u.id)}
                        checked={group.custodians.includes(u.id)}
                        onChange={(e) => toggle(at, u.id, e.target.checked)}
                      />{' '}
                      {u.displayName} <span className="muted">({u.username})</span>{' '}
                      {u.keysEnrolled === true ? <span className="tag tag-ok">keys enrolled</span> : <span className="tag tag-warn">no keys yet: cannot hold a share</span>}
                      {elsewhere.has(u.id) && <span className="tag">in {elsewhere.get(u.id)}</span>}
                    </label>
                  </li>
                ))}
              </ul>
            )}
            <label className="narrow">
              Threshold (k)
              <input name={grouped ? `threshold-${at}` : 'threshold'} type="number" min={1} max={Math.max(1, group.custodians.length)} value={group.threshold} onChange={(e) => update(at, { threshold: Number(e.target.value) })} />
              <span className="hint">
                {group.custodians.length === 0
                  ? 'Choose the custodians first, then how many of them must approve.'
                  : group.threshold > group.custodians.length
                    ? `Only ${group.custodians.length} custodian${group.custodians.length === 1 ? ' is' : 's are'} chosen: choose more, or lower the threshold.`
                    : `Any ${group.threshold} of the ${group.custodians.length} chosen custodian${group.custodians.length === 1 ? '' : 's'}${grouped ? ' of this group.' : ' can reconstruct it.'}`}
              </span>
            </label>
          </fieldset>
        );
      })}
      <div className="stack">
        <p data-testid="sharing-summary">
          <strong>{sharingSummary(groups, nameOf)}</strong>
        </p>
        {grouped && (
          <p className="hint">
            The data key is split across the groups first, then within each: without {groups.map((g) => g.threshold).join(' + ')} approvals from the right groups the
            credential cannot be rebuilt, whatever a policy or the database says. Policies need at least {groups.reduce((n, g) => n + g.threshold, 0)} approvals.
          </p>
        )}
        {groups.length < 16 && (
          <div>
            <button type="button" className="secondary" onClick={addGroup}>
              Add group
            </button>
          </div>
        )}
      </div>
      <FormFooter error={error} busy={busy} busyLabel={generating ? 'Generating, splitting and sealing the key…' : 'Splitting and sealing the secret…'} label="Create credential" />
    </form>
  );
}

const REASON_LABELS: Record<string, string> = {
  disabled: 'disabled',
  no_operator_role: 'not an operator',
  keys_changed: 'keys changed',
  check_in_overdue: 'check-in overdue',
};

/** The quorum margin (spec §4a): live custodians minus threshold; below 1, one more departure loses the credential. */
function MarginCell({ health, onReshare }: { health: CredentialHealth | null | undefined; onReshare?: () => void }) {
  if (health === undefined) return <span className="muted">…</span>;
  if (health === null) return <span className="muted">unknown</span>;
  const notLive = health.groups.flatMap((g) => g.custodians).filter((c) => !c.live);
  const who = notLive.map((c) => `${c.username} (${c.reasons.map((r) => REASON_LABELS[r] ?? r).join(', ')})`).join('; ');
  if (health.margin >= 1) return <span className="tag tag-ok" title={who === '' ? 'every custodian counts' : `not counting: ${who}`}>{health.margin}</span>;
  return (
    <span className="tag tag-warn" role="alert">
      {health.margin}:{' '}
      {health.margin === 0 ? 'one more departure loses this credential: re-share now' : 'too few custodians count to rebuild it now: re-share or bring them back'}
      {who !== '' && <span className="hint"> Not counting: {who}.</span>}
      {onReshare !== undefined && (
        <>
          {' '}
          <button type="button" className="small" onClick={onReshare} data-testid="reshare-now">
            Re-share now
          </button>
        </>
      )}
    </span>
  );
}

export function CredentialsPage() {
  const credentials = useLoad(() => api.listCredentials(), []);
  const users = useLoad(() => api.listUsers(), []);
  const healths = useLoad(
    async () => new Map(await Promise.all((credentials.data ?? []).map(async (c) => [c.id, await api.getCredentialHealth(c.id).catch(() => null)] as const))),
    [credentials.data],
  );
  const [created, setCreated] = useState<Credential | null>(null);
  const [resharing, setResharing] = useState<Credential | null>(null);
  const { me } = useSession();
  const lead = me.roles.includes('security_lead');
  const affected = useLoad(() => (lead ? api.custodyAffected() : Promise.resolve([])), [lead, credentials.data]);
  const byId = new Map((users.data ?? []).map((u) => [u.id, u]));
  const name = useName();
  const openReshare = lead && users.data !== undefined ? (c: Credential) => () => setResharing(c) : undefined;

  return (
    <section className="stack">
      <h1>Credentials</h1>
      {created !== null && (
        <Notice tone="success" role="status">
          Credential <code>{created.name}</code> created:{' '}
          {created.sharing.groups.length > 1
            ? created.sharing.groups.map((g) => `${g.name} ${g.threshold} of ${g.custodians.length}`).join(' AND ')
            : `${created.threshold} of ${created.custodians.length} custodians`}
          . Add a policy so that requests can use it.
          {created.publicJwk !== undefined && (
            <>
              {' '}
              {created.generated === true ? 'The key was generated here and split at once; its public key:' : 'Its public key:'}
              <pre data-testid="public-jwk">{JSON.stringify(created.publicJwk, null, 2)}</pre>
            </>
          )}
        </Notice>
      )}
      <LoadedTable
        load={credentials}
        errorTitle="The credentials could not be loaded"
        what="credentials"
        empty="No credentials yet."
        columns={['Name', 'Kind', 'Quorum', 'Margin', 'Custodians', 'Version', 'Created', ...(lead ? ['Custody'] : [])]}
        testId="credentials-table"
        row={(c) => (
          <tr key={c.id}>
            <td>
              <Link href={`/credentials/${c.id}`}>
                <code>{c.name}</code>
              </Link>
            </td>
            <td>{c.kind}</td>
            <td data-testid="credential-quorum">
              {c.sharing.groups.length > 1
                ? c.sharing.groups.map((g) => `${g.name} ${g.threshold} of ${g.custodians.length}`).join(' AND ')
                : `${c.threshold} of ${c.custodians.length}`}
            </td>
            <td data-testid="margin" data-margin={healths.data?.get(c.id)?.margin}>
              <MarginCell health={healths.data?.get(c.id)} onReshare={openReshare?.(c)} />
            </td>
            <td>
              {c.custodians.map((cu) => {
                const u = byId.get(cu.userId);
                return (
                  <span key={cu.userId} className="tag">
                    {cu.grp !== undefined ? `${c.sharing.groups[cu.grp]?.name ?? cu.grp} ` : ''}#{cu.index} {u?.username ?? name(cu.userId, 'user')}
                    {u !== undefined && u.keysEnrolled !== true && ' (keys missing)'}
                  </span>
                );
              })}
            </td>
            <td>{c.version}</td>
            <td>{formatTime(c.createdAt)}</td>
            {lead && (
              <td>
                <button type="button" className="secondary small" disabled={openReshare === undefined} onClick={openReshare?.(c)} data-testid="reshare">
                  Re-share…
                </button>
              </td>
            )}
          </tr>
        )}
      />
      {resharing !== null && users.data !== undefined && (
        <ReshareForm key={resharing.id} credential={resharing} health={healths.data?.get(resharing.id) ?? null} users={users.data} onClose={() => setResharing(null)} />
      )}
      {affected.data !== undefined && <AffectedCredentialsPanel affected={affected.data} onSubmitted={credentials.reload} />}
      {affected.error !== undefined && <ErrorMessage title="The credentials that lost a live share could not be loaded" error={affected.error} onRetry={affected.reload} />}
      {users.error !== undefined && <ErrorMessage title="The list of custodians could not be loaded" error={users.error} onRetry={users.reload} />}
      {users.data !== undefined && (
        <CreateCredential
          users={users.data}
          onCreated={(c) => {
            setCreated(c);
            credentials.reload();
          }}
        />
      )}
      {users.data === undefined && users.error === undefined && <Loading what="custodians" />}
    </section>
  );
}
