import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Cache } from './types.ts';

export interface RedisCacheOptions {
  url: string;
  /** every key is stored under this prefix (default 'bourse:cache:') */
  prefix?: string;
  logger?: Logger;
}

/**
 * The shared cache. A Redis that is down degrades to misses (logged once per outage), never to
 * errors: the callers then read from the service of record.
 */
export async function createRedisCache(options: RedisCacheOptions): Promise<Cache> {
  const prefix = options.prefix ?? 'bourse:cache:';
  const redis = new Redis(options.url, {
    lazyConnect: true,
    // fail fast while disconnected instead of queueing reads behind a reconnect
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  let failing = false;
  const onError = (err: unknown): undefined => {
    if (!failing) options.logger?.warn({ err }, 'cache: Redis unavailable; serving misses');
    failing = true;
    return undefined;
  };
  redis.on('error', onError);
  redis.on('ready', () => {
    failing = false;
  });
  await redis.connect();

  return {
    kind: 'redis',
    async get<T>(key: string) {
      try {
        const json = await redis.get(prefix + key);
        return json === null ? undefined : (JSON.parse(json) as T);
      } catch (err) {
        return onError(err);
      }
    },
    async set(key, value, ttlMs) {
      try {
        await redis.set(prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)));
      } catch (err) {
        onError(err);
      }
    },
    async delete(...keys) {
      if (keys.length === 0) return;
      try {
        await redis.del(...keys.map((k) => prefix + k));
      } catch (err) {
        onError(err);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
