import { useState, type FormEvent } from 'react';
import { api, ROLES, type Role, type User } from '../api.ts';
import { Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { RoleChecks } from '../components/role-checks.tsx';
import { useLoad } from '../use-load.ts';
import { useSubmit } from '../use-submit.ts';

function CreateUser({ onCreated }: { onCreated: (u: User) => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(['operator']);
  const [groups, setGroups] = useState('');
  const { busy, error, run } = useSubmit();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      const created = await api.createUser({
        username: username.trim(),
        displayName: displayName.trim() === '' ? username.trim() : displayName.trim(),
        password,
        roles,
        groups: groups
          .split(/[\s,]+/)
          .map((g) => g.trim())
          .filter((g) => g !== ''),
      });
      setUsername('');
      setDisplayName('');
      setPassword('');
      setGroups('');
      onCreated(created);
    });
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <div className="grid-2">
        <Field label="Username">
          <input name="username" required autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
        </Field>
        <Field label="Display name">
          <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </Field>
        <Field label="Initial password" hint="At least 12 characters; hand it over out of band.">
          <input name="password" type="password" required minLength={12} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <Field label="Groups" hint="Comma-separated; policies can require approvers from groups.">
          <input name="groups" value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="sre, dba" />
        </Field>
      </div>
      <RoleChecks roles={roles} onChange={setRoles} />
      <FormFooter error={error} busy={busy} busyLabel="Creating the user…" label="Create user" />
    </form>
  );
}

export function UsersPage() {
  const users = useLoad(() => api.listUsers(), []);
  const [created, setCreated] = useState<User | null>(null);
  return (
    <section className="stack">
      <h1>Users</h1>
      {created !== null && (
        <Notice tone="success" role="status">
          User <code>{created.username}</code> created with roles {created.roles.join(', ') || 'none'}.
        </Notice>
      )}
      <LoadedTable
        load={users}
        errorTitle="The users could not be loaded"
        what="users"
        empty="No users."
        columns={['Username', 'Name', 'Roles', 'Groups', 'Custodian keys']}
        row={(u) => (
          <tr key={u.id}>
            <td>
              <code>{u.username}</code>
            </td>
            <td>{u.displayName}</td>
            <td>{u.roles.join(', ')}</td>
            <td>{u.groups.join(', ')}</td>
            <td>{u.keysEnrolled === true ? <span className="tag tag-ok">enrolled</span> : <span className="tag">none</span>}</td>
          </tr>
        )}
      />
      <CreateUser
        onCreated={(u) => {
          setCreated(u);
          users.reload();
        }}
      />
      <p className="muted small">Roles: {ROLES.join(', ')}. Changing roles of existing users is not offered by the API yet.</p>
    </section>
  );
}
