import type { RateLimiter } from './types.ts';

export type { BucketRule, RateLimiter, TakeResult } from './types.ts';

/** Redis when a REDIS_URL is configured (imported only then), else buckets in memory. */
export async function openRateLimiter(config: { redisUrl?: string | undefined }): Promise<RateLimiter> {
  if (config.redisUrl) {
    const { createRedisRateLimiter } = await import('./redis.ts');
    return createRedisRateLimiter({ url: config.redisUrl });
  }
  const { createMemoryRateLimiter } = await import('./memory.ts');
  return createMemoryRateLimiter();
}
