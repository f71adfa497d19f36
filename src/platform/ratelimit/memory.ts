import { type Clock, systemClock } from '../clock.ts';
import { type BucketState, takeFrom } from './bucket.ts';
import { checkTake, type RateLimiter } from './types.ts';

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
  const sweep = setInterval(() => {
    const now = clock.now();
    for (const [key, bucket] of buckets) if (bucket.fullAt <= now) buckets.delete(key);
  }, options.sweepMs ?? 60_000);
  sweep.unref();

  return {
    kind: 'memory',
    async take(key, rule, cost = 1) {
      checkTake(rule, cost);
      const now = clock.now();
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { tokens: rule.capacity, ts: now, fullAt: now };
        buckets.set(key, bucket);
      }
      const result = takeFrom(bucket, rule, cost, now);
      bucket.fullAt = now + result.resetMs;
      return result;
    },
    async close() {
      clearInterval(sweep);
      buckets.clear();
    },
  };
}
