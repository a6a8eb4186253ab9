import { useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../api/client';
import { useSession } from '../session/Session';
import { ErrorBox } from '../components/ui';

type Mode = 'password' | 'keys';

export function LoginPage() {
  const { login } = useSession();
  const [mode, setMode] = useState<Mode>('password');
  const [name, setName] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Signed in: the app leaves this page for the one that asked for it.
      await login(name.trim(), secret);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 401 ? 'Wrong credentials. Check them and try again.' : errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Cairn</h1>
        <p className="muted">Sign in to the model registry.</p>
        <fieldset className="segmented">
          <legend className="visually-hidden">Sign in with</legend>
          <label>
            <input type="radio" name="mode" value="password" checked={mode === 'password'} onChange={() => setMode('password')} />
            User and password
          </label>
          <label>
            <input type="radio" name="mode" value="keys" checked={mode === 'keys'} onChange={() => setMode('keys')} />
            Key pair
          </label>
        </fieldset>
        <label>
          {mode === 'password' ? 'User name' : 'Access key'}
          <input name="name" autoComplete={mode === 'password' ? 'username' : 'off'} value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </label>
        <label>
          {mode === 'password' ? 'Password' : 'Secret key'}
          <input name="secret" type="password" autoComplete={mode === 'password' ? 'current-password' : 'off'} value={secret} onChange={(e) => setSecret(e.target.value)} required />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          The admin user name and password, and an access key pair, are printed when the server starts for the first time.
        </p>
      </form>
    </main>
  );
}
