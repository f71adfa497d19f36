/**
 * Access tokens (JWT, EdDSA, RFC 9068 `at+jwt`) and the opaque refresh tokens.
 *
 * An access token carries the identity the gateway needs without a lookup (sub, role, brokerage,
 * username) and the session id `sid`; it is accepted only while that session is live, so logout,
 * a password change or a role change cut it off at once rather than at its expiry.
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock.ts';
import type { Identity, Role } from './client.ts';
import { JWT_ALG, type KeyRing } from './keys.ts';

const TOKEN_TYPE = 'at+jwt';
/** a real token is ~600 characters; anything far longer is not worth parsing */
const MAX_TOKEN_LENGTH = 4096;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROLES: ReadonlySet<string> = new Set<Role>(['investor', 'broker', 'admin']);

export interface AccessClaims extends Identity {
  sessionId: string;
  /** epoch seconds */
  expiresAt: number;
}

export interface AccessTokens {
  sign(identity: Identity, sessionId: string): Promise<{ token: string; expiresIn: number }>;
  /** The claims of a valid, unexpired token signed by one of our keys; null otherwise. Never throws. */
  verify(token: string): Promise<AccessClaims | null>;
}

export function createAccessTokens(deps: {
  keys: KeyRing;
  clock: Clock;
  issuer: string;
  audience: string;
  ttlSec: number;
}): AccessTokens {
  const { keys, clock, issuer, audience, ttlSec } = deps;
  return {
    async sign(identity, sessionId) {
      const { kid, key } = await keys.signingKey();
      const iat = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({
        sid: sessionId,
        role: identity.role,
        brk: identity.brokerageId,
        usr: identity.username,
      })
        .setProtectedHeader({ alg: JWT_ALG, kid, typ: TOKEN_TYPE })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(identity.userId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSec)
        .setJti(randomBytes(12).toString('base64url'))
        .sign(key);
      return { token, expiresIn: ttlSec };
    },
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return null;
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            const key = typeof header.kid === 'string' ? await keys.verificationKey(header.kid) : null;
            if (!key) throw new Error('unknown kid');
            return key;
          },
          {
            algorithms: [JWT_ALG],
            issuer,
            audience,
            typ: TOKEN_TYPE,
            currentDate: new Date(clock.now()),
            requiredClaims: ['exp', 'iat', 'sub', 'sid'],
            maxTokenAge: ttlSec + 60,
          },
        );
        const { sub, sid, role, brk, usr, exp } = payload;
        if (typeof sub !== 'string' || !UUID_RE.test(sub)) return null;
        if (typeof sid !== 'string' || !UUID_RE.test(sid)) return null;
        if (typeof role !== 'string' || !ROLES.has(role)) return null;
        if (brk !== null && (typeof brk !== 'string' || !UUID_RE.test(brk))) return null;
        if (typeof usr !== 'string' || typeof exp !== 'number') return null;
        return {
          userId: sub,
          sessionId: sid,
          role: role as Role,
          brokerageId: brk,
          username: usr,
          expiresAt: exp,
        };
      } catch {
        return null;
      }
    },
  };
}

/** 256 random bits; the prefix makes a leaked token recognisable to secret scanners. */
export function newRefreshToken(): string {
  return 'brt_' + randomBytes(32).toString('base64url');
}

export { REFRESH_TOKEN_PATTERN } from './patterns.ts';
