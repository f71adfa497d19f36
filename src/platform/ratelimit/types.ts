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

/**
 * Exponential backoff on one key (a login name from one client, say). Each attempt is charged when
 * it is made, so parallel attempts cannot slip past; the attempt that reaches `freeAttempts` and
 * every later one hold the key off for `baseMs`, doubling each time up to `maxMs`. A success
 * forgets the key (`forgive`); so does `forgetMs` without attempts.
 */
export interface BackoffRule {
  freeAttempts: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

export interface BackoffResult {
  allowed: boolean;
  /** refused: ms until the hold ends (`Retry-After`); allowed: the hold this attempt started */
  retryAfterMs: number;
  /** attempts charged so far, this one included when allowed */
  attempts: number;
}

export interface RateLimiter {
  readonly kind: 'redis' | 'memory';
  /**
   * `cost` defaults to 1 and must not exceed the capacity. `now` (epoch ms) is the caller's clock
   * (a service with an injectable clock); by default the store's (Redis TIME, or the limiter's clock).
   */
  take(key: string, rule: BucketRule, cost?: number, now?: number): Promise<TakeResult>;
  /** Charges one attempt to `key` at `now` (the caller's clock), unless the key is held off. */
  backoff(key: string, rule: BackoffRule, now: number): Promise<BackoffResult>;
  /** Forgets a backoff key. */
  forgive(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The hold an allowed attempt starts: 0 before `freeAttempts`, then base × 2^(n − free), capped. */
export function holdAfter(rule: BackoffRule, attempts: number): number {
  if (attempts < rule.freeAttempts) return 0;
  return Math.min(rule.maxMs, rule.baseMs * 2 ** Math.min(attempts - rule.freeAttempts, 40));
}

export function checkTake(rule: BucketRule, cost: number): void {
  if (!(Number.isFinite(rule.capacity) && rule.capacity >= 1)) throw new RangeError('capacity must be ≥ 1');
  if (!(Number.isFinite(rule.refillPerSec) && rule.refillPerSec > 0))
    throw new RangeError('refillPerSec must be > 0');
  if (!(Number.isFinite(cost) && cost > 0 && cost <= rule.capacity)) {
    throw new RangeError(`cost must be in (0, capacity]; got ${cost}`);
  }
}
