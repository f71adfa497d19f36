/**
 * Which shard owns what: a risk shard owns accounts (cash, positions, holds), a matching shard owns
 * symbols (books). Both by a stable hash, so every process computes the same owner.
 */

export interface ShardLayout {
  riskShards: number;
  matchingShards: number;
}

/** FNV-1a over UTF-16 code units: stable across processes and versions, cheap. */
export function stableHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function riskShardOf(account: string, layout: ShardLayout): number {
  return stableHash(account) % layout.riskShards;
}

export function matchingShardOf(symbol: string, layout: ShardLayout): number {
  return stableHash(symbol) % layout.matchingShards;
}

/**
 * Order ids are made at the risk shards and must be unique across them: the n-th order of shard r
 * gets (n × R + r) × 4, and its legs (at most two) the ids right after it.
 */
export const IDS_PER_ORDER = 4;

export function orderIdAt(n: number, shard: number, layout: ShardLayout): number {
  return (n * layout.riskShards + shard) * IDS_PER_ORDER;
}

/**
 * Numbers that each shard counts on its own (a matching shard's trade ids, a node's journal seqs)
 * made unique across `shards` shards: the n-th of shard k is n × shards + k. Per shard they still
 * grow, so whatever one shard numbers (a symbol's trades, an account's movements) keeps its order.
 */
export function qualifiedId(n: number, shard: number, shards: number): number {
  return n * shards + shard;
}
