/**
 * Lockout with exponential backoff on failed password checks.
 *
 * An attempt is charged *before* the password is checked, in one atomic statement, so that a
 * burst of parallel guesses cannot all slip in before the first failure is written: the attempt
 * that reaches the threshold locks the account while it is being checked, and every later one is
 * refused until the lock ends. A correct password clears the counter. After the lock ends, each
 * further failure locks again for twice as long (capped): at most one guess per lock period.
 *
 * Unknown login names are throttled exactly like accounts (keyed by a keyed hash of the name), so
 * a lockout answer does not reveal whether an account exists.
 */
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { LockoutPolicy } from './config.ts';
import { credentialHash } from './secret.ts';

export type Charge = { allowed: true } | { allowed: false; retryAfterSec: number };

export interface LoginThrottle {
  /** Charge one attempt to `key`; refused while the key is locked. */
  charge(key: string): Promise<Charge>;
  /** The password was right: forget the failures. */
  clear(key: string): Promise<void>;
  /** Drops counters untouched for a day. */
  prune(): Promise<void>;
  keyForUser(userId: string): string;
  keyForUnknownLogin(login: string): string;
}

export function createLoginThrottle(deps: {
  db: Db;
  clock: Clock;
  policy: LockoutPolicy;
  pepper: Buffer;
}): LoginThrottle {
  const { db, clock, policy, pepper } = deps;
  return {
    keyForUser: (userId) => `u:${userId}`,
    keyForUnknownLogin: (login) => `n:${credentialHash(pepper, login.toLowerCase())}`,
    async charge(key) {
      const now = new Date(clock.now());
      // failures counts this attempt; from `threshold` on, the lock is 2^(failures-threshold) × base
      const { rows } = await db.query<{ failures: number }>(
        `INSERT INTO login_throttle AS t (key, failures, locked_until, updated_at)
         VALUES ($1, 1, CASE WHEN 1 >= $3::int THEN $2::timestamptz + make_interval(secs => $4::float8) END, $2)
         ON CONFLICT (key) DO UPDATE SET
           failures = t.failures + 1,
           locked_until = CASE WHEN t.failures + 1 >= $3::int
             THEN $2::timestamptz
               + make_interval(secs => LEAST($5::float8, $4::float8 * power(2, t.failures + 1 - $3::int)))
             ELSE NULL END,
           updated_at = $2
         WHERE t.locked_until IS NULL OR t.locked_until <= $2
         RETURNING failures`,
        [key, now, policy.threshold, policy.baseLockSec, policy.maxLockSec],
      );
      if (rows.length > 0) return { allowed: true };
      const locked = await db.query<{ locked_until: Date | null }>(
        'SELECT locked_until FROM login_throttle WHERE key = $1',
        [key],
      );
      const until = locked.rows[0]?.locked_until?.getTime() ?? now.getTime();
      return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
    },
    async clear(key) {
      await db.query('DELETE FROM login_throttle WHERE key = $1', [key]);
    },
    async prune() {
      // a day without attempts forgets the failures (and bounds the rows unknown names leave)
      const cutoff = new Date(clock.now() - 86_400_000);
      await db.query(
        'DELETE FROM login_throttle WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)',
        [cutoff],
      );
    },
  };
}
