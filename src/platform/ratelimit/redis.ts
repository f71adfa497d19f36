import { Redis } from 'ioredis';
import { checkTake, type RateLimiter, type TakeResult } from './types.ts';

/**
 * bucket.ts's takeFrom in Lua, run atomically by Redis. Time is the Redis server's (TIME), so
 * gateway instances with skewed clocks still share one consistent bucket. A bucket's key expires
 * once it would be full again: an idle client costs no memory.
 *   KEYS[1] bucket   ARGV capacity, tokens per ms, cost
 *   → {allowed 0|1, whole tokens left, ms until full, ms until `cost` tokens}
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * per_ms)
  ts = now
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local to_full = math.ceil((capacity - tokens) / per_ms)
local retry = 0
if allowed == 0 then retry = math.ceil((cost - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', ts)
redis.call('PEXPIRE', KEYS[1], to_full + 1000)
return {allowed, math.floor(tokens), to_full, retry}
`;

type TakeReply = [number, number, number, number];

interface WithTake extends Redis {
  bourseTakeToken(key: string, capacity: number, perMs: number, cost: number): Promise<TakeReply>;
}

export interface RedisRateLimiterOptions {
  url: string;
  /** keys live under this prefix (default 'bourse:rl:') */
  prefix?: string;
}

/** Buckets shared by every gateway instance on one Redis. */
export async function createRedisRateLimiter(options: RedisRateLimiterOptions): Promise<RateLimiter> {
  const prefix = options.prefix ?? 'bourse:rl:';
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 1 }) as WithTake;
  // EVALSHA with a fallback to EVAL: the script is sent once per connection, not per take
  redis.defineCommand('bourseTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  await redis.connect();

  return {
    kind: 'redis',
    async take(key, rule, cost = 1): Promise<TakeResult> {
      checkTake(rule, cost);
      const [allowed, remaining, resetMs, retryAfterMs] = await redis.bourseTakeToken(
        prefix + key,
        rule.capacity,
        rule.refillPerSec / 1000,
        cost,
      );
      return { allowed: allowed === 1, limit: rule.capacity, remaining, resetMs, retryAfterMs };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
