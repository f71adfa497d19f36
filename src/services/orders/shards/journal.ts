/**
 * A shard node's journal (migration 014): its inputs in order, one fenced INSERT per batch, and
 * the outbox watermark. Fencing is the orders shards' own (persistence.ts, leadership.ts): the
 * batch goes in only while orders_leader.epoch for this shard is still the writer's. The read
 * tables' watermark (projected_seq, migration 016) sits next to the outbox's (projection.ts), and
 * the archive's (archived_seq, migration 017: entries up to it left the table, `shardJournal`).
 */
import type { ShardInput } from '../../../engine/shards/node.ts';
import type { NodeSnapshot } from '../../../engine/shards/snapshot.ts';
import type { Queryable } from '../../../platform/db/types.ts';
import { shardSegments } from '../archive.ts';
import type { StorageStatus } from '../model.ts';
import { FencedError, type Fencing, requireEpoch } from '../persistence.ts';
import type { RetainedJournal } from '../retention.ts';
import type { KeyWindowData } from './keys.ts';

const INSERT = `INSERT INTO shard_journal (shard, seq, input)
  SELECT $2, (x->>0)::bigint, x->1 FROM jsonb_array_elements($1::jsonb) AS x`;
const FENCED = `${INSERT} WHERE (SELECT epoch FROM orders_leader WHERE shard = $2 FOR SHARE) = $3`;

export async function appendInputs(
  db: Queryable,
  shard: number,
  entries: readonly [number, ShardInput][],
  fencing: Fencing | null,
): Promise<void> {
  const rows = JSON.stringify(entries);
  if (fencing === null) {
    await db.query(INSERT, [rows, shard], { prepare: true });
    return;
  }
  const epoch = fencing.epoch();
  const { rowCount } = await db.query(FENCED, [rows, shard, epoch], { prepare: true });
  if (rowCount !== entries.length) throw new FencedError(shard, epoch);
}

const PAGE = 5000;

export async function* readInputs(
  db: Queryable,
  shard: number,
  afterSeq = 0,
): AsyncGenerator<[number, ShardInput]> {
  let last = afterSeq;
  for (;;) {
    const { rows } = await db.query<{ seq: number; input: ShardInput }>(
      'SELECT seq, input FROM shard_journal WHERE shard = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [shard, last, PAGE],
    );
    for (const row of rows) yield [row.seq, row.input];
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1]!.seq;
  }
}

/** The newest client command journaled under `key` for this command type and account (a replay's original). */
export async function findKeyed(
  db: Queryable,
  shard: number,
  type: string,
  account: string,
  key: string,
): Promise<{ seq: number; input: ShardInput } | null> {
  const { rows } = await db.query<{ seq: number; input: ShardInput }>(
    `SELECT seq, input FROM shard_journal
      WHERE shard = $1 AND input->>'kind' = 'command' AND input->>'key' = $2
        AND input->'command'->>'type' = $3 AND input->'command'->>'account' = $4
      ORDER BY seq DESC LIMIT 1`,
    [shard, key, type, account],
  );
  const row = rows[0];
  return row === undefined ? null : { seq: Number(row.seq), input: row.input };
}

/**
 * How far the shard's journal went out to the bus (published), into the read tables (projected)
 * and out of the table into the archive (archived).
 */
export async function outboxMarks(
  db: Queryable,
  shard: number,
): Promise<{ published: number; projected: number; archived: number }> {
  const { rows } = await db.query<{ published_seq: number; projected_seq: number; archived_seq: number }>(
    'SELECT published_seq, projected_seq, archived_seq FROM shard_outbox WHERE shard = $1',
    [shard],
  );
  const r = rows[0];
  return {
    published: Number(r?.published_seq ?? 0),
    projected: Number(r?.projected_seq ?? 0),
    archived: Number(r?.archived_seq ?? 0),
  };
}

/** A shard's journal entry as archived (archive.ts, `shard-<k>-…` segments). */
export interface ArchivedInput {
  seq: number;
  input: ShardInput;
}

/**
 * A shard's journal for retention (retention.ts pruneJournal). An entry may leave the table once
 * the shard's oldest kept snapshot covers it and a usable snapshot exists (one at or below both
 * marks: a node that starts cold or a standby that fell behind restores from it and reads only
 * the table after it, never the archive; writeSnapshot never drops the newest usable one), and it
 * was published and projected. The delete is fenced like the journal's INSERT: a deposed leader
 * still running it deletes nothing (and what it would delete, the rules allow anyway).
 */
export function shardJournal(shard: number, fencing: Fencing | null): RetainedJournal<ArchivedInput> {
  return {
    segments: shardSegments(shard),
    archivedSeq: async (db) => (await outboxMarks(db, shard)).archived,
    async cutoff(db) {
      const { rows } = await db.query<{
        oldest: number | null;
        usable: number | null;
        published_seq: number;
        projected_seq: number;
      }>(
        `SELECT (SELECT min(seq) FROM shard_snapshots WHERE shard = $1) AS oldest,
                (SELECT max(seq) FROM shard_snapshots
                  WHERE shard = $1 AND seq <= LEAST(o.published_seq, o.projected_seq)) AS usable,
                o.published_seq, o.projected_seq
           FROM shard_outbox o WHERE o.shard = $1`,
        [shard],
      );
      const r = rows[0];
      if (!r || r.oldest === null || r.usable === null) return 0;
      return Math.max(
        0,
        Math.min(Number(r.oldest), Number(r.usable), Number(r.published_seq), Number(r.projected_seq)),
      );
    },
    async read(db, afterSeq, upTo, limit) {
      const { rows } = await db.query<ArchivedInput>(
        'SELECT seq, input FROM shard_journal WHERE shard = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4',
        [shard, afterSeq, upTo, limit],
      );
      return rows.map((r) => ({ seq: Number(r.seq), input: r.input }));
    },
    async remove(tx, from, to) {
      if (fencing !== null) await requireEpoch(tx, fencing);
      await tx.query('DELETE FROM shard_journal WHERE shard = $1 AND seq >= $2 AND seq <= $3', [
        shard,
        from,
        to,
      ]);
      await tx.query(
        `INSERT INTO shard_outbox (shard, published_seq, archived_seq) VALUES ($1, 0, $2)
         ON CONFLICT (shard) DO UPDATE SET archived_seq = GREATEST(shard_outbox.archived_seq, EXCLUDED.archived_seq)`,
        [shard, to],
      );
    },
  };
}

