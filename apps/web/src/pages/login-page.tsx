import { useState, type FormEvent } from 'react';
import { api, ApiError, describeError, type Me } from '../api.ts';

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: (me: Me) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

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
        <label>
          Username
          <input name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
