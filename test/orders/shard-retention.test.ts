/**
 * Journal retention on orders shard nodes (retention.ts over shards/journal.ts `shardJournal`):
 * with small snapshots and a small `retain`, old entries move to `shard-<k>-…` segments and leave
 * shard_journal, only as far as the rules allow (the oldest kept snapshot, which is usable, the
 * outbox and the projection, `retain` newer entries). The segments and the table hold every entry
 * exactly once, and replaying them from an empty node gives the node's state; a restart (a crash:
 * no flush), a standby that fell behind the archive and a standby's takeover rebuild the same state;
 * a keyed request sent again after its entry was archived is still answered as the original (seq
 * included), and another request under that key is still refused (409). PGlite + in-process bus,
 * PostgreSQL + NATS (the standby cases need PostgreSQL's second connection).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewOrderCommand } from '../../src/domain/exchange.ts';
import { orderIdAt, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { applyInput, createShardNode, type ShardNode } from '../../src/engine/shards/node.ts';
import { CONFIG, spec } from '../../src/engine/test-kit.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { listSegments, readArchive, shardSegments } from '../../src/services/orders/archive.ts';
import type { ArchivedInput } from '../../src/services/orders/shards/journal.ts';
import { type ShardNodeService, startShardNode } from '../../src/services/orders/shards/node-service.ts';
import { createShardOrdersClient } from '../../src/services/orders/shards/orders-client.ts';
import { createShardReads } from '../../src/services/orders/shards/reads.ts';
import { makeMemoryBus, makeNatsBus } from '../support/bus.ts';
import { makePgliteDb, makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith } from '../support/services.ts';
import { prng } from './support/service.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const SYMBOLS = ['ACME', 'BOLT'];
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];
const SNAPSHOT_EVERY = 40;
const RETAIN = 10;
const silent = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Made<T> = () => Promise<{ value: T; dispose: () => Promise<void> }>;

/** The parts of a node's state a replay must rebuild. */
function stateOf(node: ShardNode) {
  return {
    exchange: node.matching.exchange.exportState(),
    accounts: [...node.risk.accounts.values()].map((a) => ({
      ...a,
      positions: [...a.positions],
      kept: [...a.kept],
    })),
    orders: [...node.risk.orders],
    routed: [...node.risk.outbox],
    settled: [...node.matching.outbox],
  };
}

