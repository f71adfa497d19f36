import { type Clock, systemClock } from '../clock.ts';
import { type BucketState, takeFrom } from './bucket.ts';
import { checkTake, holdAfter, type RateLimiter } from './types.ts';

export interface MemoryRateLimiterOptions {
  clock?: Clock;
  /** how often full buckets are forgotten (default 60 s) */
  sweepMs?: number;
}

interface Bucket extends BucketState {
  /** when the bucket is full again: from then on it equals a new one and can be dropped */
  fullAt: number;
}

/** The buckets of one process: the all-in-one default, and tests. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const clock = options.clock ?? systemClock;
  const buckets = new Map<string, Bucket>();
  /** backoff keys: attempts, the end of the hold, when the key is forgotten (the caller's clock) */
  const holds = new Map<string, { attempts: number; until: number; forgetAt: number }>();
  const sweep = setInterval(() => {
    const now = clock.now();
    for (const [key, bucket] of buckets) if (bucket.fullAt <= now) buckets.delete(key);
    for (const [key, hold] of holds) if (hold.forgetAt <= now) holds.delete(key);
  }, options.sweepMs ?? 60_000);
  sweep.unref();

  return {
    kind: 'memory',
    async take(key, rule, cost = 1, at) {
      checkTake(rule, cost);
      const now = at ?? clock.now();
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { tokens: rule.capacity, ts: now, fullAt: now };
        buckets.set(key, bucket);
      }
      const result = takeFrom(bucket, rule, cost, now);
      bucket.fullAt = now + result.resetMs;
      return result;
    },
    async backoff(key, rule, now) {
      let hold = holds.get(key);
      if (hold && hold.forgetAt <= now) hold = undefined;
      if (hold && hold.until > now)
        return { allowed: false, retryAfterMs: hold.until - now, attempts: hold.attempts };
      const attempts = (hold?.attempts ?? 0) + 1;
      const holdMs = holdAfter(rule, attempts);
      holds.set(key, { attempts, until: now + holdMs, forgetAt: now + holdMs + rule.forgetMs });
      return { allowed: true, retryAfterMs: holdMs, attempts };
    },
    async forgive(key) {
      holds.delete(key);
    },
    async close() {
      clearInterval(sweep);
      buckets.clear();
      holds.clear();
    },
  };
}
