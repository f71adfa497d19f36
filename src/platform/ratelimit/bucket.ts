import type { BucketRule, TakeResult } from './types.ts';

/** A bucket's state: tokens at time `ts` (ms). */
export interface BucketState {
  tokens: number;
  ts: number;
}

/**
 * One take on a bucket at time `now`, mutating `state`. The Redis script (redis.ts) is the same
 * arithmetic in Lua; keep the two in step.
 */
export function takeFrom(state: BucketState, rule: BucketRule, cost: number, now: number): TakeResult {
  const perMs = rule.refillPerSec / 1000;
  if (now > state.ts) {
    state.tokens = Math.min(rule.capacity, state.tokens + (now - state.ts) * perMs);
    state.ts = now;
  }
  const allowed = state.tokens >= cost;
  if (allowed) state.tokens -= cost;
  return {
    allowed,
    limit: rule.capacity,
    remaining: Math.floor(state.tokens),
    resetMs: Math.ceil((rule.capacity - state.tokens) / perMs),
    retryAfterMs: allowed ? 0 : Math.ceil((cost - state.tokens) / perMs),
  };
}