/** A Db whose plain queries can be held (a node that stops reading for a while). */
function gated(db: Db) {
  let gate: Promise<void> | null = null;
  let open = () => {};
  const wrapped: Db = {
    kind: db.kind,
    ...(db.session && { session: db.session.bind(db) }),
    async query(sql, params, options) {
      while (gate) await gate;
      return db.query(sql, params, options);
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
  return {
    db: wrapped,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open();
    },
  };
}

function suite(name: string, services: ('postgres' | 'nats')[], makeDb: Made<Db>, makeBus: Made<Bus>) {
  describeWith(services, name, () => {
    const db = scoped(makeDb);
    const bus = scoped(makeBus);
    const standbys = services.includes('postgres');
    const dirs: string[] = [];
    afterAll(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    /** `projectGatherMs`: how long the nodes wait before writing the read tables when nobody reads */
    async function cluster(projectGatherMs = 5) {
      const d = await db();
      const b = await bus();
      const archiveDir = await mkdtemp(join(tmpdir(), 'bourse-shard-archive-'));
      dirs.push(archiveDir);
      const start = (shard: number, holder = `node-${shard}`, on: Db = d) =>
        startShardNode({
          db: on,
          bus: b,
          config: CONFIG,
          layout: LAYOUT,
          shard,
          logger: silent,
          holder,
          leaseMs: 2000,
          snapshotEvery: SNAPSHOT_EVERY,
          journalRetain: RETAIN,
          // both shards in one folder: their segments must not clash
          archiveDir,
          pruneIntervalMs: 0,
          projectGatherMs,
        });
      const nodes: ShardNodeService[] = [await start(0), await start(1)];
      await Promise.all(nodes.map((n) => n.leading));
      for (const n of nodes)
        for (const s of SYMBOLS) await n.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
      for (const account of ACCOUNTS) {
        const n = nodes[riskShardOf(account, LAYOUT)]!;
        await n.submit({ type: 'deposit', ts: 0, account, amount: 50_000_000 });
        for (const symbol of SYMBOLS)
          await n.submit({ type: 'transfer_shares', ts: 0, account, symbol, qty: 1_000, cost: 9_000_000 });
      }
      const counters = [0, 0];
      const random = prng(5);
      return {
        d,
        archiveDir,
        nodes,
        start,
        async orders(count: number) {
          for (let i = 0; i < count; i++) {
            const account = ACCOUNTS[Math.floor(random() * ACCOUNTS.length)]!;
            const r = riskShardOf(account, LAYOUT);
            counters[r]! += 1;
            const order: NewOrderCommand = {
              type: 'new_order',
              ts: 0,
              id: orderIdAt(counters[r]!, r, LAYOUT),
              account,
              symbol: SYMBOLS[Math.floor(random() * SYMBOLS.length)]!,
              side: random() < 0.5 ? 'buy' : 'sell',
              orderType: 'limit',
              tif: 'gtc',
              qty: 1 + Math.floor(random() * 50),
              price: 9_950 + Math.floor(random() * 100),
            };
            await nodes[r]!.submit(order);
          }
        },
      };
    }
    type Cluster = Awaited<ReturnType<typeof cluster>>;

    /** Every message sent is applied, the outbox is empty and the read tables hold every entry. */
    async function quiet(c: Cluster): Promise<void> {
      const deadline = Date.now() + 30_000;
      let stable = 0;
      while (stable < 3) {
        if (Date.now() > deadline) throw new Error('the shards did not go quiet in 30 s');
        await sleep(50);
        const settled = c.nodes.every(
          (n) => n.role() === 'leader' && n.unpublished() === 0 && n.projectedSeq() === n.seq(),
        );
        const delivered = c.nodes.every((from) =>
          c.nodes.every(
            (to) =>
              (to.state().matching.inbox.applied.get(from.shard) ?? 0) ===
                (from.state().risk.outbox.get(to.shard) ?? 0) &&
              (to.state().risk.inbox.applied.get(from.shard) ?? 0) ===
                (from.state().matching.outbox.get(to.shard) ?? 0),
          ),
        );
        stable = settled && delivered ? stable + 1 : 0;
      }
    }

    /** Retention to the end: a second run, since the first may join one begun before the node was quiet. */
    async function pruneAll(...nodes: ShardNodeService[]): Promise<void> {
      for (const n of nodes) {
        expect(await n.prune()).not.toBeNull();
        expect(await n.prune()).not.toBeNull();
      }
    }

    async function marks(d: Db, shard: number) {
      const { rows } = await d.query<{ published_seq: number; projected_seq: number; archived_seq: number }>(
        'SELECT published_seq, projected_seq, archived_seq FROM shard_outbox WHERE shard = $1',
        [shard],
      );
      const snaps = await d.query<{ seq: number }>(
        'SELECT seq FROM shard_snapshots WHERE shard = $1 ORDER BY seq',
        [shard],
      );
      const table = await d.query<{ seq: number }>(
        'SELECT seq FROM shard_journal WHERE shard = $1 ORDER BY seq',
        [shard],
      );
      return {
        published: rows[0]!.published_seq,
        projected: rows[0]!.projected_seq,
        archived: rows[0]!.archived_seq,
        snapshots: snaps.rows.map((r) => r.seq),
        table: table.rows.map((r) => r.seq),
      };
    }

    /**
     * Shard k's archive and table: every entry 1…seq exactly once (segments neither overlap nor
     * leave a gap, and none is also in the table), only what the rules let go archived; replayed
     * from an empty node they give `node`'s state. Returns the watermark.
     */
    async function checkShard(c: Cluster, k: number, node: ShardNodeService): Promise<number> {
      const m = await marks(c.d, k);
      const seq = node.seq();
      // (1) covered by the oldest kept snapshot; (2) published and projected; (4) `retain` newer stay
      expect(m.archived).toBeLessThanOrEqual(Math.min(...m.snapshots));
      expect(m.archived).toBeLessThanOrEqual(Math.min(m.published, m.projected));
      expect(m.archived).toBeLessThanOrEqual(seq - RETAIN);
      // and as far as they allow (the node was quiet and retention ran to the end)
      expect(m.archived).toBe(Math.min(...m.snapshots, m.published, m.projected, seq - RETAIN));
      // a usable snapshot (both marks at or past it) covers the archive: a cold start finds it
      expect(m.snapshots.some((s) => s >= m.archived && s <= Math.min(m.published, m.projected))).toBe(true);
      // the table holds exactly what is not archived
      expect(m.table).toEqual(Array.from({ length: seq - m.archived }, (_, i) => m.archived + 1 + i));
      // the segments: contiguous from 1 to the watermark, each entry once
      const segments = await listSegments(c.archiveDir, shardSegments(k));
      let next = 1;
      for (const s of segments) {
        expect(s.from).toBe(next);
        next = s.to + 1;
      }
      expect(next - 1).toBe(m.archived);
      const raw: number[] = [];
      for (const s of segments)
        for await (const row of readArchive<ArchivedInput>(c.archiveDir, s.from - 1, shardSegments(k))) {
          if (row.seq > s.to) break;
          raw.push(row.seq);
        }
      expect(raw).toEqual(Array.from({ length: m.archived }, (_, i) => i + 1));
      // archive then table, replayed from an empty node: the node's state
      const replayed = createShardNode(CONFIG, k, LAYOUT);
      let at = 0;
      for await (const row of readArchive<ArchivedInput>(c.archiveDir, 0, shardSegments(k))) {
        expect(row.seq).toBe(++at);
        applyInput(replayed, row.input);
      }
      const { rows } = await c.d.query<ArchivedInput>(
        'SELECT seq, input FROM shard_journal WHERE shard = $1 ORDER BY seq',
        [k],
      );
      for (const row of rows) {
        expect(row.seq).toBe(++at);
        applyInput(replayed, row.input);
      }
      expect(at).toBe(seq);
      expect(stateOf(replayed)).toEqual(stateOf(node.state()));
      return m.archived;
    }

    it('archives what the rules allow; archive + table = the journal; a crash restart and a keyed replay after archiving', async () => {
      const c = await cluster();
      const a0 = riskShardOf('a0', LAYOUT);
      const client = (n: ShardNodeService) => createShardOrdersClient(n, createShardReads(c.d, n));
      // a keyed deposit and a keyed order early on: their entries will be archived
      const first = await client(c.nodes[a0]!).deposit('a0', { amount: 7, idempotencyKey: 'dep-1' });
      expect(first.replayed).toBe(false);
      const keyedOrder = await client(c.nodes[a0]!).submitOrder('a0', {
        symbol: 'ACME',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 9_000,
        tif: 'gtc',
        clientOrderId: 'first-order',
      });
      await c.orders(300);
      await quiet(c);
      const before = [0, 1].map((k) => stateOf(c.nodes[k]!.state()));
      const seqs = c.nodes.map((n) => n.seq());
      await pruneAll(...c.nodes);
      const archived = [await checkShard(c, 0, c.nodes[0]!), await checkShard(c, 1, c.nodes[1]!)];
      for (let k = 0; k < 2; k++) {
        expect(archived[k]).toBeGreaterThan(0);
        expect((await c.nodes[k]!.storageStatus()).journal).toMatchObject({
          archivedSeq: archived[k],
          archiveDir: c.archiveDir,
          firstSeq: archived[k]! + 1,
          rows: seqs[k]! - archived[k]!,
        });
      }
      // both keyed entries are in the archive now, not in the table
      expect(first.seq).toBeLessThanOrEqual(archived[a0]!);
      const { rows: keyedRows } = await c.d.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM shard_journal WHERE shard = $1 AND input ? 'key'`,
        [a0],
      );
      expect(keyedRows[0]!.n).toBe(0);

      // the same request again: the original's answer and seq; another under the key: 409
      const again = await client(c.nodes[a0]!).deposit('a0', { amount: 7, idempotencyKey: 'dep-1' });
      expect([again.replayed, again.seq]).toEqual([true, first.seq]);
      await expect(
        client(c.nodes[a0]!).deposit('a0', { amount: 8, idempotencyKey: 'dep-1' }),
      ).rejects.toMatchObject({ problem: { status: 409 } });
      const orderAgain = await client(c.nodes[a0]!).submitOrder('a0', {
        symbol: 'ACME',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 9_000,
        tif: 'gtc',
        clientOrderId: 'first-order',
      });
      expect([orderAgain.replayed, orderAgain.order.id]).toEqual([true, keyedOrder.order.id]);
      expect(c.nodes.map((n) => n.seq())).toEqual(seqs);

      // a crash (no flush) and a restart: from a snapshot the archive does not pass, the same state
      for (let k = 0; k < 2; k++) {
        await c.nodes[k]!.close({ flush: false });
        c.nodes[k] = await c.start(k, `again-${k}`);
      }
      await Promise.all(c.nodes.map((n) => n.leading));
      for (let k = 0; k < 2; k++) {
        expect(c.nodes[k]!.seq()).toBe(seqs[k]);
        expect(c.nodes[k]!.restoredFrom()).toBeGreaterThanOrEqual(archived[k]!);
        expect(stateOf(c.nodes[k]!.state())).toEqual(before[k]);
      }
      // the restarted node's window still has the key's original (it travels in the snapshot)
      const third = await client(c.nodes[a0]!).deposit('a0', { amount: 7, idempotencyKey: 'dep-1' });
      expect([third.replayed, third.seq]).toEqual([true, first.seq]);
      await expect(
        client(c.nodes[a0]!).deposit('a0', { amount: 9, idempotencyKey: 'dep-1' }),
      ).rejects.toMatchObject({ problem: { status: 409 } });

      // it goes on archiving after the restart, segments after the earlier ones
      await c.orders(200);
      await quiet(c);
      await pruneAll(...c.nodes);
      for (let k = 0; k < 2; k++) expect(await checkShard(c, k, c.nodes[k]!)).toBeGreaterThan(archived[k]!);
      for (const n of c.nodes) await n.close();
    }, 120_000);

    it('keeps the snapshot a cold start needs while the read tables lag, and restarts from it', async () => {
      // the nodes write no read tables by themselves (a long gather): projected_seq is set by hand
      const c = await cluster(3_600_000);
      await c.orders(60);
      const snapshotsOf0 = async () => (await marks(c.d, 0)).snapshots;
      await expect.poll(async () => (await snapshotsOf0()).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await expect.poll(() => c.nodes.every((n) => n.unpublished() === 0), { timeout: 10_000 }).toBe(true);
      // the read tables reach shard 0's newest snapshot, then stop moving
      const usable = Math.max(...(await snapshotsOf0()));
      await c.d.query('UPDATE shard_outbox SET projected_seq = $2 WHERE shard = $1', [0, usable]);
      await expect
        .poll(async () => (await marks(c.d, 0)).published, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(usable);
      await pruneAll(c.nodes[0]!);
      // as far as the oldest kept snapshot (the newest's fallback)
      const first = await marks(c.d, 0);
      expect(first.archived).toBe(Math.min(...first.snapshots));
      // two snapshots later it is still kept: the only one a cold start may use
      await c.orders(300);
      await expect
        .poll(async () => (await snapshotsOf0()).filter((s) => s > usable).length, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(2);
      await pruneAll(c.nodes[0]!);
      const m = await marks(c.d, 0);
      expect([m.archived, Math.min(...m.snapshots)]).toEqual([usable, usable]);
      await expect.poll(() => c.nodes.every((n) => n.unpublished() === 0), { timeout: 10_000 }).toBe(true);
      const seq = c.nodes[0]!.seq();
      const before = stateOf(c.nodes[0]!.state());
      await c.nodes[0]!.close({ flush: false });
      c.nodes[0] = await c.start(0, 'again-0');
      await c.nodes[0].leading;
      expect(c.nodes[0].restoredFrom()).toBe(usable);
      expect(c.nodes[0].seq()).toBe(seq);
      expect(stateOf(c.nodes[0].state())).toEqual(before);
      for (const n of c.nodes) await n.close({ flush: false });
    }, 120_000);

    if (standbys) {
      it('a standby that fell behind the archive restores from a snapshot, then takes over with the same state', async () => {
        const c = await cluster();
        await c.orders(60);
        await quiet(c);
        // a standby of shard 1 that follows the leader, then stops reading for a while
        const slow = gated(c.d);
        const standby = await c.start(1, 'standby-1', slow.db);
        await expect.poll(() => standby.seq(), { timeout: 10_000 }).toBe(c.nodes[1]!.seq());
        expect(standby.role()).toBe('standby');
        const behind = standby.seq();
        slow.hold();
        // meanwhile the leader journals, snapshots and archives past what the standby holds
        await c.orders(300);
        await quiet(c);
        await pruneAll(c.nodes[1]!);
        const archived = await checkShard(c, 1, c.nodes[1]!);
        expect(archived).toBeGreaterThan(behind);
        expect(standby.seq()).toBe(behind);
        slow.release();
        // it cannot read on from where it was: it restores from a snapshot past the archive
        await expect.poll(() => standby.seq(), { timeout: 10_000 }).toBe(c.nodes[1]!.seq());
        expect(standby.restoredFrom()).toBeGreaterThanOrEqual(archived);
        const before = stateOf(c.nodes[1]!.state());
        expect(stateOf(standby.state())).toEqual(before);
        // the leader dies; the standby leads with the same state and archives on
        await c.nodes[1]!.close({ flush: false });
        await standby.leading;
        expect(standby.role()).toBe('leader');
        c.nodes[1] = standby;
        expect(stateOf(standby.state())).toEqual(before);
        await c.orders(200);
        await quiet(c);
        await pruneAll(standby, c.nodes[0]!);
        expect(await checkShard(c, 1, standby)).toBeGreaterThan(archived);
        await checkShard(c, 0, c.nodes[0]!);
        for (const n of c.nodes) await n.close();
      }, 120_000);

      it('a deposed leader archives nothing', async () => {
        // the read tables are not written (a long gather): nothing may be archived yet
        const c = await cluster(3_600_000);
        await c.orders(150);
        await expect.poll(() => c.nodes.every((n) => n.unpublished() === 0), { timeout: 10_000 }).toBe(true);
        const seq = c.nodes[0]!.seq();
        const before = await marks(c.d, 0);
        expect(before.archived).toBe(0);
        expect(before.snapshots.length).toBeGreaterThan(0);
        // as if a new leader had projected everything: the rules now let most of the journal go
        await c.d.query('UPDATE shard_outbox SET projected_seq = $2 WHERE shard = $1', [0, seq]);
        // a takeover elsewhere that node 0 has not noticed: its run is refused by the epoch
        await c.d.query('UPDATE orders_leader SET epoch = epoch + 1 WHERE shard = 0');
        expect(await c.nodes[0]!.prune()).toBeNull();
        expect(c.nodes[0]!.role()).toBe('leader');
        const after = await marks(c.d, 0);
        expect([after.archived, after.table]).toEqual([0, before.table]);
        // the same node with its epoch back: the same run archives
        await c.d.query('UPDATE orders_leader SET epoch = epoch - 1 WHERE shard = 0');
        const pruned = await c.nodes[0]!.prune();
        expect(pruned?.archived).toBeGreaterThan(0);
        expect((await marks(c.d, 0)).archived).toBe(pruned?.archivedSeq);
        for (const n of c.nodes) await n.close({ flush: false });
      }, 120_000);
    }
  });
}

describe('orders shard nodes: journal retention', () => {
  suite(
    'on PGlite and the in-process bus',
    [],
    () => makePgliteDb(),
    () => makeMemoryBus(),
  );
  suite(
    'on PostgreSQL and NATS JetStream',
    ['postgres', 'nats'],
    () => makePostgresDb(),
    () => makeNatsBus(),
  );
});
