import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type { Cache } from './types.ts';

export interface MemoryCacheOptions {
  /** most entries kept; the oldest written go first (default 100,000) */
  maxEntries?: number;
  clock?: Clock;
}

interface Entry {
  /** serialised, so a reader can never mutate what another reader gets (as with Redis) */
  json: string;
  expiresAt: number;
}

/** The single-process cache. Expired entries are dropped when read; the oldest when the map is full. */
export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const maxEntries = options.maxEntries ?? 100_000;
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();

  // a Map iterates in insertion order, so its first key is the oldest write
  const evictOldest = (): void => {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  };

  return {
    kind: 'memory',
    async get<T>(key: string) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= clock.now()) {
        entries.delete(key);
        return undefined;
      }
      return JSON.parse(entry.json) as T;
    },
    async set(key, value, ttlMs) {
      entries.delete(key); // re-inserting moves the key to the young end
      if (entries.size >= maxEntries) evictOldest();
      entries.set(key, { json: JSON.stringify(value), expiresAt: clock.now() + ttlMs });
    },
    async delete(...keys) {
      for (const key of keys) entries.delete(key);
    },
    async close() {
      entries.clear();
    },
  };
}
