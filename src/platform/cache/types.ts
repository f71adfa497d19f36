/**
 * A shared cache of JSON values with a time to live: Redis in a cluster (every instance sees the
 * same entries and the same deletions), in memory for the all-in-one default. Misses and errors
 * look the same to a reader (`undefined`): a cache is an optimisation, never the record.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** `ttlMs` > 0; the entry is gone after it (or earlier, under memory pressure). */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(...keys: string[]): Promise<void>;
  close(): Promise<void>;
}
