/**
 * The terminal's one door to the gateway (same origin): JSON in and out, the access token on every
 * call, a silent refresh before it expires (and once more on a 401), problem+json turned into an
 * ApiError whose message is the API's own detail. The refresh token rotates on every use, so
 * concurrent refreshes share one request: a second use of the old token would end the session.
 */

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  message?: string;
  /** each wrong field: the part of the request, its name, JSON pointer, and what is wrong */
  errors?: { in?: string; field?: string; pointer?: string; detail?: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.message ?? problem.title ?? `HTTP ${status}`);
  }
  /** the route does not exist (yet) or its service is down: show "unavailable" */
  get unavailable(): boolean {
    return this.status === 404 || this.status === 502 || this.status === 503 || this.status === 0;
  }
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

interface Session {
  access: string;
  refresh: string;
  /** ms since epoch */
  expiresAt: number;
}

const STORAGE_KEY = 'bourse.session';
/** refresh this long before the access token expires */
const REFRESH_EARLY_MS = 60_000;

let session: Session | null = loadSession();
let refreshing: Promise<boolean> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let acting: string | null = null;
const sessionListeners = new Set<() => void>();

function loadSession(): Session | null {
  try {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function saveSession(s: Session | null): void {
  session = s;
  try {
    if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // private mode: the session lives in memory only
  }
  clearTimeout(refreshTimer);
  if (s) {
    const wait = Math.max(1_000, s.expiresAt - Date.now() - REFRESH_EARLY_MS);
    refreshTimer = setTimeout(() => void refresh(), wait);
  }
  for (const l of sessionListeners) l();
}

export function onSessionChange(l: () => void): () => void {
  sessionListeners.add(l);
  return () => sessionListeners.delete(l);
}

export const hasSession = (): boolean => session !== null;
export const accessToken = (): string | null => session?.access ?? null;

export function adoptTokens(t: Tokens): void {
  saveSession({
    access: t.access_token,
    refresh: t.refresh_token,
    expiresAt: Date.now() + t.expires_in * 1000,
  });
}

export function clearSession(): void {
  acting = null;
  saveSession(null);
}

/** Rotates the refresh token; false (and the session is gone) when the server refuses it. */
export function refresh(): Promise<boolean> {
  if (refreshing) return refreshing;
  const current = session;
  if (!current) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch('/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh }),
      });
      if (res.ok) {
        adoptTokens((await res.json()) as Tokens);
        return true;
      }
      if (res.status === 401 || res.status === 400) clearSession();
      return false;
    } catch {
      // offline: keep the session and try again shortly
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => void refresh(), 5_000);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** The account a broker or admin acts for (null: their own). Sent on every trading call. */
export function setActing(accountId: string | null): void {
  acting = accountId;
  for (const l of sessionListeners) l();
}
export const actingFor = (): string | null => acting;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** send the acting account (trading routes); default: for /v2/ and /v1/reports paths */
  acting?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function url(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  if (session && session.expiresAt - Date.now() < 5_000) await refresh();
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (session) headers.authorization = `Bearer ${session.access}`;
  const useActing = opts.acting ?? (path.startsWith('/v2/') || path.startsWith('/v1/reports'));
  if (useActing && acting) headers['bourse-account-id'] = acting;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  return fetch(url(path, opts.query), {
    method: opts.method ?? 'GET',
    headers,
    ...(body !== undefined && { body }),
    ...(opts.signal && { signal: opts.signal }),
  });
}

async function problemOf(res: Response): Promise<ApiError> {
  let problem: Problem = { status: res.status, title: res.statusText };
  try {
    const text = await res.text();
    if (text) problem = { status: res.status, ...(JSON.parse(text) as Problem) };
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 404 && !problem.detail) problem.detail = 'Not found';
  return new ApiError(res.status, problem);
}

/** A raw response (downloads); throws ApiError on a non-2xx answer. */
export async function apiResponse(path: string, opts: RequestOptions = {}): Promise<Response> {
  let res: Response;
  try {
    res = await send(path, opts);
    if (res.status === 401 && session && (await refresh())) res = await send(path, opts);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, { title: 'Network error', detail: 'The server cannot be reached' });
  }
  if (!res.ok) throw await problemOf(res);
  return res;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await apiResponse(path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Login: tokens kept for this tab (sessionStorage), refreshed silently. */
export async function login(username: string, password: string): Promise<void> {
  const t = await api<Tokens>('/auth/login', { method: 'POST', body: { username, password } });
  adoptTokens(t);
}

export async function logout(everywhere = false): Promise<void> {
  const s = session;
  try {
    if (everywhere) await api('/auth/logout-all', { method: 'POST' });
    else if (s) await api('/auth/logout', { method: 'POST', body: { refresh_token: s.refresh } });
  } catch {
    // the local session ends whatever the server said
  }
  clearSession();
}

/** ws:// or wss:// on this origin */
export function wsUrl(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}
