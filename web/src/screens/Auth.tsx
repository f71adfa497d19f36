import { type FormEvent, useState } from 'react';
import { ApiError, api, login } from '../api.ts';
import { navigate } from '../router.ts';

export function Auth({ mode }: { mode: 'login' | 'signup' }) {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (mode === 'signup') {
        await api('/users', { method: 'POST', body: { username, email, password } });
        setNote('Account created. Logging you in…');
      }
      await login(username, password);
      navigate('/trade');
    } catch (err) {
      const p = err instanceof ApiError ? err : null;
      const field = p?.problem.errors?.[0];
      setError(field?.field ? `${field.field}: ${field.detail ?? p?.message}` : (p?.message ?? String(err)));
    } finally {
      setBusy(false);
    }
  }

  const signup = mode === 'signup';
  return (
    <form className="auth card" onSubmit={submit} aria-labelledby="auth-title">
      <h1 id="auth-title">{signup ? 'Create your Bourse account' : 'Log in to Bourse'}</h1>
      <label>
        Username{signup ? '' : ' or email'}
        <input
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      {signup && (
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
      )}
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={signup ? 'new-password' : 'current-password'}
          required
          minLength={signup ? 12 : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {signup && <p className="muted small">12 to 128 characters, not containing your username or email.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {note && <p role="status">{note}</p>}
      <button type="submit" className="primary" disabled={busy}>
        {signup ? 'Sign up' : 'Log in'}
      </button>
      <p>
        {signup ? 'Already registered? ' : 'New here? '}
        <a
          href={signup ? '/login' : '/signup'}
          onClick={(e) => {
            e.preventDefault();
            navigate(signup ? '/login' : '/signup');
          }}
        >
          {signup ? 'Log in' : 'Create an account'}
        </a>
      </p>
    </form>
  );
}
