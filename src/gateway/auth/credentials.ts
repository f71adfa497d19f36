/**
 * Who is calling: `Authorization: Bearer <access JWT>` or Alpaca's `APCA-API-KEY-ID` +
 * `APCA-API-SECRET-KEY`, verified into the users service's identity.
 *
 * Access tokens are verified here, against the users service's JWKS (fetched once, refetched when
 * an unknown `kid` shows up after a key rotation): a forged or expired token never costs an
 * upstream call. A valid signature is not enough, though: logout and password changes end the
 * session at once, so the session's liveness is confirmed with the users service, and that answer
 * is trusted for `sessionCheckMs` (a revoked session keeps working at most that long here).
 * A verified signature is remembered until the token's `exp` (an EdDSA verification costs more
 * than the rest of the edge), so a session re-check asks only the users service, which verifies
 * the token again itself.
 * API keys are verified by the users service and trusted for `apiKeyCacheMs`.
 * Requests that find the same credential unchecked at once share one check: when a busy token's
 * session entry expires, hundreds of requests in flight would otherwise each ask the users service
 * (each an EdDSA verification there; the profile of cached quote reads at 1,000/s showed 6 % of
 * the process in them).
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import type { UsersClient, VerifiedIdentity } from '../../services/users/client.ts';
import type { GatewayConfig } from '../config.ts';
import { fail, unauthorized } from '../problems.ts';
import { TtlMap } from './ttl-map.ts';

export type Identity = VerifiedIdentity;

/** Runs a users-client call on some users instance. */
export type UsersCall = <T>(requestId: string, run: (users: UsersClient) => Promise<T>) => Promise<T>;

export interface Credentials {
  /** The caller's identity; null without credentials; a 401 GatewayError for wrong ones. */
  authenticate(
    headers: Record<string, string | string[] | undefined>,
    requestId: string,
  ): Promise<Identity | null>;
}

const JWT_ALG = 'EdDSA';
const MAX_TOKEN_LENGTH = 4096;
const JWKS_REFRESH_MS = 10_000;
const MAX_CACHED = 100_000;

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
};

export function createCredentials(config: GatewayConfig, users: UsersCall): Credentials {
  const sessions = new TtlMap<Identity>(MAX_CACHED);
  const apiKeys = new TtlMap<Identity>(MAX_CACHED);
  /** token → its exp (seconds), for tokens whose signature verified */
  const signed = new TtlMap<number>(MAX_CACHED);
  let jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  let jwksFetchedAt = 0;
  let fetching: Promise<void> | undefined;
  /** checks in progress, by token or API key: concurrent requests wait for the same one */
  const checking = new Map<string, Promise<Identity>>();
  const once = (key: string, check: () => Promise<Identity>): Promise<Identity> => {
    let pending = checking.get(key);
    if (!pending) {
      pending = check().finally(() => checking.delete(key));
      checking.set(key, pending);
    }
    return pending;
  };

  const refreshJwks = (requestId: string): Promise<void> => {
    fetching ??= users(requestId, (u) => u.jwks())
      .then((set) => {
        jwks = createLocalJWKSet(set as JSONWebKeySet);
        jwksFetchedAt = Date.now();
      })
      .finally(() => {
        fetching = undefined;
      });
    return fetching;
  };

  async function verifySignature(token: string, requestId: string): Promise<{ exp: number } | null> {
    if (!jwks) await refreshJwks(requestId);
    const options = {
      algorithms: [JWT_ALG],
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      typ: 'at+jwt',
    };
    try {
      const { payload } = await jwtVerify(token, jwks!, options);
      return typeof payload.exp === 'number' ? { exp: payload.exp } : null;
    } catch (err) {
      // a key rotated since the last fetch: fetch again (at most every JWKS_REFRESH_MS) and retry once
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') return null;
      if (Date.now() - jwksFetchedAt < JWKS_REFRESH_MS) return null;
      await refreshJwks(requestId);
      try {
        const { payload } = await jwtVerify(token, jwks!, options);
        return typeof payload.exp === 'number' ? { exp: payload.exp } : null;
      } catch {
        return null;
      }
    }
  }

  async function fromAccessToken(token: string, requestId: string): Promise<Identity> {
    const cached = sessions.get(token);
    if (cached) return cached;
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('Invalid access token');
    return once(`t:${token}`, () => checkAccessToken(token, requestId));
  }

  async function checkAccessToken(token: string, requestId: string): Promise<Identity> {
    let exp = signed.get(token);
    if (exp === undefined) {
      const claims = await verifySignature(token, requestId);
      if (!claims) throw unauthorized('Invalid or expired access token');
      exp = claims.exp;
      signed.set(token, exp, exp * 1000 - Date.now());
    }
    const identity = await users(requestId, (u) => u.verifyAccessToken(token));
    if (!identity) throw unauthorized('The session of this access token has ended');
    sessions.set(token, identity, Math.min(config.sessionCheckMs, exp * 1000 - Date.now()));
    return identity;
  }

  async function fromApiKey(keyId: string, secret: string, requestId: string): Promise<Identity> {
    const key = `${keyId}:${createHash('sha256').update(secret).digest('base64url')}`;
    const cached = apiKeys.get(key);
    if (cached) return cached;
    if (keyId.length > 64 || secret.length > 128) throw unauthorized('Invalid API key');
    return once(`k:${key}`, () => checkApiKey(key, keyId, secret, requestId));
  }

  async function checkApiKey(
    key: string,
    keyId: string,
    secret: string,
    requestId: string,
  ): Promise<Identity> {
    const identity = await users(requestId, (u) => u.verifyApiKey(keyId, secret));
    if (!identity) throw unauthorized('Invalid API key');
    apiKeys.set(key, identity, config.apiKeyCacheMs);
    return identity;
  }

  return {
    async authenticate(headers, requestId) {
      const authorization = header(headers, 'authorization');
      const keyId = header(headers, 'apca-api-key-id');
      const secret = header(headers, 'apca-api-secret-key');
      if (authorization !== undefined) {
        const m = /^Bearer +([A-Za-z0-9_.-]+)$/i.exec(authorization.trim());
        if (!m) throw unauthorized('Authorization must be "Bearer <access token>"');
        return fromAccessToken(m[1]!, requestId);
      }
      if (keyId !== undefined || secret !== undefined) {
        if (!keyId || !secret) {
          throw fail(
            401,
            'unauthorized',
            'Unauthorized',
            'Send both APCA-API-KEY-ID and APCA-API-SECRET-KEY',
          );
        }
        return fromApiKey(keyId, secret, requestId);
      }
      return null;
    },
  };
}
