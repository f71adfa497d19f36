/**
 * A shard node's journal (migration 014): its inputs in order, one fenced INSERT per batch, and
 * the outbox watermark. Fencing is the orders shards' own (persistence.ts, leadership.ts): the
 * batch goes in only while orders_leader.epoch for this shard is still the writer's. The read
 * tables' watermark (projected_seq, migration 016) sits next to the outbox's (projection.ts).
 */
import type { ShardInput } from '../../../engine/shards/node.ts';
import type { NodeSnapshot } from '../../../engine/shards/snapshot.ts';
import type { Queryable } from '../../../platform/db/types.ts';
import type { StorageStatus } from '../model.ts';
import { FencedError, type Fencing } from '../persistence.ts';
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

/** How far the shard's journal went out to the bus (published) and into the read tables (projected). */
export async function outboxMarks(
  db: Queryable,
  shard: number,
): Promise<{ published: number; projected: number }> {
  const { rows } = await db.query<{ published_seq: number; projected_seq: number }>(
    'SELECT published_seq, projected_seq FROM shard_outbox WHERE shard = $1',
    [shard],
  );
  return { published: rows[0]?.published_seq ?? 0, projected: rows[0]?.projected_seq ?? 0 };
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
  // the newest two stay: the last may not be usable yet (its messages not all sent)
  await db.query(
    `DELETE FROM shard_snapshots WHERE shard = $1 AND seq < (
       SELECT min(seq) FROM (SELECT seq FROM shard_snapshots WHERE shard = $1 ORDER BY seq DESC LIMIT 2) AS newest)`,
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
 * node), rows, seqs and snapshots this shard's. Shard journals are not archived yet (archivedSeq 0).
 */
export async function shardStorage(
  db: Queryable,
  shard: number,
  committed: number,
  now: number,
): Promise<Omit<StorageStatus, 'lastBackup'>> {
  const sizes = (
    await db.query<{
      journal: number;
      snapshots: number;
      first_seq: number | null;
      published: number | null;
      projected: number | null;
    }>(
      `SELECT pg_total_relation_size('shard_journal')::int8 AS journal,
              pg_total_relation_size('shard_snapshots')::int8 AS snapshots,
              (SELECT min(seq) FROM shard_journal WHERE shard = $1) AS first_seq,
              (SELECT published_seq FROM shard_outbox WHERE shard = $1) AS published,
              (SELECT projected_seq FROM shard_outbox WHERE shard = $1) AS projected`,
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
      archivedSeq: 0,
      archiveDir: '',
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
