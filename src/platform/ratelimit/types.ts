/**
 * Token-bucket rate limiting. A bucket holds at most `capacity` tokens and gains `refillPerSec`
 * a second; a request takes `cost` tokens or is refused. Redis keeps the buckets of a cluster (one
 * atomic script per take, so every gateway instance draws from the same bucket), memory those of
 * the all-in-one default. Both implement this interface and pass the same test suite.
 */
export interface BucketRule {
  /** the burst: tokens a full bucket holds (≥ 1) */
  capacity: number;
  /** sustained rate, tokens per second (> 0) */
  refillPerSec: number;
}

export interface TakeResult {
  allowed: boolean;
  /** the rule's capacity: the `RateLimit-Limit` header */
  limit: number;
  /** whole tokens left after this take */
  remaining: number;
  /** ms until the bucket is full again: the `RateLimit-Reset` header (in seconds, rounded up) */
  resetMs: number;
  /** refused takes: ms until `cost` tokens are there (`Retry-After`); 0 when allowed */
  retryAfterMs: number;
}

export interface RateLimiter {
  readonly kind: 'redis' | 'memory';
  /** `cost` defaults to 1 and must not exceed the capacity. */
  take(key: string, rule: BucketRule, cost?: number): Promise<TakeResult>;
  close(): Promise<void>;
}

export function checkTake(rule: BucketRule, cost: number): void {
  if (!(Number.isFinite(rule.capacity) && rule.capacity >= 1)) throw new RangeError('capacity must be ≥ 1');
  if (!(Number.isFinite(rule.refillPerSec) && rule.refillPerSec > 0))
    throw new RangeError('refillPerSec must be > 0');
  if (!(Number.isFinite(cost) && cost > 0 && cost <= rule.capacity)) {
    throw new RangeError(`cost must be in (0, capacity]; got ${cost}`);
  }
}
