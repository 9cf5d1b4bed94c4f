import { useState, type FormEvent, type ReactNode } from 'react';
import { api, ROLES, type Role, type User } from '../api.ts';
import { ConfirmRow } from '../components/confirm-row.tsx';
import { Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { LoadedTable } from '../components/loaded-table.tsx';
import { RoleChecks } from '../components/role-checks.tsx';
import { useSession } from '../session.tsx';
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
      setRoles(['operator']);
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

/** A temporary password for a reset: 18 random bytes, base64url (24 characters). */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

/** The admin's reset: a temporary password the user must change at their next sign-in; their sessions end now. */
function ResetPasswordRow({ user, columns, onDone, onCancel }: { user: User; columns: number; onDone: () => void; onCancel: () => void }) {
  const [password, setPassword] = useState(generatePassword);
  const { busy, error, setError, run } = useSubmit();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password.length < 12) {
      setError('Choose a temporary password of at least 12 characters.');
      return;
    }
    void run(async () => {
      await api.resetPassword(user.id, { password });
      onDone();
    });
  };

  return (
    <tr data-testid="password-reset">
      <td colSpan={columns}>
        <form className="stack" onSubmit={submit}>
          <p>
            Reset the password of <code>{user.username}</code>: every session of theirs ends now, and at their next sign-in they must replace this temporary password with one
            of their own. Hand it over out of band.
          </p>
          <Field label="Temporary password" hint="At least 12 characters. Copy it before you confirm: it is not shown again.">
            <input name="temporaryPassword" autoComplete="off" spellCheck={false} required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <FormFooter error={error} busy={busy} busyLabel="Resetting…" label={`Reset password of ${user.username}`} onCancel={onCancel} />
        </form>
      </td>
    </tr>
  );
}

function rolesText(roles: readonly Role[]): string {
  return roles.length === 0 ? 'none' : roles.join(', ');
}

/**
 * One user, and for an admin its actions: disable or enable (after a confirmation that names the
 * user) and an inline roles editor, each in a row under the user's.
 */
