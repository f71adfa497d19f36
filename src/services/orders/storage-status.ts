/**
 * The machine's side of the orders service, for the operator status (GET /v1/admin/status):
 * disk used by the journal and the snapshots, the last snapshot's age, how far projection and
 * the outbox lag the journal, retention's archive, and the last `bourse backup`.
 */
import type { Queryable } from '../../platform/db/types.ts';
import type { StorageStatus } from './model.ts';

export interface LiveSeqs {
  committed: number;
  projected: number;
  published: number;
  archiveDir: string;
}

export async function storageStatus(db: Queryable, live: LiveSeqs, now: number): Promise<StorageStatus> {
  const sizes = (
    await db.query<{
      journal: number;
      snapshots: number;
      first_seq: number | null;
      archived_seq: number | null;
    }>(
      `SELECT pg_total_relation_size('journal')::int8 AS journal,
              pg_total_relation_size('orders_snapshots')::int8 AS snapshots,
              (SELECT min(seq) FROM journal) AS first_seq,
              (SELECT archived_seq FROM exchange_state WHERE id = 1) AS archived_seq`,
    )
  ).rows[0]!;
  const snapshots = await db.query<{ seq: number; taken_at: Date; bytes: number }>(
    'SELECT seq, taken_at, bytes FROM orders_snapshots ORDER BY seq DESC',
  );
  const last = snapshots.rows[0];
  const archivedSeq = sizes.archived_seq ?? 0;
  return {
    journal: {
      bytes: sizes.journal,
      firstSeq: sizes.first_seq,
      rows: sizes.first_seq === null ? 0 : live.committed - sizes.first_seq + 1,
      archivedSeq,
      archiveDir: live.archiveDir,
    },
    snapshots: {
      bytes: sizes.snapshots,
      count: snapshots.rows.length,
      lastSeq: last?.seq ?? null,
      lastTakenAt: last ? last.taken_at.toISOString() : null,
      lastAgeMs: last ? Math.max(0, now - last.taken_at.getTime()) : null,
    },
    seqs: { committed: live.committed, projected: live.projected, published: live.published },
    lag: {
      projection: Math.max(0, live.committed - live.projected),
      outbox: Math.max(0, live.committed - live.published),
    },
    lastBackup: await lastBackup(db),
  };
}

/** The last `bourse backup` of the database (it covers every service's tables, shard nodes' too). */
export async function lastBackup(db: Queryable): Promise<StorageStatus['lastBackup']> {
  const backup = (
    await db.query<{ taken_at: Date; journal_seq: number; bytes: number; file: string }>(
      'SELECT taken_at, journal_seq, bytes, file FROM ops_backups ORDER BY id DESC LIMIT 1',
    )
  ).rows[0];
  return backup
    ? {
        takenAt: backup.taken_at.toISOString(),
        journalSeq: backup.journal_seq,
        bytes: backup.bytes,
        file: backup.file,
      }
    : null;
}
