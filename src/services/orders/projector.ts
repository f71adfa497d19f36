/**
 * The projector: writes the derived tables from committed journal entries, off the
 * acknowledgement path.
 *
 *   sequencer commits journal rows → ack → projector.offer(entries) → … → writeProjection
 *
 * It holds the committed entries (with the engine events they caused) that are not projected yet
 * and writes them in one statement per cycle: everything waiting, up to maxBatch commands. While
 * a projection is being written the next entries queue up, so under load a cycle carries
 * thousands of commands and one order's whole life (creation, fills, cancel) becomes one row
 * write. Its commit is asynchronous (persistence.ts): the journal is the durable record.
 *
 * At a low rate nothing queues behind a cycle, so each commit would become a projection of one or
 * two commands, and one statement costs about the same for 1 command as for 100 (on PGlite ~5 ms
 * of CPU: at 100 orders/s that was most of a core). So a cycle first gathers for `gatherMs`,
 * unless someone waits for the tables (`caughtUp`) or a full batch is queued: then it starts now.
 *
 * `projectedSeq` is the watermark: the tables hold exactly the journal up to it. Reads that need
 * the tables wait for it (`caughtUp`). After a crash, exchange_state.last_seq is the watermark
 * that reached the disk; recovery replays the journal after it and offers those entries again.
 * A failed projection is retried (with the committed view reloaded from the tables, since the
 * failed batch may have moved it); it never affects acknowledged commands.
 */
import type { Db } from '../../platform/db/types.ts';
import {
  buildBatchRows,
  type CommittedExchange,
  FencedError,
  type Fencing,
  loadCommittedExchange,
  writeProjection,
} from './persistence.ts';
import type { SequencedCommand } from './sequencer.ts';

export interface ProjectorOptions {
  /** most commands per projection transaction */
  maxBatch: number;
  /** how long a cycle waits for more entries when no reader waits for the tables (0: never) */
  gatherMs?: number;
  /** how far the bus has been sent the events (recorded with each projection) */
  publishedSeq(): number;
  onError(err: unknown, attempt: number): void;
  /** a shard's leadership: each projection checks its epoch, and stops for good once refused */
  fencing?: Fencing;
}

export interface Projector<E extends { seq: number } = SequencedCommand> {
  /** Committed entries, in seq order; entries at or below what was already offered are ignored. */
  offer(entries: readonly E[]): void;
  /** highest seq offered so far */
  offeredSeq(): number;
  /** the watermark: the tables reflect the journal up to here */
  projectedSeq(): number;
  /** Resolves once the tables reflect the journal up to `seq` (or the projector is closed). */
  caughtUp(seq: number): Promise<void>;
  /** Projects everything offered, then stops. */
  close(): Promise<void>;
  /**
   * Stops now: what is queued is dropped and nothing more is written (a crash, as far as the tables
   * are concerned; whoever projects next starts from their watermark). A write in flight may land.
   */
  stop(): void;
}

/** `projected`: the watermark as the tables hold it (exchange_state.last_seq). */
export async function createProjector(
  db: Db,
  projected: number,
  options: ProjectorOptions,
): Promise<Projector> {
  let view: CommittedExchange = await loadCommittedExchange(db);
  return createBatchProjector<SequencedCommand>(projected, {
    maxBatch: options.maxBatch,
    ...(options.gatherMs !== undefined && { gatherMs: options.gatherMs }),
    onError: options.onError,
    write: (batch) =>
      writeProjection(db, buildBatchRows(batch, view), options.publishedSeq(), options.fencing),
    // buildBatchRows moved the view forward for rows that were not written
    afterFailure: async () => {
      view = await loadCommittedExchange(db);
    },
  });
}

export interface BatchProjectorOptions<E> {
  /** most entries per write */
  maxBatch: number;
  /** how long a cycle waits for more entries when no reader waits for the tables (0: never) */
  gatherMs?: number;
  /**
   * Writes one batch and its watermark (the batch's last seq) in one transaction. FencedError:
   * another process leads and projects from the tables' watermark itself; this projector stops.
   */
  write(batch: readonly E[]): Promise<void>;
  /** after a failed write, before it is tried again (the failure may have left state to rebuild) */
  afterFailure?(): Promise<void>;
  onError(err: unknown, attempt: number): void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
}

/**
 * The scheduling of a projection, whatever it writes: batches of committed entries, a gather
 * window, retries with backoff, readers waiting for a seq, a stop once fenced. The orders service's
 * projector (above) and the shard nodes' (shards/projection.ts) are this with their own `write`.
 */
export function createBatchProjector<E extends { seq: number }>(
  projected: number,
  options: BatchProjectorOptions<E>,
): Projector<E> {
  let queue: E[] = [];
  let offered = projected;
  let running = false;
  let closed = false;
  let stopped = false;
  let waiters: Waiter[] = [];
  let idle: (() => void) | null = null;
  let gathering: ReturnType<typeof setTimeout> | null = null;
  const gatherMs = options.gatherMs ?? 0;

  /** Starts a cycle now if one is due and none runs; a pending gather ends early. */
  function startNow(): void {
    if (gathering) {
      clearTimeout(gathering);
      gathering = null;
    }
    if (!running && queue.length > 0) void run();
  }

  /** A cycle for what was just offered: at once when it is a full batch or a reader waits, else after gatherMs. */
  function schedule(): void {
    if (running || gathering || queue.length === 0) return;
    if (gatherMs <= 0 || queue.length >= options.maxBatch || waiters.length > 0) {
      startNow();
      return;
    }
    gathering = setTimeout(() => {
      gathering = null;
      if (!running && queue.length > 0) void run();
    }, gatherMs);
  }

  function release(): void {
    if (waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of waiters) {
      if (w.seq <= projected || closed) w.resolve();
      else still.push(w);
    }
    waiters = still;
  }

  async function run(): Promise<void> {
    running = true;
    let attempt = 0;
    while (queue.length > 0 && !stopped) {
      // take the batch out: entries offered while it is written queue up for the next one
      const batch = queue.length <= options.maxBatch ? queue : queue.slice(0, options.maxBatch);
      queue = batch === queue ? [] : queue.slice(batch.length);
      try {
        await options.write(batch);
      } catch (err) {
        if (err instanceof FencedError) {
          // another process leads the shard and projects from the tables' watermark itself
          options.onError(err, 0);
          queue = [];
          closed = true;
          break;
        }
        if (stopped) break;
        queue = batch.concat(queue);
        attempt++;
        options.onError(err, attempt);
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
        try {
          await options.afterFailure?.();
        } catch {
          // the next attempt tries again
        }
        continue;
      }
      attempt = 0;
      projected = batch[batch.length - 1]!.seq;
      release();
    }
    running = false;
    if (closed) release();
    idle?.();
  }

  return {
    offer(entries) {
      for (const entry of entries) {
        if (entry.seq <= offered) continue;
        queue.push(entry);
        offered = entry.seq;
      }
      if (queue.length >= options.maxBatch) startNow();
      else schedule();
    },
    offeredSeq: () => offered,
    projectedSeq: () => projected,
    caughtUp(seq) {
      if (seq <= projected || closed) return Promise.resolve();
      const caught = new Promise<void>((resolve) => waiters.push({ seq, resolve }));
      // a reader waits: no more gathering
      if (gathering) startNow();
      return caught;
    },
    async close() {
      startNow();
      if (running) await new Promise<void>((r) => (idle = r));
      closed = true;
      release();
    },
    stop() {
      stopped = true;
      closed = true;
      queue = [];
      if (gathering) clearTimeout(gathering);
      gathering = null;
      release();
    },
  };
}
