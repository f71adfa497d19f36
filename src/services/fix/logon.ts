/**
 * Who may log on: a FIX 4.4 Logon addressed to BOURSE, carrying an API key (Username 553 = key id,
 * Password 554 = secret) that the users service verifies. Attempts are rate limited per client
 * address and per key id, like the REST login, before the secret is checked. A refusal's text is
 * what the client reads in the Logout (58); an unknown key and a wrong secret read the same.
 */
import type { Logger } from '../../platform/logger.ts';
import type { BucketRule, RateLimiter } from '../../platform/ratelimit/types.ts';
import type { UsersClient, VerifiedIdentity } from '../users/client.ts';

export const BEGIN_STRING = 'FIX.4.4';
export const OUR_COMP_ID = 'BOURSE';
export const MAX_HEARTBEAT_SECONDS = 300;

const COMP_ID = /^[!-~]{1,64}$/;

export interface LogonAttempt {
  remoteIp: string;
  beginString: string | null;
  senderCompId: string | null;
  targetCompId: string | null;
  username: string | null;
  password: string | null;
  heartBtInt: string | null;
}

export type LogonVerdict =
  | { ok: true; identity: VerifiedIdentity; heartBtInt: number; senderCompId: string; apiKeyId: string }
  | { ok: false; text: string };

export interface LogonPolicy {
  perIp: BucketRule;
  perKey: BucketRule;
}

export type VerifyLogon = (attempt: LogonAttempt) => Promise<LogonVerdict>;

export function createLogonVerifier(deps: {
  users: UsersClient;
  limiter: RateLimiter;
  policy: LogonPolicy;
  logger: Logger;
}): VerifyLogon {
  const { users, limiter, policy, logger } = deps;
  const refuse = (text: string): LogonVerdict => ({ ok: false, text });
  const wait = (ms: number): string => `retry in ${Math.max(1, Math.ceil(ms / 1000))} s`;

  return async (a) => {
    const byIp = await limiter.take(`fix:logon:ip:${a.remoteIp}`, policy.perIp);
    if (!byIp.allowed) return refuse(`too many logon attempts from your address; ${wait(byIp.retryAfterMs)}`);
    if (a.beginString !== BEGIN_STRING) return refuse(`BeginString (8) must be ${BEGIN_STRING}`);
    if (a.targetCompId !== OUR_COMP_ID)
      return refuse(`TargetCompID (56) must be ${OUR_COMP_ID}, not '${a.targetCompId ?? ''}'`);
    const senderCompId = a.senderCompId ?? '';
    if (!COMP_ID.test(senderCompId))
      return refuse('SenderCompID (49) must be 1 to 64 printable ASCII characters without spaces');
    const heartBtInt = Number(a.heartBtInt);
    if (!/^\d+$/.test(a.heartBtInt ?? '') || heartBtInt < 1 || heartBtInt > MAX_HEARTBEAT_SECONDS)
      return refuse(`HeartBtInt (108) must be 1 to ${MAX_HEARTBEAT_SECONDS} seconds`);
    if (!a.username || !a.password)
      return refuse('Username (553) and Password (554) must carry your API key id and its secret');
    const byKey = await limiter.take(`fix:logon:key:${a.username}`, policy.perKey);
    if (!byKey.allowed)
      return refuse(`too many logon attempts for this API key; ${wait(byKey.retryAfterMs)}`);
    let identity: VerifiedIdentity | null;
    try {
      identity = await users.verifyApiKey(a.username, a.password);
    } catch (err) {
      logger.error({ err }, 'fix: API key verification failed');
      return refuse('authentication is unavailable; retry later');
    }
    if (!identity) return refuse('invalid API key id or secret');
    return { ok: true, identity, heartBtInt, senderCompId, apiKeyId: a.username };
  };
}
