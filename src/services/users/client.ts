/**
 * The users service as other parts of Bourse see it (the gateway first): verify a credential into
 * an identity, look users up, ask whether one user may act for another. Two implementations: the
 * in-process one (`createUsersService(...).client`) and `createHttpUsersClient` for a users service
 * in another process. This file imports nothing of the service's internals but its API documentation
 * (plain data: the public routes' schemas and examples, which the gateway puts in its OpenAPI document).
 */

import { deadline } from '../../platform/http/deadline.ts';
import { FORWARDED_HEADERS, INTERNAL_TOKEN_PROBLEM } from '../../platform/http/forwarded-identity.ts';
import { PROBLEM_CONTENT_TYPE, type Problem, ProblemError } from '../../platform/http/problem.ts';

export { type RouteDocs, usersApiDocs } from './api-docs.ts';

const isProblem = (res: Response): boolean =>
  (res.headers.get('content-type') ?? '').startsWith(PROBLEM_CONTENT_TYPE);

export type Role = 'investor' | 'broker' | 'admin';

export interface Identity {
  userId: string;
  role: Role;
  /** the tenant; null only for an admin outside every brokerage */
  brokerageId: string | null;
  username: string;
}

export interface VerifiedIdentity extends Identity {
  method: 'access_token' | 'api_key';
  /** the session id (access token) or the API key id */
  credentialId: string;
}

export interface UserView {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  role: Role;
  brokerage_id: string | null;
  created_at: string;
}

export interface UserPage {
  users: UserView[];
  next_cursor: string | null;
}

export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

export interface UsersClient {
  /** A live access token's identity, or null (bad signature, expired, revoked session). */
  verifyAccessToken(token: string): Promise<VerifiedIdentity | null>;
  /** The identity behind an `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` pair, or null. */
  verifyApiKey(keyId: string, secretKey: string): Promise<VerifiedIdentity | null>;
  getUser(userId: string): Promise<UserView | null>;
  listUsers(q?: { brokerageId?: string; role?: Role; limit?: number; cursor?: string }): Promise<UserPage>;
  /**
   * Whether `actor` may act on `targetUserId`'s account (orders, funding, reads): themselves, an
   * admin, or a broker for an investor of the broker's own brokerage. False for unknown users.
   */
  canActFor(actor: Identity, targetUserId: string): Promise<boolean>;
  /** The public keys that verify access tokens (current and recently rotated). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
}

/** Header that carries the shared internal token on /internal routes (forwarded-identity.ts). */
export const INTERNAL_TOKEN_HEADER = FORWARDED_HEADERS.token;

/** Where a login presents its device token (devices.ts): this header, or this cookie. */
export const DEVICE_HEADER = 'bourse-device';
export const DEVICE_COOKIE = 'bourse_device';

/** The device token a request presents: the header, else the cookie. */
export function presentedDeviceToken(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const header = headers[DEVICE_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const cookie = headers.cookie;
  if (typeof cookie !== 'string') return undefined;
  for (const pair of cookie.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === DEVICE_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

export interface HttpUsersClientOptions {
  /** e.g. http://127.0.0.1:3001 (with the prefix the service is mounted at, if any) */
  baseUrl: string;
  /** the users service's internal token (derived from BOURSE_SECRET; see the service's `internalToken`) */
  internalToken: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createHttpUsersClient(opts: HttpUsersClientOptions): UsersClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 5000;

  /** the call, its answer's body read included, within timeoutMs */
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T | null> {
    const limit = deadline(timeoutMs);
    try {
      return await send<T>(method, path, body, limit.signal);
    } finally {
      limit.clear();
    }
  }

  async function send<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<T | null> {
    const init: RequestInit = {
      method,
      headers: {
        [INTERNAL_TOKEN_HEADER]: opts.internalToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      signal,
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await doFetch(base + path, init);
    // 401/404 are answers ("no such identity / user"), unless the service refused our internal
    // token: that is a misconfigured deployment, not a bad credential
    if (res.status === 401 || res.status === 404) {
      const type =
        res.status === 401 ? ((await res.json().catch(() => ({}))) as { type?: unknown }).type : '';
      if (type === INTERNAL_TOKEN_PROBLEM.type)
        throw new Error(`users service: ${method} ${path.split('?')[0]} refused the internal token (401)`);
      await res.body?.cancel().catch(() => {});
      return null;
    }
    if ((res.status === 400 || res.status === 422) && isProblem(res)) {
      // the caller's bad input (a malformed id, say): the same 4xx for whoever asked, not a failure;
      // a 403 here means a wrong internal token, which is this deployment's fault, not the caller's
      throw new ProblemError((await res.json()) as Problem);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`users service: ${method} ${path.split('?')[0]} answered ${res.status}`);
    }
    return (await res.json()) as T;
  }

  return {
    verifyAccessToken: (token) => call<VerifiedIdentity>('POST', '/internal/verify', { access_token: token }),
    verifyApiKey: (keyId, secretKey) =>
      call<VerifiedIdentity>('POST', '/internal/verify', { key_id: keyId, secret_key: secretKey }),
    getUser: (userId) => call<UserView>('GET', `/internal/users/${encodeURIComponent(userId)}`),
    async listUsers(q = {}) {
      const params = new URLSearchParams();
      if (q.brokerageId) params.set('brokerage_id', q.brokerageId);
      if (q.role) params.set('role', q.role);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      if (q.cursor) params.set('cursor', q.cursor);
      const page = await call<UserPage>('GET', `/internal/users?${params}`);
      return page ?? { users: [], next_cursor: null };
    },
    async canActFor(actor, targetUserId) {
      const r = await call<{ allowed: boolean }>('POST', '/internal/can-act-for', {
        actor,
        target_user_id: targetUserId,
      });
      return r?.allowed === true;
    },
    async jwks() {
      return (await call<{ keys: PublicJwk[] }>('GET', '/.well-known/jwks.json')) ?? { keys: [] };
    },
  };
}
