import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, describeError, type AuthMethods, type Me } from '../api.ts';
import { markSignedIn } from '../signed-in-hint.ts';

/** What the gateway's `?sso_error=` reasons mean to the person who was sent back here. */
const SSO_ERRORS: Record<string, string> = {
  username_taken: 'Your username at the identity provider belongs to another account here. Ask an admin.',
  forbidden: 'This account is disabled. Ask an admin.',
  flow_missing: 'That sign-in did not start in this browser or took too long. Try again.',
  provider_error: 'The identity provider did not sign you in.',
  sso_unavailable: 'The identity provider cannot be reached. Try again in a moment.',
};

function ssoErrorFromUrl(): string | null {
  const reason = new URLSearchParams(window.location.search).get('sso_error');
  if (reason === null) return null;
  return SSO_ERRORS[reason] ?? `Single sign-on was refused (${reason.replace(/[^a-z_]/g, '')}). Try again, or ask an admin.`;
}

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: (me: Me) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(ssoErrorFromUrl);
  const [methods, setMethods] = useState<AuthMethods>({ password: true, sso: null });

  useEffect(() => {
    // Drop the reason from the address bar, so that a reload does not show it again.
    if (window.location.search.includes('sso_error=')) window.history.replaceState(null, '', window.location.pathname);
    api.authMethods().then(setMethods, () => undefined);
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(username.trim(), password);
      onLoggedIn(await api.me());
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : describeError(err));
      setBusy(false);
    }
  };

  const passwordFields = (
    <>
      <label>
        Username
        <input name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required autoFocus={methods.sso === null} value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" className={methods.sso === null ? undefined : 'secondary'} disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </>
  );

  return (
    <main id="main" className="login">
      <form className="card login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="brand-mark" aria-hidden="true">◆</span> quorumgate
        </h1>
        <p className="muted">Sign in to review and approve privileged operations.</p>
        {notice !== null && (
          <div role="status" className="notice notice-info">
            {notice}
          </div>
        )}
        {error !== null && (
          <div role="alert" className="notice notice-error">
            {error}
          </div>
        )}
        {methods.sso !== null && (
          <a className="button sso-button" href={methods.sso.loginUrl} data-testid="sso-login" onClick={markSignedIn}>
            Sign in with {methods.sso.name}
          </a>
        )}
        {methods.password ? (
          passwordFields
        ) : (
          <details>
            <summary>Administrator sign-in with a password</summary>
            <div className="stack">{passwordFields}</div>
          </details>
        )}
      </form>
    </main>
  );
}
