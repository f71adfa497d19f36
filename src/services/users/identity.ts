/** Credentials → identity: the core of both the in-process client and the routes' auth hook. */
import type { ApiKeys } from './api-keys.ts';
import type { VerifiedIdentity } from './client.ts';
import type { Sessions } from './sessions.ts';
import type { AccessTokens } from './tokens.ts';

export interface Authenticator {
  /** Valid signature, unexpired, and its session still live. */
  fromAccessToken(token: string): Promise<VerifiedIdentity | null>;
  fromApiKey(keyId: string, secret: string): Promise<VerifiedIdentity | null>;
}

export function createAuthenticator(deps: {
  tokens: AccessTokens;
  sessions: Sessions;
  apiKeys: ApiKeys;
}): Authenticator {
  return {
    async fromAccessToken(token) {
      const claims = await deps.tokens.verify(token);
      if (!claims) return null;
      if (!(await deps.sessions.isLive(claims.sessionId, claims.userId))) return null;
      return {
        userId: claims.userId,
        role: claims.role,
        brokerageId: claims.brokerageId,
        username: claims.username,
        method: 'access_token',
        credentialId: claims.sessionId,
      };
    },
    async fromApiKey(keyId, secret) {
      const r = await deps.apiKeys.verify(keyId, secret);
      if (!r) return null;
      return {
        userId: r.user.id,
        role: r.user.role,
        brokerageId: r.user.brokerage_id,
        username: r.user.username,
        method: 'api_key',
        credentialId: r.keyId,
      };
    },
  };
}
