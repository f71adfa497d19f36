/**
 * The token-bucket limiter: one suite, run on the in-memory buckets and on Redis (the Lua script),
 * so that both behave the same. Real time on both: Redis takes its time from the server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { createRedisRateLimiter } from '../../src/platform/ratelimit/redis.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import { describeWithRedis, serviceUrl } from '../support/services.ts';

function limiterSuite(open: () => Promise<RateLimiter>): void {
  let limiter: RateLimiter;
  beforeAll(async () => {
    limiter = await open();
  });
  afterAll(() => limiter?.close());
  const key = () => `test:${randomUUID()}`;

  it('lets a burst of `capacity` through, then refuses with the time until a token', async () => {
    const k = key();
    const rule = { capacity: 3, refillPerSec: 1 };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.take(k, rule));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results.every((r) => r.limit === 3)).toBe(true);
    const refused = results[3]!;
    expect(refused.retryAfterMs).toBeGreaterThan(900);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(refused.resetMs).toBeGreaterThan(2900);
    expect(refused.resetMs).toBeLessThanOrEqual(3000);
  });

  it('refills at the configured rate', async () => {
    const k = key();
    const rule = { capacity: 2, refillPerSec: 20 }; // a token every 50 ms
    await limiter.take(k, rule);
    await limiter.take(k, rule);
    expect((await limiter.take(k, rule)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect((await limiter.take(k, rule)).allowed).toBe(true);
  });

  it('never exceeds capacity after a long idle time', async () => {
    const k = key();
    const rule = { capacity: 2, refillPerSec: 1000 };
    await limiter.take(k, rule);
    await new Promise((r) => setTimeout(r, 50));
    const r = await limiter.take(k, rule);
    expect(r.remaining).toBe(1);
  });

  it('keeps buckets apart by key and takes a cost of several tokens', async () => {
    const rule = { capacity: 5, refillPerSec: 1 };
    const a = key();
    const b = key();
    expect((await limiter.take(a, rule, 5)).allowed).toBe(true);
    expect((await limiter.take(a, rule)).allowed).toBe(false);
    expect((await limiter.take(b, rule)).remaining).toBe(4);
  });

  it('is atomic under concurrency: exactly `capacity` of many simultaneous takes pass', async () => {
    const k = key();
    const rule = { capacity: 25, refillPerSec: 0.001 };
    const results = await Promise.all(Array.from({ length: 100 }, () => limiter.take(k, rule)));
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
  });

  it('refuses a rule or cost that makes no sense', async () => {
    await expect(limiter.take(key(), { capacity: 0, refillPerSec: 1 })).rejects.toThrow(RangeError);
    await expect(limiter.take(key(), { capacity: 1, refillPerSec: 0 })).rejects.toThrow(RangeError);
    await expect(limiter.take(key(), { capacity: 1, refillPerSec: 1 }, 2)).rejects.toThrow(RangeError);
  });
}

describe('rate limiter [memory]', () => limiterSuite(async () => createMemoryRateLimiter()));

describeWithRedis('rate limiter [redis]', () => {
  limiterSuite(() => createRedisRateLimiter({ url: serviceUrl('redis'), prefix: `test:${randomUUID()}:` }));

  it('shares one bucket between two limiters (two gateway instances) on one Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    const [a, b] = await Promise.all([
      createRedisRateLimiter({ url: serviceUrl('redis'), prefix }),
      createRedisRateLimiter({ url: serviceUrl('redis'), prefix }),
    ]);
    try {
      const rule = { capacity: 10, refillPerSec: 0.001 };
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).take('shared', rule)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
