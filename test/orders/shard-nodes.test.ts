/**
 * Orders shard nodes (issue 11) on a real journal and a real bus: PGlite with the in-process bus,
 * and PostgreSQL with NATS JetStream. Two shards (risk and matching by account and by symbol);
 * orders that trade across them; a node that crashes mid-stream and recovers from its journal; on
 * PostgreSQL a standby that takes over and a leader that is fenced. Once quiet: every message sent
 * was applied once, cash and shares are conserved, and matching shards keep only reservations.
 */
import { describe, expect, it } from 'vitest';
import type { NewOrderCommand } from '../../src/domain/exchange.ts';
import { matchingShardOf, orderIdAt, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { CONFIG, spec } from '../../src/engine/test-kit.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type ShardNodeService, startShardNode } from '../../src/services/orders/shards/node-service.ts';
import { createShardReads } from '../../src/services/orders/shards/reads.ts';
import { makeMemoryBus, makeNatsBus } from '../support/bus.ts';
import { makePgliteDb, makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith } from '../support/services.ts';
import { prng } from './support/service.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const SYMBOLS = ['ACME', 'BOLT'];
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];
const silent = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds, for at most 10 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

type Made<T> = () => Promise<{ value: T; dispose: () => Promise<void> }>;

function suite(name: string, services: ('postgres' | 'nats')[], makeDb: Made<Db>, makeBus: Made<Bus>) {
  describeWith(services, name, () => {
    const db = scoped(makeDb);
    const bus = scoped(makeBus);
    const fenced = services.includes('postgres');

    /** A shard node on this suite's journal and bus. */
    const starter =
      (d: Db, b: Bus, projectGatherMs?: number) =>
      (shard: number, holder = `node-${shard}`) =>
        startShardNode({
          db: d,
          bus: b,
          config: CONFIG,
          layout: LAYOUT,
          shard,
          logger: silent,
          holder,
          leaseMs: 2000,
          // small, so that restarts begin from a snapshot and replay only the journal after it
          snapshotEvery: 97,
          ...(projectGatherMs !== undefined && { projectGatherMs }),
        });

    /** `projectGatherMs`: how long the nodes wait before writing the read tables when nobody reads */
    async function cluster(projectGatherMs?: number) {
      const d = await db();
      const b = await bus();
      const start = starter(d, b, projectGatherMs);
      const nodes: ShardNodeService[] = [await start(0), await start(1)];
      await Promise.all(nodes.map((n) => n.leading));
      for (const n of nodes)
        for (const s of SYMBOLS) await n.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
      const counters = [0, 0];
      const ledger = { cash: 0, shares: new Map<string, number>() };
      const acked: number[] = [];
      const c = {
        d,
        b,
        nodes,
        start,
        acked,
        ledger,
        owner: (account: string) => nodes[riskShardOf(account, LAYOUT)]!,
        async fund() {
          for (const account of ACCOUNTS) {
            const n = c.owner(account);
            expect(await n.submit({ type: 'deposit', ts: 0, account, amount: 50_000_000 })).toEqual([]);
            ledger.cash += 50_000_000;
            for (const symbol of SYMBOLS) {
              await n.submit({
                type: 'transfer_shares',
                ts: 0,
                account,
                symbol,
                qty: 1_000,
                cost: 9_000_000,
              });
              ledger.shares.set(symbol, (ledger.shares.get(symbol) ?? 0) + 1_000);
            }
          }
        },
        /** an order through its account's node; resolves with its id once acknowledged, or null */
        async order(random: () => number): Promise<number | null> {
          const account = ACCOUNTS[Math.floor(random() * ACCOUNTS.length)]!;
          const r = riskShardOf(account, LAYOUT);
          counters[r]! += 1;
          const id = orderIdAt(counters[r]!, r, LAYOUT);
          const market = random() < 0.15;
          const order: NewOrderCommand = {
            type: 'new_order',
            ts: 0,
            id,
            account,
            symbol: SYMBOLS[Math.floor(random() * SYMBOLS.length)]!,
            side: random() < 0.5 ? 'buy' : 'sell',
            orderType: market ? 'market' : 'limit',
            tif: market ? 'day' : 'gtc',
            qty: 1 + Math.floor(random() * 50),
          };
          if (!market) order.price = 9_950 + Math.floor(random() * 100);
          const events = await nodes[r]!.submit(order);
          if (events[0]?.type !== 'held') return null;
          acked.push(id);
          return id;
        },
      };
      return c;
    }
    type Cluster = Awaited<ReturnType<typeof cluster>>;

    /** Every message sent has been applied, by both sides of every pair, and nothing waits. */
    async function quiet(c: Cluster): Promise<void> {
      const deadline = Date.now() + 30_000;
      let stable = 0;
      while (stable < 3) {
        if (Date.now() > deadline) throw new Error('the shards did not go quiet in 30 s');
        await sleep(50);
        const settled = c.nodes.every((n) => n.role() === 'leader' && n.unpublished() === 0);
        const delivered = c.nodes.every((from) =>
          c.nodes.every((to) => {
            const f = from.state();
            const t = to.state();
            const routes = f.risk.outbox.get(to.shard) ?? 0;
            const settles = f.matching.outbox.get(to.shard) ?? 0;
            return (
              (t.matching.inbox.applied.get(from.shard) ?? 0) === routes &&
              (t.risk.inbox.applied.get(from.shard) ?? 0) === settles
            );
          }),
        );
        stable = settled && delivered ? stable + 1 : 0;
      }
    }

    function checkInvariants(c: Cluster) {
      let cash = 0;
      const shares = new Map<string, number>();
      const add = (s: string, q: number) => shares.set(s, (shares.get(s) ?? 0) + q);
      for (const n of c.nodes) {
        const { risk, matching } = n.state();
        for (const a of risk.accounts.values()) {
          expect(a.cash).toBeGreaterThanOrEqual(0);
          expect(a.pendingCash).toBe(0);
          expect(a.pendingShares.size).toBe(0);
          cash += a.cash;
          for (const [s, p] of a.positions) {
            expect(p.qty).toBeGreaterThan(0);
            add(s, p.qty);
          }
          for (const [m, kept] of a.kept) {
            expect(c.nodes[m]!.state().matching.exchange.account(a.id)?.cash ?? 0).toBe(kept.cash);
          }
        }
        const x = matching.exchange;
        for (const acc of x.exportState().accounts) {
          expect(acc.cash).toBe(acc.reserved);
          expect(acc.reserved).toBe(x.requiredReservation(acc.account).cash);
          cash += acc.cash;
        }
        for (const p of x.exportState().positions) {
          expect(p.qty).toBe(p.reserved);
          add(p.symbol, p.qty);
        }
        // the owners' open orders are the books' open orders (of this shard's symbols)
        for (const o of x.openOrders()) expect(matchingShardOf(o.symbol, LAYOUT)).toBe(n.shard);
      }
      expect(cash).toBe(c.ledger.cash);
      for (const s of SYMBOLS) expect(shares.get(s)).toBe(c.ledger.shares.get(s));
      const open = c.nodes.flatMap((n) => [...n.state().risk.orders.keys()]).sort((a, b) => a - b);
      const booked = c.nodes
        .flatMap((n) => {
          const m = n.state().matching;
          return m.exchange.openOrders().map((o) => {
            const g = m.byEngineId.get(o.id)!;
            return g.riskBase + (o.id - g.engineBase);
          });
        })
        .sort((a, b) => a - b);
      expect(open).toEqual(booked);
    }

    it('trades across two shard nodes; one crashes mid-stream and carries on from its journal', async () => {
      const c = await cluster();
      await c.fund();
      const random = prng(11);
      for (let i = 0; i < 150; i++) await c.order(random);
      // orders in flight when node 1 dies: those it acknowledged must survive, the rest were never acknowledged
      const inFlight = Array.from({ length: 40 }, () => c.order(random).catch(() => null));
      await sleep(5);
      await c.nodes[1]!.close({ flush: false });
      const outcomes = await Promise.all(inFlight);
      c.nodes[1] = await c.start(1, 'node-1-again');
      await c.nodes[1].leading;
      // its state is its journal's: the same seq and the acknowledged orders are known again
      for (let i = 0; i < 150; i++) await c.order(random);
      await quiet(c);
      checkInvariants(c);
      const trades = c.nodes.reduce(
        (sum, n) => sum + n.state().matching.exchange.exportState().nextTradeId - 1,
        0,
      );
      expect(trades).toBeGreaterThan(50);
      expect(c.acked.length).toBeGreaterThan(250);
      expect(outcomes.some((o) => o !== null)).toBe(true);
      // acknowledged means journaled: every acknowledged order is in its risk shard's journal, the
      // crashed node's included (and quiet() showed every routed message applied at its matching shard)
      const { rows } = await c.d.query<{ id: number }>(
        `SELECT (input->'command'->>'id')::bigint AS id FROM shard_journal
          WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'`,
      );
      const journaled = new Set(rows.map((r) => Number(r.id)));
      expect(c.acked.filter((id) => !journaled.has(id))).toEqual([]);
      for (const n of c.nodes) await n.close();
    }, 60_000);

    it('a shard that leads for the first time gets what another sent it before', async () => {
      // shard 0 alone: an order of one of its accounts for a book of shard 1, routed there before
      // shard 1 has ever run (its durable consumer does not exist yet)
      const start = starter(await db(), await bus());
      const account = ACCOUNTS.find((a) => riskShardOf(a, LAYOUT) === 0)!;
      const symbol = SYMBOLS.find((s) => matchingShardOf(s, LAYOUT) === 1)!;
      const first = await start(0);
      await first.leading;
      for (const s of SYMBOLS)
        await first.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
      await first.submit({ type: 'deposit', ts: 0, account, amount: 1_000_000 });
      const events = await first.submit({
        type: 'new_order',
        ts: 0,
        id: orderIdAt(1, 0, LAYOUT),
        account,
        symbol,
        side: 'buy',
        orderType: 'limit',
        tif: 'gtc',
        qty: 10,
        price: 10_000,
      });
      expect(events[0]?.type).toBe('held');
      await until(() => first.unpublished() === 0);
      const second = await start(1);
      await second.leading;
      for (const s of SYMBOLS)
        await second.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s }) });
      // the route arrives: the order rests on shard 1's book, its cash kept there
      await until(() => (second.state().matching.inbox.applied.get(0) ?? 0) === 1);
      expect(
        second
          .state()
          .matching.exchange.openOrders()
          .map((o) => o.symbol),
      ).toEqual([symbol]);
      await until(() => first.state().risk.accounts.get(account)!.pendingCash === 0);
      expect(first.state().risk.accounts.get(account)!.kept.get(1)?.cash).toBeGreaterThan(0);
      await second.close();
      await first.close();
    }, 60_000);

    it('publishes trades, books and executions as the orders service does, and rebuilds the same state from the journal', async () => {
      const c = await cluster();
      const b = c.b;
      const trades = new Set<string>();
      const fills = new Map<string, number>();
      const execKinds = new Map<string, number>();
      await b.subscribe<{ symbol: string; tradeId: number }>('md.trade.*', (m) => {
        trades.add(`${m.data.symbol}/${m.data.tradeId}`);
      });
      await b.subscribe<{
        kind: string;
        account: string;
        order: { symbol: string };
        fill?: { tradeId: number };
      }>('orders.exec.*', (m) => {
        expect(m.subject).toBe(`orders.exec.${m.data.account}`);
        execKinds.set(m.data.kind, (execKinds.get(m.data.kind) ?? 0) + 1);
        if (m.data.fill) {
          const k = `${m.data.order.symbol}/${m.data.fill.tradeId}`;
          fills.set(k, (fills.get(k) ?? 0) + 1);
        }
      });
      await c.fund();
      const random = prng(7);
      for (let i = 0; i < 120; i++) await c.order(random);
      await quiet(c);
      // every trade on its symbol's subject once, and a fill to each side's owner
      const made = c.nodes.reduce(
        (sum, n) => sum + n.state().matching.exchange.exportState().nextTradeId - 1,
        0,
      );
      await expect.poll(() => trades.size).toBe(made);
      expect(made).toBeGreaterThan(20);
      await expect.poll(() => [...fills.values()].reduce((a, n) => a + n, 0)).toBe(2 * made);
      expect([...fills.values()].every((n) => n === 2)).toBe(true);
      expect(execKinds.get('accepted')).toBeGreaterThan(0);
      // a keyed command: answered again, not applied again, also by the node rebuilt from the journal
      const a0 = riskShardOf('a0', LAYOUT);
      const keyed = { type: 'deposit', ts: 0, account: 'a0', amount: 7 } as const;
      expect((await c.nodes[a0]!.submit(keyed, 'dep-1')).replayed).toBeUndefined();
      expect((await c.nodes[a0]!.submit(keyed, 'dep-1')).replayed).toBe(true);
      await quiet(c);
      const before = c.nodes.map((n) => ({
        seq: n.seq(),
        exchange: n.state().matching.exchange.exportState(),
        accounts: [...n.state().risk.accounts.values()].map((a) => ({
          ...a,
          positions: [...a.positions],
          kept: [...a.kept],
        })),
      }));
      for (const n of c.nodes) await n.close();
      const { rows: snaps } = await c.d.query<{ shard: number; n: number }>(
        'SELECT shard, count(*)::int AS n FROM shard_snapshots GROUP BY shard ORDER BY shard',
      );
      // written in the background while trading; the newest two per shard are kept
      expect(snaps.map((r) => r.shard)).toEqual([0, 1]);
      for (const r of snaps) expect([1, 2]).toContain(r.n);
      for (let k = 0; k < 2; k++) {
        const again = await c.start(k, `replay-${k}`);
        await again.leading;
        expect(again.seq()).toBe(before[k]!.seq);
        // it began from a snapshot and replayed only the journal after it
        expect(again.restoredFrom()).toBeGreaterThan(0);
        expect(again.restoredFrom()).toBeLessThanOrEqual(before[k]!.seq);
        if (k === a0) expect((await again.submit(keyed, 'dep-1')).replayed).toBe(true);
        expect(again.state().matching.exchange.exportState()).toEqual(before[k]!.exchange);
        expect(
          [...again.state().risk.accounts.values()].map((a) => ({
            ...a,
            positions: [...a.positions],
            kept: [...a.kept],
          })),
        ).toEqual(before[k]!.accounts);
        await again.close();
      }
    }, 60_000);

    if (fenced) {
      it('a standby takes over from a leader that dies, and a fenced leader commits nothing', async () => {
        // the leader writes no read tables before it dies: its standby must write them all
        const c = await cluster(3_600_000);
        await c.fund();
        const random = prng(3);
        for (let i = 0; i < 60; i++) await c.order(random);
        const standby = await c.start(1, 'standby-1');
        await sleep(200);
        expect(standby.role()).toBe('standby');
        // a hot standby: it follows the leader's journal while it waits
        await expect.poll(() => standby.seq(), { timeout: 10_000 }).toBe(c.nodes[1]!.seq());
        expect(standby.seq()).toBeGreaterThan(0);
        const { rows: marks } = await c.d.query<{ projected_seq: number }>(
          'SELECT projected_seq FROM shard_outbox WHERE shard = 1',
        );
        expect(marks[0]?.projected_seq ?? 0).toBeLessThan(c.nodes[1]!.seq());
        await c.nodes[1]!.close({ flush: false });
        await standby.leading;
        expect(standby.role()).toBe('leader');
        c.nodes[1] = standby;
        for (let i = 0; i < 60; i++) await c.order(random);
        await quiet(c);
        checkInvariants(c);
        // the standby projected what the dead leader had not: the read tables are the shards' state
        for (const account of ACCOUNTS) {
          const a = c.owner(account).state().risk.accounts.get(account)!;
          const cash = a.cash + [...a.kept.values()].reduce((sum, k) => sum + k.cash, 0);
          const read = await createShardReads(c.d, c.owner(account)).balance(account);
          expect([read.cash, read.available]).toEqual([cash, a.cash]);
        }
        // a takeover elsewhere (the epoch moved on): node 0's next commit is refused and it stops
        await c.d.query('UPDATE orders_leader SET epoch = epoch + 1 WHERE shard = 0');
        const seq = c.nodes[0]!.seq();
        await expect(
          c.nodes[0]!.submit({ type: 'deposit', ts: 0, account: 'a0', amount: 1 }),
        ).rejects.toThrow(/no longer the leader/);
        expect(c.nodes[0]!.role()).toBe('fenced');
        const { rows } = await c.d.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM shard_journal WHERE shard = 0 AND seq > $1',
          [seq],
        );
        expect(rows[0]!.n).toBe(0);
        for (const n of c.nodes) await n.close();
      }, 60_000);
    }
  });
}

describe('orders shard nodes', () => {
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