export async function markPublished(db: Queryable, shard: number, seq: number): Promise<void> {
  await db.query(
    `INSERT INTO shard_outbox (shard, published_seq) VALUES ($1, $2)
     ON CONFLICT (shard) DO UPDATE SET published_seq = GREATEST(shard_outbox.published_seq, EXCLUDED.published_seq)`,
    [shard, seq],
  );
}

/** A shard node's snapshot as stored: its state and its client-order-id window. */
export interface StoredShardSnapshot {
  node: NodeSnapshot;
  keys: KeyWindowData;
}

export async function writeSnapshot(
  db: Queryable,
  shard: number,
  seq: number,
  snapshot: StoredShardSnapshot,
): Promise<void> {
  await db.query(
    'INSERT INTO shard_snapshots (shard, seq, snapshot) VALUES ($1, $2, $3) ON CONFLICT (shard, seq) DO NOTHING',
    [shard, seq, JSON.stringify(snapshot)],
  );
  // the newest two stay: the last may not be usable yet (its messages not all sent or projected);
  // and so does the newest usable one, whatever its age: retention archives only what a usable
  // snapshot covers, and a cold start must find one (LEAST skips the NULL of none usable)
  await db.query(
    `DELETE FROM shard_snapshots WHERE shard = $1 AND seq < LEAST(
       (SELECT min(seq) FROM (SELECT seq FROM shard_snapshots WHERE shard = $1 ORDER BY seq DESC LIMIT 2) AS newest),
       (SELECT max(seq) FROM shard_snapshots WHERE shard = $1 AND seq <= (
          SELECT LEAST(published_seq, projected_seq) FROM shard_outbox WHERE shard = $1)))`,
    [shard],
  );
}

/**
 * The newest snapshot at or below `upTo`, if any: a node starts from one whose messages have all
 * been sent and whose entries are all in the read tables (the journal after it is replayed, and
 * what that replay sends and projects is all that is still to do).
 */
export async function readSnapshot(
  db: Queryable,
  shard: number,
  upTo: number,
): Promise<{ seq: number; snapshot: StoredShardSnapshot } | null> {
  const { rows } = await db.query<{ seq: number; snapshot: StoredShardSnapshot }>(
    'SELECT seq, snapshot FROM shard_snapshots WHERE shard = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1',
    [shard, upTo],
  );
  return rows[0] ?? null;
}

/**
 * A shard node's storage for the operator status, in the orders service's shape. The journal and
 * snapshot tables are shared by all shard nodes: `bytes` are those tables' (the same on every
 * node), rows, seqs, snapshots and the archive's watermark this shard's.
 */
export async function shardStorage(
  db: Queryable,
  shard: number,
  committed: number,
  now: number,
  archiveDir: string,
): Promise<Omit<StorageStatus, 'lastBackup'>> {
  const sizes = (
    await db.query<{
      journal: number;
      snapshots: number;
      first_seq: number | null;
      published: number | null;
      projected: number | null;
      archived: number | null;
    }>(
      `SELECT pg_total_relation_size('shard_journal')::int8 AS journal,
              pg_total_relation_size('shard_snapshots')::int8 AS snapshots,
              (SELECT min(seq) FROM shard_journal WHERE shard = $1) AS first_seq,
              (SELECT published_seq FROM shard_outbox WHERE shard = $1) AS published,
              (SELECT projected_seq FROM shard_outbox WHERE shard = $1) AS projected,
              (SELECT archived_seq FROM shard_outbox WHERE shard = $1) AS archived`,
      [shard],
    )
  ).rows[0]!;
  const snaps = await db.query<{ seq: number; taken_at: Date }>(
    'SELECT seq, taken_at FROM shard_snapshots WHERE shard = $1 ORDER BY seq DESC',
    [shard],
  );
  const last = snaps.rows[0];
  const firstSeq = sizes.first_seq === null ? null : Number(sizes.first_seq);
  const published = Number(sizes.published ?? 0);
  const projected = Number(sizes.projected ?? 0);
  return {
    journal: {
      bytes: Number(sizes.journal),
      firstSeq,
      rows: firstSeq === null ? 0 : committed - firstSeq + 1,
      archivedSeq: Number(sizes.archived ?? 0),
      archiveDir,
    },
    snapshots: {
      bytes: Number(sizes.snapshots),
      count: snaps.rows.length,
      lastSeq: last ? Number(last.seq) : null,
      lastTakenAt: last ? last.taken_at.toISOString() : null,
      lastAgeMs: last ? Math.max(0, now - last.taken_at.getTime()) : null,
    },
    seqs: { committed, projected, published },
    lag: { projection: Math.max(0, committed - projected), outbox: Math.max(0, committed - published) },
  };
}
