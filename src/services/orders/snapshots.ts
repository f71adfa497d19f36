/**
 * Engine snapshots in the database (orders_snapshots), so that recovery is the last snapshot plus
 * the journal after it instead of the whole journal.
 *
 * Taking one (every `every` commands, or every `intervalMs` if anything happened since the last):
 *   1. capture: at a command boundary, a plain-data copy of the engine and the sequencer's
 *      counters (synchronous; the only pause of the command path, proportional to open orders
 *      and accounts, not to history);
 *   2. wait until its seq is committed (a failed commit throws it away: it held commands that
 *      were rejected) and projected (a snapshot never lies ahead of the tables' watermark, so
 *      recovery from it can always project the tail);
 *   3. serialise in slices (yielding to the event loop between them), gzip on the thread pool,
 *      and insert it with its SHA-256 in one transaction that also drops all but the newest
 *      `keep` snapshots.
 * A crash at any point leaves either the new row, whole, or no row: the previous snapshots stay.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { EngineSnapshot } from '../../engine/api.ts';
import type { Db, Queryable } from '../../platform/db/types.ts';
import type { Captured } from './sequencer.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** snapshots kept: the newest and the one before (a fallback should the newest not restore) */
const KEEP = 2;
/** orders serialised per slice before yielding */
const SLICE = 20_000;

/** JSON of a captured state, built in slices so that a large book never blocks for long. */
async function serialise(c: Captured): Promise<Buffer> {
  const { orders, ...rest } = c.engine;
  const parts: string[] = [
    `{"seq":${c.seq},"lastOrderId":${c.lastOrderId},"lastTs":${c.lastTs},"engine":`,
    JSON.stringify(rest).slice(0, -1),
    ',"orders":[',
  ];
  for (let i = 0; i < orders.length; i += SLICE) {
    const slice = JSON.stringify(orders.slice(i, i + SLICE));
    parts.push(i === 0 ? slice.slice(1, -1) : `,${slice.slice(1, -1)}`);
    await new Promise((r) => setImmediate(r));
  }
  parts.push(']}}');
  return Buffer.from(parts.join(''));
}

export async function writeSnapshot(db: Db, c: Captured, takenAt: number): Promise<{ bytes: number }> {
  const json = await serialise(c);
  const state = await gzipAsync(json, { level: 1 });
  const sha256 = createHash('sha256').update(state).digest('hex');
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO orders_snapshots (seq, taken_at, format, last_order_id, last_ts, bytes, sha256, state)
       VALUES ($1, 'epoch'::timestamptz + $2 * interval '1 millisecond', $3, $4, $5, $6, $7, $8)
       ON CONFLICT (seq) DO NOTHING`,
      [c.seq, takenAt, c.engine.format, c.lastOrderId, c.lastTs, state.length, sha256, state],
    );
    await tx.query(
      `DELETE FROM orders_snapshots WHERE seq < (
         SELECT min(seq) FROM (SELECT seq FROM orders_snapshots ORDER BY seq DESC LIMIT ${KEEP}) AS newest)`,
    );
  });
  return { bytes: state.length };
}

export interface StoredSnapshot {
  seq: number;
  lastOrderId: number;
  lastTs: number;
  engine: EngineSnapshot;
}

/**
 * The newest snapshot at or below `atMostSeq` whose digest checks out, or null. `skip` is told
 * about each one passed over (damaged).
 */
export async function loadSnapshot(
  db: Queryable,
  atMostSeq: number,
  skip: (seq: number, why: string) => void,
): Promise<StoredSnapshot | null> {
  const { rows } = await db.query<{ seq: number }>(
    'SELECT seq FROM orders_snapshots WHERE seq <= $1 ORDER BY seq DESC',
    [atMostSeq],
  );
  for (const { seq } of rows) {
    const row = (
      await db.query<{ sha256: string; state: Uint8Array }>(
        'SELECT sha256, state FROM orders_snapshots WHERE seq = $1',
        [seq],
      )
    ).rows[0];
    if (!row) continue;
    const bytes = Buffer.from(row.state.buffer, row.state.byteOffset, row.state.byteLength);
    if (createHash('sha256').update(bytes).digest('hex') !== row.sha256) {
      skip(seq, 'digest mismatch');
      continue;
    }
    try {
      const parsed = JSON.parse((await gunzipAsync(bytes)).toString()) as StoredSnapshot;
      if (parsed.seq !== seq) throw new Error(`holds seq ${parsed.seq}`);
      return parsed;
    } catch (err) {
      skip(seq, (err as Error).message);
    }
  }
  return null;
}

export interface SnapshotterOptions {
  db: Db;
  /** commands between snapshots (0: never by count) */
  every: number;
  /** ms between snapshots when anything was committed since the last (0: never by time) */
  intervalMs: number;
  now(): number;
  capture(): Captured;
  whenCommitted(seq: number): Promise<void>;
  whenProjected(seq: number): Promise<void>;
  onWriting(seq: number): void;
  onWritten(seq: number, info: { bytes: number; pauseMs: number; ms: number }): void;
  onError(err: unknown): void;
}

export interface Snapshotter {
  /** After each commit: takes a snapshot when one is due. */
  committed(seq: number): void;
  /** Takes one now (unless one is being written); resolves when it is written or given up. */
  take(): Promise<void>;
  /** Waits for a snapshot being written, and takes no more. */
  close(): Promise<void>;
  lastSeq(): number;
}

export function createSnapshotter(o: SnapshotterOptions, lastSeq: number): Snapshotter {
  let last = lastSeq;
  let lastAt = o.now();
  let writing: Promise<void> | null = null;
  let closed = false;

  function take(): Promise<void> {
    if (closed) return Promise.resolve();
    if (writing) return writing;
    const t0 = performance.now();
    const captured = o.capture();
    const pauseMs = performance.now() - t0;
    last = captured.seq;
    lastAt = o.now();
    writing = (async () => {
      try {
        await o.whenCommitted(captured.seq);
        await o.whenProjected(captured.seq);
        o.onWriting(captured.seq);
        const { bytes } = await writeSnapshot(o.db, captured, o.now());
        o.onWritten(captured.seq, { bytes, pauseMs, ms: performance.now() - t0 });
      } catch (err) {
        o.onError(err);
      } finally {
        writing = null;
      }
    })();
    return writing;
  }

  return {
    committed(seq) {
      if (closed || writing || seq <= last) return;
      const byCount = o.every > 0 && seq - last >= o.every;
      const byTime = o.intervalMs > 0 && o.now() - lastAt >= o.intervalMs;
      if (byCount || byTime) void take();
    },
    take,
    async close() {
      closed = true;
      if (writing) await writing;
    },
    lastSeq: () => last,
  };
}
