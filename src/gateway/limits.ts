/**
 * Rate limiting at the edge: one token bucket per caller and route class (the caller is the user,
 * or the API key, or the client IP when anonymous), plus login attempts per IP and per username.
 * Every answer carries RateLimit-Limit / -Remaining / -Reset (seconds until the bucket is full);
 * a refusal is 429 problem+json with Retry-After.
 */
import type { FastifyReply } from 'fastify';
import type { BucketRule, RateLimiter, TakeResult } from '../platform/ratelimit/types.ts';
import { fail } from './problems.ts';

export function setRateLimitHeaders(reply: FastifyReply, r: TakeResult): void {
  reply.header('ratelimit-limit', r.limit);
  reply.header('ratelimit-remaining', r.remaining);
  reply.header('ratelimit-reset', Math.ceil(r.resetMs / 1000));
}

/** Takes one token; refuses with a 429 GatewayError when the bucket is empty. */
export async function takeOrRefuse(
  limiter: RateLimiter,
  reply: FastifyReply,
  key: string,
  rule: BucketRule,
  what: string,
  onRefused: () => void,
): Promise<void> {
  const result = await limiter.take(key, rule);
  setRateLimitHeaders(reply, result);
  if (result.allowed) return;
  onRefused();
  const retryAfter = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  throw fail(
    429,
    'rate-limited',
    'Too many requests',
    `${what}: try again in ${retryAfter} s`,
    {},
    { 'retry-after': String(retryAfter) },
  );
}
