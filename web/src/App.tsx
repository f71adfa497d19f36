import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import {
  ApiError,
  actingFor,
  api,
  clearSession,
  hasSession,
  logout,
  onSessionChange,
  setActing,
} from './api.ts';
import { Toasts } from './components/Toasts.tsx';
import { navigate, usePath } from './router.ts';
import { Auth } from './screens/Auth.tsx';
import { Terminal } from './screens/Terminal.tsx';
import { applyTheme, initialTheme, type Theme } from './theme.ts';
import type { Me } from './types.ts';

const Portfolio = lazy(() => import('./screens/Portfolio.tsx'));
const Broker = lazy(() => import('./screens/Broker.tsx'));
const Operator = lazy(() => import('./screens/Operator.tsx'));

export function App() {
  const path = usePath();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [me, setMe] = useState<Me | null>(null);
  const [authed, setAuthed] = useState(hasSession());
  const [, bump] = useState(0);
  const [acting, setActingName] = useState<string | null>(null);

  useEffect(() => applyTheme(theme), [theme]);
  useEffect(
    () =>
      onSessionChange(() => {
        setAuthed(hasSession());
        bump((n) => n + 1);
      }),
    [],
  );

  const loadMe = useCallback(async () => {
    try {
      setMe(await api<Me>('/users/me'));
    } catch (err) {
      // api() already tried the refresh token: a 401 now means the session is over; anything
      // else (server restarting, network) is retried
      if (err instanceof ApiError && err.status === 401) clearSession();
      else setTimeout(() => void loadMe(), 3_000);
    }
  }, []);
  useEffect(() => {
    if (authed) void loadMe();
    else setMe(null);
  }, [authed, loadMe]);

  useEffect(() => {
    if (!authed && path !== '/login' && path !== '/signup') navigate('/login');
    if (authed && (path === '/login' || path === '/signup' || path === '/')) navigate('/trade');
  }, [authed, path]);

  if (!authed || path === '/login' || path === '/signup') {
    return (
      <div className="auth-page">
        <Auth mode={path === '/signup' ? 'signup' : 'login'} />
      </div>
    );
  }
  if (!me)
    return (
      <p className="loading" role="status">
        Loading your account…
      </p>
    );

  const link = (to: string, label: string) => (
    <a
      href={to}
      aria-current={path.startsWith(to) ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {label}
    </a>
  );
  const actingId = actingFor();
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <strong className="brand">Bourse</strong>
        <nav aria-label="Main">
          {link('/trade', 'Trade')}
          {link('/portfolio', 'Portfolio')}
          {(me.role === 'broker' || me.role === 'admin') && link('/broker', 'Broker')}
          {me.role === 'admin' && link('/operator', 'Operator')}
        </nav>
        <span className="spacer" />
        {actingId && (
          <span className="acting" role="status">
            Acting for {acting ?? actingId}{' '}
            <button
              type="button"
              onClick={() => {
                setActing(null);
                setActingName(null);
              }}
            >
              Stop acting
            </button>
          </span>
        )}
        <span className="who" title={me.role}>
          {me.username} ({me.role})
        </span>
        <button
          type="button"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <button type="button" onClick={() => void logout(false)}>
          Log out
        </button>
        <button type="button" onClick={() => void logout(true)}>
          Log out everywhere
        </button>
      </header>
      <main id="main">
        <Suspense fallback={<p role="status">Loading…</p>}>
          {path.startsWith('/portfolio') ? (
            <Portfolio />
          ) : path.startsWith('/broker') && me.role !== 'investor' ? (
            <Broker
              me={me}
              onAct={(id, name) => {
                setActing(id);
                setActingName(name);
                navigate('/trade');
              }}
            />
          ) : path.startsWith('/operator') && me.role === 'admin' ? (
            <Operator />
          ) : (
            <Terminal me={me} />
          )}
        </Suspense>
      </main>
      <Toasts />
    </div>
  );
}
