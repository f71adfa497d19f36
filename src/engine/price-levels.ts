/**
 * The sorted set of price levels of one book side (or one stop queue).
 *
 * A chunked sorted array: an ordered list of small sorted arrays. Finding a position is a binary
 * search over the chunks and then within one chunk, and inserting or removing moves at most one
 * chunk's worth of entries, so every operation costs O(log n + CHUNK_MAX) with small constants and
 * no allocation, however deep the book (a flat sorted array would move O(n) entries per new level,
 * which is what makes naive books slow down as they grow).
 *
 * Entries are ordered by `key` ascending, and the owner picks keys so that the best entry is always
 * the LAST one (bids: key = price; asks: key = −price). The hot operations (take the best level,
 * add or drop a level near the touch) then work at the tail of the last chunk and move almost
 * nothing.
 */

export interface Keyed {
  readonly key: number;
}

export interface PriceLevels<T extends Keyed> {
  /** non-empty chunks, each sorted by key; chunk i's keys all precede chunk i+1's */
  chunks: T[][];
  size: number;
}

const CHUNK_MAX = 128;
/** a chunk shrunk below this is merged into a neighbour, so chunks stay dense */
const CHUNK_MIN = CHUNK_MAX / 4;

export function createPriceLevels<T extends Keyed>(): PriceLevels<T> {
  return { chunks: [], size: 0 };
}

/** The chunk that holds `key` or should receive it: the first whose last key is >= key, else the last. */
function chunkIndex<T extends Keyed>(chunks: T[][], key: number): number {
  let hi = chunks.length - 1;
  // Most traffic is at the best (tail) end: answer that without searching.
  if (chunks[hi]![0]!.key <= key) return hi;
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const chunk = chunks[mid]!;
    if (chunk[chunk.length - 1]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `chunk` whose key is >= key. */
function lowerBound<T extends Keyed>(chunk: T[], key: number): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunk[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Insert an entry whose key is not yet present. */
export function insertLevel<T extends Keyed>(set: PriceLevels<T>, item: T): void {
  const chunks = set.chunks;
  set.size++;
  if (chunks.length === 0) {
    chunks.push([item]);
    return;
  }
  const ci = chunkIndex(chunks, item.key);
  const chunk = chunks[ci]!;
  const at = lowerBound(chunk, item.key);
  // Shift by hand rather than splice: splice allocates its (empty) result array on every call.
  chunk.push(item);
  for (let j = chunk.length - 1; j > at; j--) chunk[j] = chunk[j - 1]!;
  chunk[at] = item;
  if (chunk.length > CHUNK_MAX) chunks.splice(ci + 1, 0, chunk.splice(CHUNK_MAX >>> 1));
}

/** Remove an entry; returns false when it is not in the set. */
export function removeLevel<T extends Keyed>(set: PriceLevels<T>, item: T): boolean {
  const chunks = set.chunks;
  if (chunks.length === 0) return false;
  const ci = chunkIndex(chunks, item.key);
  const chunk = chunks[ci]!;
  const at = lowerBound(chunk, item.key);
  if (chunk[at] !== item) return false;
  const last = chunk.length - 1;
  for (let j = at; j < last; j++) chunk[j] = chunk[j + 1]!;
  chunk.pop();
  set.size--;
  if (chunk.length === 0) chunks.splice(ci, 1);
  else if (chunk.length < CHUNK_MIN) mergeWithNeighbour(chunks, ci);
  return true;
}

function mergeWithNeighbour<T extends Keyed>(chunks: T[][], ci: number): void {
  const left = ci + 1 < chunks.length ? ci : ci - 1;
  if (left < 0) return;
  const a = chunks[left]!;
  const b = chunks[left + 1]!;
  if (a.length + b.length > CHUNK_MAX) return;
  for (let j = 0; j < b.length; j++) a.push(b[j]!);
  chunks.splice(left + 1, 1);
}

/** Remove and return the entry with the highest key. */
export function popLast<T extends Keyed>(set: PriceLevels<T>): T | null {
  const chunks = set.chunks;
  if (chunks.length === 0) return null;
  const chunk = chunks[chunks.length - 1]!;
  const item = chunk.pop()!;
  set.size--;
  if (chunk.length === 0) chunks.pop();
  return item;
}

/** Keep only the entries `keep` accepts, repacking the chunks (O(n), for bulk clean-ups). */
export function retainLevels<T extends Keyed>(set: PriceLevels<T>, keep: (item: T) => boolean): void {
  const kept: T[] = [];
  for (const chunk of set.chunks) for (const item of chunk) if (keep(item)) kept.push(item);
  const half = CHUNK_MAX >>> 1;
  set.chunks = [];
  for (let i = 0; i < kept.length; i += half) set.chunks.push(kept.slice(i, i + half));
  set.size = kept.length;
}

/** The entry with the highest key (the best level), or null. */
export function lastLevel<T extends Keyed>(set: PriceLevels<T>): T | null {
  const chunks = set.chunks;
  if (chunks.length === 0) return null;
  const chunk = chunks[chunks.length - 1]!;
  return chunk[chunk.length - 1]!;
}

/** The entry with the lowest key (the worst level), or null. */
export function firstLevel<T extends Keyed>(set: PriceLevels<T>): T | null {
  const chunks = set.chunks;
  return chunks.length === 0 ? null : chunks[0]![0]!;
}

/** Up to `limit` entries from the last (best) backwards. */
export function levelsFromLast<T extends Keyed>(set: PriceLevels<T>, limit = Number.POSITIVE_INFINITY): T[] {
  const out: T[] = [];
  const chunks = set.chunks;
  for (let c = chunks.length - 1; c >= 0; c--) {
    const chunk = chunks[c]!;
    for (let j = chunk.length - 1; j >= 0; j--) {
      if (out.length >= limit) return out;
      out.push(chunk[j]!);
    }
  }
  return out;
}