function UserRow({
  user,
  columns,
  manage,
  isMe,
  onChanged,
}: {
  user: User;
  columns: number;
  manage: boolean;
  isMe: boolean;
  onChanged: (updated: User, what: 'access' | 'roles' | 'password') => void;
}) {
  const [open, setOpen] = useState<'none' | 'access' | 'roles' | 'password'>('none');
  const [roles, setRoles] = useState<Role[]>(user.roles);
  const { busy, error, setError, run } = useSubmit();

  const show = (panel: 'none' | 'access' | 'roles' | 'password') => {
    setError(null);
    setRoles(user.roles);
    setOpen(open === panel ? 'none' : panel);
  };

  const setDisabled = () =>
    void run(async () => {
      const updated = await api.updateUser(user.id, { disabled: !user.disabled });
      setOpen('none');
      onChanged(updated, 'access');
    });

  const saveRoles = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const updated = await api.updateUser(user.id, { roles });
      setOpen('none');
      onChanged(updated, 'roles');
    });
  };

  const verb = user.disabled ? 'Enable' : 'Disable';
  return (
    <>
      <tr data-testid="user-row" data-username={user.username} data-disabled={String(user.disabled)}>
        <td>
          <code>{user.username}</code>
        </td>
        <td>{user.displayName}</td>
        <td>{user.roles.join(', ')}</td>
        <td>{user.groups.join(', ')}</td>
        <td>{user.keysEnrolled === true ? <span className="tag tag-ok">enrolled</span> : <span className="tag">none</span>}</td>
        <td data-testid="user-status">
          {user.disabled ? <span className="tag tag-warn">disabled</span> : <span className="tag tag-ok">active</span>}
          {user.mustChangePassword === true && (
            <>
              {' '}
              <span className="tag" title="They have not yet replaced the password an admin chose">
                password change pending
              </span>
            </>
          )}
        </td>
        {manage && (
          <td>
            <div className="actions">
              <button type="button" className="secondary small" aria-expanded={open === 'roles'} onClick={() => show('roles')}>
                Edit roles
              </button>
              {!isMe && user.signIn === 'password' && (
                <button type="button" className="secondary small" aria-expanded={open === 'password'} onClick={() => show('password')}>
                  Reset password
                </button>
              )}
              <button type="button" className={user.disabled ? 'secondary small' : 'danger small'} aria-expanded={open === 'access'} onClick={() => show('access')}>
                {verb}
              </button>
            </div>
          </td>
        )}
      </tr>
      {open === 'access' && (
        <ConfirmRow
          colSpan={columns}
          testId="user-confirm"
          question={`${verb} ${user.username}${isMe ? ' (your own account)' : ''}?`}
          confirmLabel={`${verb} ${user.username}`}
          busyLabel={user.disabled ? 'Enabling…' : 'Disabling…'}
          danger={!user.disabled}
          busy={busy}
          error={error}
          onConfirm={setDisabled}
          onCancel={() => show('none')}
        >
          {user.disabled ? (
            <p>They can sign in again with their current password, and their roles ({rolesText(user.roles)}) apply again.</p>
          ) : (
            <>
              <p>They cannot sign in any more, and every session and token of theirs is refused from their next call. An admin can enable the account again.</p>
              {user.roles.includes('operator') && (
                <p>They are a custodian: while disabled they cannot approve, so a credential that needs their share may not reach its quorum.</p>
              )}
              {isMe && <p className="danger-text">This is your own account: you will be signed out.</p>}
            </>
          )}
        </ConfirmRow>
      )}
      {open === 'password' && (
        <ResetPasswordRow
          user={user}
          columns={columns}
          onCancel={() => show('none')}
          onDone={() => {
            setOpen('none');
            onChanged(user, 'password');
          }}
        />
      )}
      {open === 'roles' && (
        <tr data-testid="role-editor">
          <td colSpan={columns}>
            <form className="stack" onSubmit={saveRoles}>
              <RoleChecks roles={roles} onChange={setRoles} legend={`Roles of ${user.username}`} />
              {isMe && !roles.includes('admin') && <p className="danger-text">Without the admin role you lose access to users and service accounts.</p>}
              <FormFooter error={error} busy={busy} busyLabel="Saving the roles…" label="Save roles" onCancel={() => show('none')} />
            </form>
          </td>
        </tr>
      )}
    </>
  );
}

export function UsersPage() {
  const session = useSession();
  // Security leads and auditors may read this list; only admins change it.
  const manage = session.has('admin');
  const users = useLoad(() => api.listUsers(), []);
  const [notice, setNotice] = useState<ReactNode>(null);
  const columns = ['Username', 'Name', 'Roles', 'Groups', 'Custodian keys', 'Status', ...(manage ? ['Actions'] : [])];

  const changed = (u: User, what: 'access' | 'roles' | 'password') => {
    setNotice(
      what === 'password' ? (
        <>
          Password of <code>{u.username}</code> reset: their sessions have ended, and they must choose a new password at their next sign-in.
        </>
      ) : what === 'roles' ? (
        <>
          Roles of <code>{u.username}</code> are now {rolesText(u.roles)}.
        </>
      ) : u.disabled ? (
        <>
          User <code>{u.username}</code> disabled: they cannot sign in, and their sessions and tokens are refused.
        </>
      ) : (
        <>
          User <code>{u.username}</code> enabled: they can sign in again.
        </>
      ),
    );
    users.reload();
  };

  return (
    <section className="stack">
      <h1>Users</h1>
      {notice !== null && (
        <Notice tone="success" role="status">
          <span data-testid="users-notice">{notice}</span>
        </Notice>
      )}
      <LoadedTable
        load={users}
        errorTitle="The users could not be loaded"
        what="users"
        empty="No users."
        columns={columns}
        testId="users-table"
        row={(u) => <UserRow key={u.id} user={u} columns={columns.length} manage={manage} isMe={u.id === session.me.id} onChanged={changed} />}
      />
      {manage && (
        <CreateUser
          onCreated={(u) => {
            setNotice(
              <>
                User <code>{u.username}</code> created with roles {rolesText(u.roles)}.
              </>,
            );
            users.reload();
          }}
        />
      )}
      <p className="muted small">Roles: {ROLES.join(', ')}.</p>
    </section>
  );
}
