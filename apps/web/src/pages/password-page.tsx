import { useState, type FormEvent } from 'react';
import { api, ApiError, describeError, type Me } from '../api.ts';
import { Notice } from '../components/feedback.tsx';
import { Field, FormFooter } from '../components/form-parts.tsx';
import { useSession } from '../session.tsx';

/** The gateway's minimum (PUT /me/password); checked here first so the form says what to do. */
const MIN_PASSWORD_LENGTH = 12;

function passwordProblem(current: string, next: string, again: string): string | null {
  if (next.length < MIN_PASSWORD_LENGTH) return `Choose a new password of at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (next === current) return 'Choose a new password that differs from the current one.';
  if (next !== again) return 'The two new passwords differ: type the same one twice.';
  return null;
}

function describeChangeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'AUTH_INVALID_CREDENTIALS') return 'The current password is wrong.';
    if (error.code === 'PASSWORD_UNCHANGED') return 'Choose a new password that differs from the current one.';
    if (error.code === 'TOO_MANY_ATTEMPTS') return `Too many wrong passwords. ${error.detail}`;
  }
  return describeError(error);
}

/**
 * Current password, new one twice. The change ends every session of the user, this
 * one too (PUT /me/password): the form signs in again with the new password and hands
 * on the fresh `me`.
 */
export function PasswordChangeForm({ me, onChanged, submitLabel = 'Change password' }: { me: Me; onChanged: (me: Me) => void; submitLabel?: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = passwordProblem(current, next, again);
    setError(problem);
    if (problem !== null) return;
    setBusy(true);
    try {
      await api.changePassword({ currentPassword: current, newPassword: next });
    } catch (err) {
      setError(describeChangeError(err));
      setBusy(false);
      return;
    }
    try {
      await api.login(me.username, next);
      onChanged(await api.me());
    } catch (err) {
      setError(`Your password was changed, but signing in again failed: ${describeError(err)} Sign in with the new password.`);
      setBusy(false);
    }
  };

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} data-testid="password-form" noValidate>
      {/* For password managers: which account this is. */}
      <input type="hidden" name="username" autoComplete="username" value={me.username} />
      <Field label="Current password">
        <input name="currentPassword" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </Field>
      <Field label="New password" hint={`At least ${MIN_PASSWORD_LENGTH} characters, not the current one.`}>
        <input name="newPassword" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD_LENGTH} value={next} onChange={(e) => setNext(e.target.value)} />
      </Field>
      <Field label="New password again">
        <input name="newPasswordAgain" type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
      </Field>
      <FormFooter error={error} busy={busy} busyLabel="Changing the password…" label={submitLabel} />
    </form>
  );
}

/** After signing in with a password an admin chose: nothing else until the user has chosen their own. */
export function ForcedPasswordChange({ me, onChanged, onSignOut }: { me: Me; onChanged: (me: Me) => void; onSignOut: () => void }) {
  return (
    <main id="main" className="login">
      <div className="card login-card stack" aria-labelledby="forced-password-title" data-testid="forced-password-change">
        <h1 id="forced-password-title">Choose your own password</h1>
        <p>
          Welcome, {me.displayName}. Your password was set by an admin, so someone else knows it. Choose a new one that only you know before you continue.
        </p>
        <PasswordChangeForm me={me} onChanged={onChanged} submitLabel="Set my password and continue" />
        <button type="button" className="secondary small" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </main>
  );
}

/** /me/password, from the user menu. */
export function ChangePasswordPage() {
  const session = useSession();
  const [changes, setChanges] = useState(0);
  if (session.me.signIn !== 'password') {
    return (
      <section className="stack">
        <h1>Change password</h1>
        <p>{session.me.signIn === 'sso' ? 'You sign in through single sign-on: change your password at your identity provider.' : 'A service account has no password.'}</p>
      </section>
    );
  }
  return (
    <section className="stack">
      <h1>Change password</h1>
      <p className="muted">Changing your password signs you out everywhere else: every other browser and every qg session of yours ends.</p>
      {changes > 0 && (
        <Notice tone="success" role="status">
          <span data-testid="password-changed">Your password was changed. Every other session of yours has ended.</span>
        </Notice>
      )}
      <PasswordChangeForm
        key={changes}
        me={session.me}
        onChanged={() => {
          setChanges((n) => n + 1);
          void session.refresh();
        }}
      />
    </section>
  );
}
