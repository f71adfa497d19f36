/**
 * Groups items that arrive one by one (bus messages) into batches written by one call: while a
 * flush runs, new items queue up and go in the next one; with `gatherMs`, the first item of an idle
 * batcher waits that long for company, since at a low rate each item would otherwise cost a whole
 * statement (an INSERT of 1 row costs nearly what one of 100 does). Bounded: past `maxQueued` items are
 * dropped with a warning rather than letting a stalled database exhaust memory.
 */
import type { FastifyBaseLogger } from 'fastify';

export interface Batcher<T> {
  /**
   * Queues the item; resolves once the batch it went into has been flushed (or its flush failed and
   * was logged; at once for an item dropped because the queue is full). Waiting for it does not
   * hurry the flush: a bus consumer that acknowledges when this resolves still gets batched writes.
   */
  push(item: T): Promise<void>;
  /** Resolves when everything pushed so far has been flushed (or failed and been logged). */
  idle(): Promise<void>;
}

export function createBatcher<T>(opts: {
  flush: (items: T[]) => Promise<void>;
  maxBatch: number;
  maxQueued: number;
  /** how long an idle batcher waits for more items before flushing (default 0: at once) */
  gatherMs?: number;
  logger: FastifyBaseLogger;
  what: string;
}): Batcher<T> {
  /** queued items, each with what its `push` waits on */
  let queue: { item: T; written: () => void }[] = [];
  let running: Promise<void> | null = null;
  let dropped = 0;
  let gathering: ReturnType<typeof setTimeout> | null = null;

  const startNow = () => {
    if (gathering) {
      clearTimeout(gathering);
      gathering = null;
    }
    running ??= run();
  };

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.maxBatch);
      queue = queue.slice(batch.length);
      try {
        await opts.flush(batch.map((q) => q.item));
      } catch (err) {
        opts.logger.error({ err, items: batch.length }, `could not write ${opts.what}`);
      }
      for (const q of batch) q.written();
      if (dropped > 0) {
        opts.logger.warn({ dropped }, `${opts.what}: queue full, items dropped`);
        dropped = 0;
      }
    }
    running = null;
  }

  return {
    push(item) {
      if (queue.length >= opts.maxQueued) {
        dropped++;
        return Promise.resolve();
      }
      return new Promise<void>((written) => {
        queue.push({ item, written });
        if (running) return;
        if (!opts.gatherMs || queue.length >= opts.maxBatch) startNow();
        else gathering ??= setTimeout(startNow, opts.gatherMs);
      });
    },
    async idle() {
      if (gathering) startNow();
      while (running) await running;
    },
  };
}
