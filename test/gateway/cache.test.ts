/** The Cache interface, one suite on memory and on Redis. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/platform/cache/memory.ts';
import { createRedisCache } from '../../src/platform/cache/redis.ts';
import type { Cache } from '../../src/platform/cache/types.ts';
import { describeWithRedis, serviceUrl } from '../support/services.ts';

function cacheSuite(open: () => Promise<Cache>): void {
  let cache: Cache;
  beforeAll(async () => {
    cache = await open();
  });
  afterAll(() => cache?.close());
  const key = () => `k:${randomUUID()}`;

  it('stores JSON values until their TTL', async () => {
    const k = key();
    await cache.set(k, { a: 1, b: ['x', null] }, 100);
    expect(await cache.get(k)).toEqual({ a: 1, b: ['x', null] });
    await new Promise((r) => setTimeout(r, 150));
    expect(await cache.get(k)).toBeUndefined();
  });

  it('gives each reader its own copy', async () => {
    const k = key();
    await cache.set(k, { n: 1 }, 10_000);
    const first = await cache.get<{ n: number }>(k);
    first!.n = 2;
    expect(await cache.get(k)).toEqual({ n: 1 });
  });

  it('deletes entries', async () => {
    const [a, b] = [key(), key()];
    await cache.set(a, 1, 10_000);
    await cache.set(b, 2, 10_000);
    await cache.delete(a, b);
    expect(await cache.get(a)).toBeUndefined();
    expect(await cache.get(b)).toBeUndefined();
  });
}

describe('cache [memory]', () => {
  cacheSuite(async () => createMemoryCache());

  it('forgets the oldest write when full', async () => {
    const cache = createMemoryCache({ maxEntries: 2 });
    await cache.set('a', 1, 10_000);
    await cache.set('b', 2, 10_000);
    await cache.set('c', 3, 10_000);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
  });
});

describeWithRedis('cache [redis]', () => {
  cacheSuite(() => createRedisCache({ url: serviceUrl('redis'), prefix: `test:${randomUUID()}:` }));
});
