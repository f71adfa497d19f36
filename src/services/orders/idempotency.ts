/**
 * Idempotency keys in memory, for a window: a client order id or an Idempotency-Key is answered
 * with the original outcome while its command is younger than the window (24 h by default, as
 * brokers document), and may be used again after it.
 *
 * Memory is bounded twice: by age (keys older than the window are dropped) and by count (beyond
 * `maxKeys` the oldest are dropped early). After an early drop the window is no longer complete
 * in memory: `coversSince()` says from when it is, and older keys are looked up in the database
 * (handlers.ts). A key is never dropped before its command is projected (`safeSeq`), so the
 * database has every key that memory no longer holds.
 *
 * Keys sit in a Map (key → seq) and in a FIFO in seq order (key, seq, ts), from which they are
 * dropped oldest first.
 */

export interface IdempotencyWindow {
  get(key: string): number | undefined;
  /** a command with this key got `seq` at time `ts` (seqs increase) */
  add(key: string, seq: number, ts: number): void;
  /** Drops keys older than `now − window`, and the oldest beyond maxKeys; none above `safeSeq`. */
  prune(now: number, safeSeq: number): void;
  /** Forgets keys of commands above `seq` (they were never committed: their seqs will be reused). */
  truncateAfter(seq: number): void;
  /** memory holds every key of a command at or after this time */
  coversSince(): number;
  size(): number;
}

export interface IdempotencyOptions {
  windowMs: number;
  maxKeys: number;
  /** the time from which the keys given by `add` are complete (when loaded from the database) */
  coversSince: number;
}

export function createIdempotencyWindow(options: IdempotencyOptions): IdempotencyWindow {
  const bySeq = new Map<string, number>();
  let keys: string[] = [];
  let seqs: number[] = [];
  let times: number[] = [];
  let head = 0;
  let covers = options.coversSince;

  function dropHead(): void {
    const key = keys[head]!;
    if (bySeq.get(key) === seqs[head]) bySeq.delete(key);
    head++;
    // compact now and then, so the arrays do not grow forever
    if (head >= 65_536 && head * 2 >= keys.length) {
      keys = keys.slice(head);
      seqs = seqs.slice(head);
      times = times.slice(head);
      head = 0;
    }
  }

  return {
    get: (key) => bySeq.get(key),
    add(key, seq, ts) {
      bySeq.set(key, seq);
      keys.push(key);
      seqs.push(seq);
      times.push(ts);
    },
    prune(now, safeSeq) {
      const oldest = now - options.windowMs;
      while (head < keys.length && seqs[head]! <= safeSeq) {
        if (times[head]! < oldest) {
          dropHead();
        } else if (keys.length - head > options.maxKeys) {
          // dropped before its time: memory now covers only what is newer
          covers = Math.max(covers, times[head]! + 1);
          dropHead();
        } else {
          break;
        }
      }
    },
    truncateAfter(seq) {
      while (keys.length > head && seqs[seqs.length - 1]! > seq) {
        const key = keys.pop()!;
        const s = seqs.pop()!;
        times.pop();
        if (bySeq.get(key) === s) bySeq.delete(key);
      }
    },
    coversSince: () => covers,
    size: () => bySeq.size,
  };
}
