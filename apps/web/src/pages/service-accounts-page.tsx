import { useState, type FormEvent } from 'react';
import { api, type Role, type ServiceAccount } from '../api.ts';
import { ConfirmRow } from '../components/confirm-row.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { RoleChecks } from '../components/role-checks.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

function TokenOnce({ account, onDone }: { account: ServiceAccount & { token: string }; onDone: () => void }) {
  return (
    <div className="notice notice-warning stack" role="status" data-testid="token-once">
      <p>
        <strong>Copy the token of {account.name} now: it is shown only once.</strong> The gateway keeps only a hash of it. Automation sends it as{' '}
        <code>Authorization: Bearer …</code>.
      </p>
      <pre className="code wrap" data-testid="service-token">
        {account.token}
      </pre>
      <div className="actions">
        <CopyButton text={account.token} label="Copy token" />
        <button type="button" className="secondary small" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

/** One account, and for an admin a Revoke action (after a confirmation that names it) while it is active. */
function AccountRow({ account, columns, manage, owner, onRevoked }: { account: ServiceAccount; columns: number; manage: boolean; owner: string; onRevoked: (account: ServiceAccount) => void }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, setError, run } = useSubmit();

  const show = (on: boolean) => {
    setError(null);
    setConfirming(on);
  };

  const revoke = () =>
    void run(async () => {
      await api.revokeServiceAccount(account.id);
      setConfirming(false);
      onRevoked(account);
    });

  return (
    <>
      <tr data-testid="service-account-row" data-name={account.name} data-revoked={String(account.revokedAt !== null)}>
        <td>
          <code>{account.name}</code>
        </td>
        <td>
          <code className="small">{account.id}</code>
        </td>
        <td>{account.roles.join(', ')}</td>
        <td data-testid="service-account-owner">{owner}</td>
        <td>{formatTime(account.createdAt)}</td>
        <td data-testid="service-account-status">
          {account.revokedAt !== null ? <span className="tag tag-warn">revoked {formatTime(account.revokedAt)}</span> : <span className="tag tag-ok">active</span>}
        </td>
        {manage && (
          <td>
            {account.revokedAt === null && (
              <button type="button" className="danger small" aria-expanded={confirming} onClick={() => show(!confirming)}>
                Revoke
              </button>
            )}
          </td>
        )}
      </tr>
      {confirming && account.revokedAt === null && (
        <ConfirmRow
          colSpan={columns}
          testId="service-account-confirm"
          question={`Revoke ${account.name}?`}
          confirmLabel={`Revoke ${account.name}`}
          busyLabel="Revoking…"
          danger
          busy={busy}
          error={error}
          onConfirm={revoke}
          onCancel={() => show(false)}
        >
          <p>Its token is refused from now on, for good: automation that uses it stops working. To go on, create a new account and hand over its token.</p>
        </ConfirmRow>
      )}
    </>
  );
}

export function ServiceAccountsPage() {
  const session = useSession();
  // Auditors may read this list; only admins change it.
  const manage = session.has('admin');
  const accounts = useLoad(() => api.listServiceAccounts(), []);
  const users = useLoad(() => api.listUsers(), []);
  const [name, setName] = useState('');
  // Empty: the gateway makes the creating admin the owner.
  const [ownerId, setOwnerId] = useState('');
  const [roles, setRoles] = useState<Role[]>(['requester']);
  const { busy, error, run } = useSubmit();
  const [created, setCreated] = useState<(ServiceAccount & { token: string }) | null>(null);
  const [revoked, setRevoked] = useState<ServiceAccount | null>(null);
  const columns = ['Name', 'Id', 'Roles', 'Owner', 'Created', 'Status', ...(manage ? ['Actions'] : [])];
  const ownerName = (id: string | null) => (id === null ? 'none' : (users.data?.find((u) => u.id === id)?.username ?? 'a user you cannot list'));
  const enabledUsers = (users.data ?? []).filter((u) => !u.disabled);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      setCreated(await api.createServiceAccount({ name: name.trim(), roles, ...(ownerId !== '' ? { ownerId } : {}) }));
      setRevoked(null);
      setName('');
      setOwnerId('');
      accounts.reload();
    });
  };

  return (
    <section className="stack">
      <h1>Service accounts</h1>
      {created !== null && <TokenOnce account={created} onDone={() => setCreated(null)} />}
      {revoked !== null && (
        <Notice tone="success" role="status">
          <span data-testid="service-accounts-notice">
            Service account <code>{revoked.name}</code> revoked: its token is refused from now on.
          </span>
        </Notice>
      )}
      <LoadedTable
        load={accounts}
        errorTitle="The service accounts could not be loaded"
        what="service accounts"
        empty="No service accounts yet."
        columns={columns}
        testId="service-accounts-table"
        row={(a) => (
          <AccountRow
            key={a.id}
            account={a}
            columns={columns.length}
            manage={manage}
            owner={ownerName(a.ownerId)}
            onRevoked={(gone) => {
              setRevoked(gone);
              // The token shown once is dead now: stop offering it.
              if (created?.id === gone.id) setCreated(null);
              accounts.reload();
            }}
          />
        )}
      />
      {manage && (
        <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-sa-title" data-testid="service-account-form">
          <h2 id="new-sa-title">New service account</h2>
          <Field label="Name">
            <input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-release" />
          </Field>
          <RoleChecks roles={roles} onChange={setRoles} />
          <Field label="Owner" hint="The person answerable for this automation. They count as its requester: a policy that forbids self-approval keeps them from approving what it asks for.">
            <select name="owner" value={ownerId} onChange={(e) => setOwnerId(e.target.value)}>
              <option value="">me ({session.me?.username ?? 'the signed-in admin'})</option>
              {enabledUsers
                .filter((u) => u.id !== session.me?.id)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.username}
                    {u.displayName !== u.username ? ` (${u.displayName})` : ''}
                  </option>
                ))}
            </select>
          </Field>
          <FormFooter error={error} busy={busy} busyLabel="Creating the account…" label="Create service account" />
        </form>
      )}
    </section>
  );
}
