import { Redis } from 'ioredis';
import { checkTake, type RateLimiter, type TakeResult } from './types.ts';

/**
 * bucket.ts's takeFrom in Lua, run atomically by Redis. Time is the Redis server's (TIME), so
 * gateway instances with skewed clocks still share one consistent bucket, unless the caller
 * gives its own (ARGV[4]: a service with an injectable clock). A bucket's key expires
 * once it would be full again: an idle client costs no memory.
 *   KEYS[1] bucket   ARGV capacity, tokens per ms, cost, [now ms]
 *   → {allowed 0|1, whole tokens left, ms until full, ms until `cost` tokens}
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
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

/**
 * The memory limiter's backoff in Lua (keep the two in step): refused while `until` is ahead;
 * else one more attempt, and from `free` attempts on a hold of base × 2^(n − free), capped.
 *   KEYS[1] key   ARGV now ms, free, base ms, max ms, forget ms   → {allowed 0|1, ms, attempts}
 */
const BACKOFF_SCRIPT = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local forget = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'n', 'until')
local n = tonumber(state[1]) or 0
local held = tonumber(state[2]) or 0
if held > now then return {0, held - now, n} end
n = n + 1
local hold = 0
if n >= free then hold = math.min(max, base * math.pow(2, math.min(n - free, 40))) end
hold = math.floor(hold)
redis.call('HSET', KEYS[1], 'n', n, 'until', string.format('%d', now + hold))
redis.call('PEXPIRE', KEYS[1], hold + forget)
return {1, hold, n}
`;

type TakeReply = [number, number, number, number];

interface WithTake extends Redis {
  bourseTakeToken(
    key: string,
    capacity: number,
    perMs: number,
    cost: number,
    ...now: number[]
  ): Promise<TakeReply>;
  bourseBackoff(
    key: string,
    now: number,
    free: number,
    baseMs: number,
    maxMs: number,
    forgetMs: number,
  ): Promise<[number, number, number]>;
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
  redis.defineCommand('bourseBackoff', { numberOfKeys: 1, lua: BACKOFF_SCRIPT });
  await redis.connect();

  return {
    kind: 'redis',
    async take(key, rule, cost = 1, now): Promise<TakeResult> {
      checkTake(rule, cost);
      const [allowed, remaining, resetMs, retryAfterMs] = await redis.bourseTakeToken(
        prefix + key,
        rule.capacity,
        rule.refillPerSec / 1000,
        cost,
        ...(now === undefined ? [] : [Math.floor(now)]),
      );
      return { allowed: allowed === 1, limit: rule.capacity, remaining, resetMs, retryAfterMs };
    },
    async backoff(key, rule, now) {
      const [allowed, ms, attempts] = await redis.bourseBackoff(
        prefix + key,
        Math.floor(now),
        rule.freeAttempts,
        rule.baseMs,
        rule.maxMs,
        rule.forgetMs,
      );
      return { allowed: allowed === 1, retryAfterMs: ms, attempts };
    },
    async forgive(key) {
      await redis.del(prefix + key);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
