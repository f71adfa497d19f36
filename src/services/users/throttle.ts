/**
 * Login throttling that an attacker cannot turn against the account's owner (OWASP authentication
 * cheat sheet: throttle per account *and client*, and admit known devices).
 *
 * - Per (account, client): the client is the device when the login presents a valid device token
 *   for this account (devices.ts), else the caller's address. Each attempt is charged before the
 *   password is checked (atomically, so a parallel burst cannot slip past); after `threshold`
 *   attempts the client is held off `baseLockSec`, doubling with each further attempt up to
 *   `maxLockSec`. A correct password forgets that client's count. One client's failures never
 *   hold off another client.
 * - Per account, for clients without a device token only: a token bucket of `accountBurst`
 *   attempts, one more every `accountRefillSec` — a soft limit on what many addresses together can
 *   try. It delays unknown clients by at most `accountRefillSec` at a time and never touches a
 *   device the owner logged in from before.
 *
 * The state lives in the platform rate limiter (Redis in a cluster, memory in one process). Time is
 * the service's clock. Unknown login names are throttled exactly like accounts (keyed by a keyed
 * hash of the name), so an answer does not reveal whether an account exists; addresses are stored
 * only as keyed hashes.
 */
import type { Clock } from '../../platform/clock.ts';
import type { BackoffRule, BucketRule, RateLimiter } from '../../platform/ratelimit/types.ts';
import type { LockoutPolicy } from './config.ts';
import { credentialHash } from './secret.ts';

export type Charge = { allowed: true } | { allowed: false; retryAfterSec: number };

/** Who is trying: a device the account logged in from before (its id), else an address. */
export interface LoginClient {
  address: string;
  deviceId: string | null;
}

export interface LoginThrottle {
  /** Charge one attempt by `client` at `account`; refused while the client is held off. */
  charge(account: string, client: LoginClient): Promise<Charge>;
  /** The password was right: forget this client's attempts. */
  succeeded(account: string, client: LoginClient): Promise<void>;
  keyForUser(userId: string): string;
  keyForUnknownLogin(login: string): string;
}

const DAY_MS = 86_400_000;

export function createLoginThrottle(deps: {
  limiter: RateLimiter;
  clock: Clock;
  policy: LockoutPolicy;
  pepper: Buffer;
}): LoginThrottle {
  const { limiter, clock, policy, pepper } = deps;
  const perClient: BackoffRule = {
    freeAttempts: policy.threshold,
    baseMs: policy.baseLockSec * 1000,
    maxMs: policy.maxLockSec * 1000,
    // a day without attempts forgets the count (and bounds what unknown names leave behind)
    forgetMs: DAY_MS,
  };
  const perAccount: BucketRule = {
    capacity: policy.accountBurst,
    refillPerSec: 1 / policy.accountRefillSec,
  };
  const clientKey = (account: string, c: LoginClient) =>
    c.deviceId !== null
      ? `login:${account}:device:${c.deviceId}`
      : `login:${account}:addr:${credentialHash(pepper, c.address)}`;
  const refused = (ms: number): Charge => ({
    allowed: false,
    retryAfterSec: Math.max(1, Math.ceil(ms / 1000)),
  });

  return {
    keyForUser: (userId) => `u:${userId}`,
    keyForUnknownLogin: (login) => `n:${credentialHash(pepper, login.toLowerCase())}`,
    async charge(account, client) {
      const now = clock.now();
      // the client's own backoff first: a held-off client cannot drain the account's bucket
      const mine = await limiter.backoff(clientKey(account, client), perClient, now);
      if (!mine.allowed) return refused(mine.retryAfterMs);
      if (client.deviceId !== null) return { allowed: true };
      const shared = await limiter.take(`login:${account}:anonymous`, perAccount, 1, now);
      return shared.allowed ? { allowed: true } : refused(shared.retryAfterMs);
    },
    async succeeded(account, client) {
      await limiter.forgive(clientKey(account, client));
    },
  };
}
