import { useState, type FormEvent } from 'react';
import { api, type Role, type ServiceAccount } from '../api.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { RoleChecks } from '../components/role-checks.tsx';
import { formatTime } from '../format.ts';
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

export function ServiceAccountsPage() {
  const accounts = useLoad(() => api.listServiceAccounts(), []);
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<Role[]>(['requester']);
  const { busy, error, run } = useSubmit();
  const [created, setCreated] = useState<(ServiceAccount & { token: string }) | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      setCreated(await api.createServiceAccount({ name: name.trim(), roles }));
      setName('');
      accounts.reload();
    });
  };

  return (
    <section className="stack">
      <h1>Service accounts</h1>
      {created !== null && <TokenOnce account={created} onDone={() => setCreated(null)} />}
      <LoadedTable
        load={accounts}
        errorTitle="The service accounts could not be loaded"
        what="service accounts"
        empty="No service accounts yet."
        columns={['Name', 'Id', 'Roles', 'Created']}
        row={(a) => (
          <tr key={a.id}>
            <td>
              <code>{a.name}</code>
            </td>
            <td>
              <code className="small">{a.id}</code>
            </td>
            <td>{a.roles.join(', ')}</td>
            <td>{formatTime(a.createdAt)}</td>
          </tr>
        )}
      />
      <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-sa-title">
        <h2 id="new-sa-title">New service account</h2>
        <Field label="Name">
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-release" />
        </Field>
        <RoleChecks roles={roles} onChange={setRoles} />
        <FormFooter error={error} busy={busy} busyLabel="Creating the account…" label="Create service account" />
      </form>
    </section>
  );
}
