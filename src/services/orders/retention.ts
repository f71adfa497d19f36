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
 *
 * Orders shard nodes prune their shard_journal the same way (shards/journal.ts `shardJournal`,
 * shard_outbox.archived_seq): covered by the shard's oldest kept snapshot, which is usable
 * (published and projected), published and projected, `retain` newer inputs kept; no age rule,
 * since a node looks nothing up in its journal by time (keys.ts keeps what a replay needs).
 */
import { join } from 'node:path';
import type { Command, RejectReason } from '../../domain/exchange.ts';
import type { Db, Queryable } from '../../platform/db/types.ts';
import { type ArchivedRow, JOURNAL_SEGMENTS, writeSegment } from './archive.ts';

/**
 * A journal table retention works on, with its watermarks: the single service's `journal`
 * (`ordersJournal` below) or an orders shard node's part of `shard_journal`
 * (shards/journal.ts `shardJournal`). The rules common to both (a contiguous run from the
 * watermark, at least `retain` newer entries kept, a segment before each delete) live in
 * pruneJournal; what is particular to a table lives here.
 */
export interface RetainedJournal<Row extends { seq: number }> {
  /** archive segment names' prefix (archive.ts), so journals can share a folder */
  segments: string;
  /** entries up to here have left the table */
  archivedSeq(db: Queryable): Promise<number>;
  /** the highest seq the table's own rules let go now (snapshots, outbox, projection; 0: none) */
  cutoff(db: Queryable): Promise<number>;
  /**
   * Entries after `afterSeq` up to `upTo`, in seq order, at most `limit`, as archived; it may stop
   * early at one that must stay (a gap ends the run too).
   */
  read(db: Queryable, afterSeq: number, upTo: number, limit: number): Promise<Row[]>;
  /** Deletes entries from..to and raises the watermark to `to`, in the caller's transaction. */
  remove(tx: Queryable, from: number, to: number): Promise<void>;
}

/** BOURSE_ARCHIVE_DIR, else journal-archive in the data folder (as config.ts resolves it). */
export function defaultArchiveDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BOURSE_ARCHIVE_DIR?.trim() || join(env.BOURSE_DATA_DIR?.trim() || './data', 'journal-archive');
}

/**
 * Journal entries kept in the table: as configured (null: never archive), else
 * BOURSE_JOURNAL_RETAIN (a count, or 'all'), else 100,000.
 */
export function journalRetainOf(
  configured: number | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number | null {
  if (configured !== undefined) return configured;
  const raw = env.BOURSE_JOURNAL_RETAIN?.trim();
  if (raw === 'all') return null;
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 100_000;
}

export interface RetentionOptions<Row extends { seq: number } = ArchivedRow> {
  db: Db;
  archiveDir: string;
  journal: RetainedJournal<Row>;
  /** entries kept in the table behind the last committed one; null: never archive */
  retain: number | null;
  /** entries per segment and per delete */
  batch?: number;
  committedSeq(): number;
}

export interface PruneResult {
  archived: number;
  segments: string[];
  /** entries up to here are archived (the journal's watermark) */
  archivedSeq: number;
}

/**
 * The single orders service's journal: `journal`, its watermarks in exchange_state (migration
 * 008), its snapshots in orders_snapshots; entries younger than `minAgeMs` stay (the idempotency
 * window: keyed deposits and transfers are looked up there, journal.ts findKeyedCommand).
 */
export function ordersJournal(o: {
  minAgeMs: number;
  now(): number;
  /** the outbox's watermark as the running publisher knows it */
  publishedSeq(): number;
}): RetainedJournal<ArchivedRow> {
  return {
    segments: JOURNAL_SEGMENTS,
    async archivedSeq(db) {
      const { rows } = await db.query<{ archived_seq: number }>(
        'SELECT archived_seq FROM exchange_state WHERE id = 1',
      );
      return Number(rows[0]?.archived_seq ?? 0);
    },
    async cutoff(db) {
      const { rows } = await db.query<{
        oldest: number | null;
        last_seq: number | null;
        published_seq: number | null;
      }>(
        `SELECT (SELECT min(seq) FROM orders_snapshots) AS oldest, s.last_seq, s.published_seq
           FROM (SELECT 1) AS one LEFT JOIN exchange_state s ON s.id = 1`,
      );
      const r = rows[0];
      if (!r || r.oldest === null || r.last_seq === null) return 0;
      const published = Math.max(Number(r.published_seq ?? 0), o.publishedSeq());
      return Math.max(0, Math.min(Number(r.oldest), Number(r.last_seq), published));
    },
    async read(db, afterSeq, upTo, limit) {
      const { rows } = await db.query<JournalRow>(
        `SELECT seq, ts, command, idempotency_key, reject_reason FROM journal
          WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        [afterSeq, upTo, limit],
      );
      // old enough only (ts grows with seq, so this is a prefix)
      const youngest = o.now() - o.minAgeMs;
      const out: ArchivedRow[] = [];
      for (const row of rows) {
        if (row.ts.getTime() >= youngest) break;
        out.push({
          seq: Number(row.seq),
          ts: row.ts.toISOString(),
          command: row.command,
          idempotency_key: row.idempotency_key,
          reject_reason: row.reject_reason,
        });
      }
      return out;
    },
    async remove(tx, from, to) {
      await tx.query('DELETE FROM journal WHERE seq >= $1 AND seq <= $2', [from, to]);
      await tx.query('UPDATE exchange_state SET archived_seq = GREATEST(archived_seq, $1) WHERE id = 1', [
        to,
      ]);
    },
  };
}

interface JournalRow {
  seq: number;
  ts: Date;
  command: Command;
  idempotency_key: string | null;
  reject_reason: RejectReason | null;
}

/** Archives and deletes every entry that may go now, batch by batch. */
export async function pruneJournal<R extends { seq: number }>(o: RetentionOptions<R>): Promise<PruneResult> {
  const batch = o.batch ?? 10_000;
  const result: PruneResult = { archived: 0, segments: [], archivedSeq: 0 };
  result.archivedSeq = await o.journal.archivedSeq(o.db);
  if (o.retain === null) return result;
  const upTo = Math.min(await o.journal.cutoff(o.db), o.committedSeq() - o.retain);
  while (result.archivedSeq < upTo) {
    const rows = await o.journal.read(o.db, result.archivedSeq, upTo, batch);
    // a contiguous run from the watermark
    const take: R[] = [];
    let expected = result.archivedSeq + 1;
    for (const row of rows) {
      if (row.seq !== expected) break;
      take.push(row);
      expected++;
    }
    if (take.length === 0) break;
    const from = take[0]!.seq;
    const to = take[take.length - 1]!.seq;
    result.segments.push(await writeSegment(o.archiveDir, take, o.journal.segments));
    await o.db.transaction((tx) => o.journal.remove(tx, from, to));
    result.archived += take.length;
    result.archivedSeq = to;
    if (take.length < batch) break;
  }
  return result;
}

export interface Pruner {
  /** Prunes now (joins a run in progress). */
  run(): Promise<PruneResult | null>;
  close(): Promise<void>;
}

/** Runs pruneJournal every `intervalMs` and on demand, one run at a time. */
export function createPruner<R extends { seq: number }>(
  o: RetentionOptions<R> & {
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
