import type { Logger } from '../logger.ts';
import type { Cache } from './types.ts';

export type { Cache } from './types.ts';

/** Redis when a REDIS_URL is configured (imported only then), else the in-memory cache. */
export async function openCache(config: { redisUrl?: string | undefined }, logger?: Logger): Promise<Cache> {
  if (config.redisUrl) {
    const { createRedisCache } = await import('./redis.ts');
    return createRedisCache({ url: config.redisUrl, logger });
  }
  const { createMemoryCache } = await import('./memory.ts');
  return createMemoryCache();
}
