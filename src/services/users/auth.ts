/**
 * Authentication at this service's routes: `Authorization: Bearer <access token>` or the API key
 * headers. (Behind the gateway the edge verifies too; verifying here as well keeps the service safe
 * when reached directly.) Identities live in a WeakMap rather than on a request decorator, so this
 * plugin adds nothing to the Fastify types that other plugins see.
 */
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role, VerifiedIdentity } from './client.ts';
import type { Authenticator } from './identity.ts';
import { forbidden, problem, unauthorized } from './problems.ts';

export const API_KEY_ID_HEADER = 'apca-api-key-id';
export const API_KEY_SECRET_HEADER = 'apca-api-secret-key';

/**
 * - `session`: an access token only (credential management, password change, logout);
 * - `any`: an access token or an API key;
 * - `optional`: like `any`, but no credentials at all is fine (registration). Bad ones never are.
 */
export type AuthMode = 'session' | 'any' | 'optional';

const identities = new WeakMap<FastifyRequest, VerifiedIdentity>();

export function identityOf(req: FastifyRequest): VerifiedIdentity {
  const id = identities.get(req);
  if (!id) throw unauthorized('Authentication required', 'invalid_request');
  return id;
}

export function maybeIdentityOf(req: FastifyRequest): VerifiedIdentity | undefined {
  return identities.get(req);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

export async function identify(
  auth: Authenticator,
  req: FastifyRequest,
  mode: AuthMode,
): Promise<VerifiedIdentity | null> {
  const authorization = header(req, 'authorization');
  const keyId = header(req, API_KEY_ID_HEADER);
  const secret = header(req, API_KEY_SECRET_HEADER);
  if (authorization !== undefined) {
    const m = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
    if (!m?.[1]) throw unauthorized('Authorization must be "Bearer <access token>"', 'invalid_request');
    const id = await auth.fromAccessToken(m[1]);
    if (!id) throw unauthorized('The access token is invalid, expired or revoked');
    return id;
  }
  if (keyId !== undefined || secret !== undefined) {
    if (mode === 'session') {
      throw problem(
        403,
        'session-required',
        'Session required',
        'This operation needs a login, not an API key',
      );
    }
    if (keyId === undefined || secret === undefined) {
      throw unauthorized('Send both APCA-API-KEY-ID and APCA-API-SECRET-KEY', 'invalid_request');
    }
    const id = await auth.fromApiKey(keyId, secret);
    if (!id) throw unauthorized('The API key is invalid or revoked');
    return id;
  }
  if (mode === 'optional') return null;
  throw unauthorized('Authentication required', 'invalid_request');
}

/** An onRequest hook: credentials and role are checked before the body is even parsed. */
export function authenticate(
  auth: Authenticator,
  mode: AuthMode,
  roles?: readonly Role[],
): onRequestAsyncHookHandler {
  return async (req) => {
    const id = await identify(auth, req, mode);
    if (!id) return;
    if (roles && !roles.includes(id.role)) throw forbidden();
    identities.set(req, id);
  };
}
