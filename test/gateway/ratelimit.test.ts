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

  it("refills on the caller's clock when it gives one", async () => {
    const k = key();
    const rule = { capacity: 1, refillPerSec: 1 / 60 };
    const t0 = Date.now();
    expect((await limiter.take(k, rule, 1, t0)).allowed).toBe(true);
    const refused = await limiter.take(k, rule, 1, t0 + 1_000);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 59_000 });
    expect((await limiter.take(k, rule, 1, t0 + 60_000)).allowed).toBe(true);
  });

  it('backs a key off exponentially after the free attempts, on the caller clock; forgive forgets', async () => {
    const k = key();
    const rule = { freeAttempts: 3, baseMs: 1_000, maxMs: 8_000, forgetMs: 86_400_000 };
    let now = Date.now();
    const holds: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await limiter.backoff(k, rule, now);
      expect(r.allowed).toBe(true);
      expect(r.attempts).toBe(i + 1);
      holds.push(r.retryAfterMs);
      if (r.retryAfterMs > 0) {
        // held: refused until the hold ends, and a refusal is not charged
        expect(await limiter.backoff(k, rule, now + r.retryAfterMs - 1)).toEqual({
          allowed: false,
          retryAfterMs: 1,
          attempts: i + 1,
        });
      }
      now += r.retryAfterMs;
    }
    expect(holds).toEqual([0, 0, 1_000, 2_000, 4_000, 8_000, 8_000]);
    await limiter.forgive(k);
    expect(await limiter.backoff(k, rule, now)).toEqual({ allowed: true, retryAfterMs: 0, attempts: 1 });
  });

  it('backoff is atomic: of many simultaneous attempts only the free ones and the first held pass', async () => {
    const k = key();
    const rule = { freeAttempts: 5, baseMs: 1_000, maxMs: 60_000, forgetMs: 60_000 };
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, () => limiter.backoff(k, rule, now)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
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
