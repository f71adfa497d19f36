/**
 * Journal retention (BOURSE_JOURNAL_RETAIN): old journal entries move to the archive
 * (archive.ts) and leave the hot table, so that a Bourse running for months keeps a bounded
 * journal and restarts replay only the tail after a snapshot.
 *
 * An entry is archived only when nothing running still needs it from the table:
 *   - the oldest kept snapshot covers it (so both the newest snapshot and its fallback can
 *     still be restored from: recovery never reads the archive),
 *   - it is projected (the derived tables hold its effects) and published (the outbox is done),
 *   - it is older than the idempotency window (keyed deposits and transfers are looked up in
 *     the journal, journal.ts findKeyedCommand),
 *   - and at least `retain` newer commands stay in the table (an operator's margin for audits
 *     and `bourse verify` without the archive).
 * Work happens in batches, each one segment file then one short transaction (delete + the
 * exchange_state.archived_seq watermark), off the acknowledgement path: on a timer and after
 * each snapshot.
 */
import type { Command, RejectReason } from '../../domain/exchange.ts';
import type { Db } from '../../platform/db/types.ts';
import { type ArchivedRow, writeSegment } from './archive.ts';

export interface RetentionOptions {
  db: Db;
  archiveDir: string;
  /** commands kept in the table behind the last committed one; null: never archive */
  retain: number | null;
  /** entries younger than this stay in the table (the idempotency window) */
  minAgeMs: number;
  /** entries per segment and per delete */
  batch?: number;
  now(): number;
  committedSeq(): number;
  /** the outbox's watermark as the running publisher knows it */
  publishedSeq(): number;
}

export interface PruneResult {
  archived: number;
  segments: string[];
  /** entries up to here are archived (exchange_state.archived_seq) */
  archivedSeq: number;
}

/** The highest seq that may leave the table now (0: none). */
async function cutoff(o: RetentionOptions): Promise<number> {
  if (o.retain === null) return 0;
  const { rows } = await o.db.query<{
    oldest: number | null;
    last_seq: number | null;
    published_seq: number | null;
  }>(
    `SELECT (SELECT min(seq) FROM orders_snapshots) AS oldest, s.last_seq, s.published_seq
       FROM (SELECT 1) AS one LEFT JOIN exchange_state s ON s.id = 1`,
  );
  const r = rows[0];
  if (!r || r.oldest === null || r.last_seq === null) return 0;
  const published = Math.max(r.published_seq ?? 0, o.publishedSeq());
  return Math.max(0, Math.min(r.oldest, r.last_seq, published, o.committedSeq() - o.retain));
}

interface Row {
  seq: number;
  ts: Date;
  command: Command;
  idempotency_key: string | null;
  reject_reason: RejectReason | null;
}

/** Archives and deletes every entry that may go now, batch by batch. */
export async function pruneJournal(o: RetentionOptions): Promise<PruneResult> {
  const batch = o.batch ?? 10_000;
  const result: PruneResult = { archived: 0, segments: [], archivedSeq: 0 };
  const state = await o.db.query<{ archived_seq: number }>(
    'SELECT archived_seq FROM exchange_state WHERE id = 1',
  );
  result.archivedSeq = state.rows[0]?.archived_seq ?? 0;
  const upTo = await cutoff(o);
  const youngest = o.now() - o.minAgeMs;
  while (result.archivedSeq < upTo) {
    const { rows } = await o.db.query<Row>(
      `SELECT seq, ts, command, idempotency_key, reject_reason FROM journal
        WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
      [result.archivedSeq, upTo, batch],
    );
    // a contiguous run of old-enough entries (ts grows with seq, so this is a prefix)
    const take: ArchivedRow[] = [];
    let expected = result.archivedSeq + 1;
    for (const row of rows) {
      if (row.seq !== expected || row.ts.getTime() >= youngest) break;
      take.push({
        seq: row.seq,
        ts: row.ts.toISOString(),
        command: row.command,
        idempotency_key: row.idempotency_key,
        reject_reason: row.reject_reason,
      });
      expected++;
    }
    if (take.length === 0) break;
    const from = take[0]!.seq;
    const to = take[take.length - 1]!.seq;
    result.segments.push(await writeSegment(o.archiveDir, take));
    await o.db.transaction(async (tx) => {
      await tx.query('DELETE FROM journal WHERE seq >= $1 AND seq <= $2', [from, to]);
      await tx.query('UPDATE exchange_state SET archived_seq = GREATEST(archived_seq, $1) WHERE id = 1', [
        to,
      ]);
    });
    result.archived += take.length;
    result.archivedSeq = to;
    if (take.length < rows.length || rows.length < batch) break;
  }
  return result;
}

export interface Pruner {
  /** Prunes now (joins a run in progress). */
  run(): Promise<PruneResult | null>;
  close(): Promise<void>;
}

/** Runs pruneJournal every `intervalMs` and on demand, one run at a time. */
export function createPruner(
  o: RetentionOptions & {
    intervalMs: number;
    onPruned(r: PruneResult): void;
    onError(err: unknown): void;
  },
): Pruner {
  let running: Promise<PruneResult | null> | null = null;
  let closed = false;
  const run = (): Promise<PruneResult | null> => {
    if (closed || o.retain === null) return Promise.resolve(null);
    if (running) return running;
    running = pruneJournal(o)
      .then(
        (r) => {
          if (r.archived > 0) o.onPruned(r);
          return r;
        },
        (err) => {
          o.onError(err);
          return null;
        },
      )
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = o.retain === null || o.intervalMs <= 0 ? null : setInterval(() => void run(), o.intervalMs);
  timer?.unref();
  return {
    run,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (running) await running;
    },
  };
}
