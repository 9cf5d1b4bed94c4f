import { useState, type FormEvent } from 'react';
import { api, describeError, type Role, type ServiceAccount } from '../api.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { Empty, ErrorMessage, Loading } from '../components/feedback.tsx';
import { RoleChecks } from '../components/role-checks.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../use-load.ts';

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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<(ServiceAccount & { token: string }) | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setCreated(await api.createServiceAccount({ name: name.trim(), roles }));
      setName('');
      accounts.reload();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="stack">
      <h1>Service accounts</h1>
      {created !== null && <TokenOnce account={created} onDone={() => setCreated(null)} />}
      {accounts.error !== undefined && <ErrorMessage title="The service accounts could not be loaded" error={accounts.error} onRetry={accounts.reload} />}
      {accounts.data === undefined ? (
        accounts.error === undefined && <Loading what="service accounts" />
      ) : accounts.data.length === 0 ? (
        <Empty>No service accounts yet.</Empty>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Roles</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {accounts.data.map((a) => (
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
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-sa-title">
        <h2 id="new-sa-title">New service account</h2>
        <label>
          Name
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-release" />
        </label>
        <RoleChecks roles={roles} onChange={setRoles} />
        {error !== null && (
          <div role="alert" className="notice notice-error">
            {error}
          </div>
        )}
        <div>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating the account…' : 'Create service account'}
          </button>
        </div>
      </form>
    </section>
  );
}
