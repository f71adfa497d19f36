/**
 * Shard nodes write the orders service's read tables (projection.ts), and the orders service's own
 * reads serve them (reads.ts): on PGlite with the in-process bus and on PostgreSQL with NATS.
 *
 * Two nodes, accounts on both risk shards, symbols on both matching shards; deposits, a keyed
 * deposit, a withdrawal, share transfers in and out, orders that trade across shards, one left
 * open, a cancel, a refusal at the risk shard and one at the matching shard. Then, through
 * createShardReads on each node: orders, executions (with the trade ids of the published events),
 * cash movements, balances and positions (equal to the risk shards' state), a symbol's trades; the
 * sums over all accounts equal what came in minus what went out. Then a projection lost in a crash
 * is written by the restarted node, and projecting again from nothing, or over the rows already
 * there, gives the same tables.
 */
import { describe, expect, it } from 'vitest';
import type { NewOrderCommand } from '../../src/domain/exchange.ts';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { CONFIG, spec } from '../../src/engine/test-kit.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { OrdersApiError } from '../../src/services/orders/problems.ts';
import { type ShardNodeService, startShardNode } from '../../src/services/orders/shards/node-service.ts';
import { createShardReads } from '../../src/services/orders/shards/reads.ts';
import { makeMemoryBus, makeNatsBus } from '../support/bus.ts';
import { makePgliteDb, makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith } from '../support/services.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
// bob and carol on risk shard 0, alice and dave on 1; BOLT on matching shard 0, ACME on 1
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'];
const SYMBOLS = ['ACME', 'BOLT'];
const silent = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** far longer than any test: the tables are written only when a read waits for them (or on close) */
const FOREVER_MS = 3_600_000;

type Made<T> = () => Promise<{ value: T; dispose: () => Promise<void> }>;

/** The read tables as the API reads them (a position at zero is no position). */
async function tables(db: Db) {
  const all = async (sql: string) => (await db.query(sql)).rows;
  return {
    orders: await all('SELECT * FROM orders ORDER BY id'),
    trades: await all('SELECT * FROM trades ORDER BY id'),
    accounts: await all('SELECT * FROM accounts ORDER BY account'),
    positions: await all('SELECT * FROM positions WHERE qty <> 0 OR reserved <> 0 ORDER BY account, symbol'),
    cash: await all('SELECT * FROM cash_movements ORDER BY seq'),
    shares: await all('SELECT * FROM share_movements ORDER BY seq'),
    instruments: await all('SELECT * FROM instruments ORDER BY symbol'),
  };
}

function suite(name: string, services: ('postgres' | 'nats')[], makeDb: Made<Db>, makeBus: Made<Bus>) {
  describeWith(services, name, () => {
    const db = scoped(makeDb);
    const bus = scoped(makeBus);

    it('serves orders, executions, movements, balances and trades from the tables the nodes project', async () => {
      const d = await db();
      const b = await bus();
      let run = 0;
      const start = (shard: number) =>
        startShardNode({
          db: d,
          bus: b,
          config: CONFIG,
          layout: LAYOUT,
          shard,
          logger: silent,
          holder: `node-${shard}-${run}`,
          leaseMs: 2000,
          // nothing is projected unless a read waits: what a crash loses is then certain
          projectGatherMs: FOREVER_MS,
        });
      const startAll = async () => {
        run += 1;
        const started = [await start(0), await start(1)];
        await Promise.all(started.map((n) => n.leading));
        return started;
      };
      let nodes = await startAll();
      const owner = (account: string) => nodes[riskShardOf(account, LAYOUT)]!;
      expect(ACCOUNTS.map((a) => riskShardOf(a, LAYOUT))).toEqual([1, 0, 0, 1]);
      expect(SYMBOLS.map((s) => matchingShardOf(s, LAYOUT))).toEqual([1, 0]);

      const execs: { account: string; kind: string; order: { id: number }; fill?: { tradeId: number } }[] =
        [];
      const published = new Map<string, number[]>();
      await b.subscribe<{ account: string; kind: string; order: { id: number }; fill?: { tradeId: number } }>(
        'orders.exec.*',
        (m) => {
          execs.push(m.data);
        },
      );
      await b.subscribe<{ symbol: string; tradeId: number }>('md.trade.*', (m) => {
        published.set(m.data.symbol, [...(published.get(m.data.symbol) ?? []), m.data.tradeId]);
      });

      for (const n of nodes)
        for (const s of SYMBOLS)
          await n.admin({ type: 'add_instrument', ts: 0, spec: spec({ symbol: s, priceBandBps: 1_000 }) });
      const ledger = { cash: 0, shares: new Map<string, number>() };
      const move = async (
        account: string,
        command:
          | { type: 'deposit' | 'withdraw'; amount: number }
          | { type: 'transfer_shares'; symbol: string; qty: number; cost: number },
        key?: string,
      ) => {
        expect(await owner(account).submit({ ...command, ts: 0, account }, key)).toEqual([]);
        if (command.type === 'transfer_shares')
          ledger.shares.set(command.symbol, (ledger.shares.get(command.symbol) ?? 0) + command.qty);
        else ledger.cash += command.type === 'deposit' ? command.amount : -command.amount;
      };
      for (const a of ACCOUNTS) await move(a, { type: 'deposit', amount: 10_000_000 }, `dep-${a}`);
      await move('carol', { type: 'transfer_shares', symbol: 'ACME', qty: 100, cost: 900_000 });
      await move('dave', { type: 'transfer_shares', symbol: 'BOLT', qty: 100, cost: 900_000 });
      await move('carol', { type: 'transfer_shares', symbol: 'ACME', qty: -10, cost: 0 });
      await move('alice', { type: 'withdraw', amount: 1_000_000 });

      /** An order through its owner; once held, waits for its matching shard's verdict. */
      const order = async (
        account: string,
        o: Pick<NewOrderCommand, 'symbol' | 'side' | 'qty' | 'price'>,
        key?: string,
      ) => {
        const n = owner(account);
        const command: NewOrderCommand = {
          type: 'new_order',
          ts: 0,
          id: 0,
          account,
          orderType: 'limit',
          tif: 'gtc',
          ...o,
        };
        const [first] = await n.submit(command, key);
        if (first?.type === 'rejected') return { id: first.id!, verdict: null };
        expect(first?.type).toBe('held');
        const id = (first as { id: number }).id;
        return { id, verdict: await n.verdict(id, 10_000) };
      };
      const carolSells = await order(
        'carol',
        { symbol: 'ACME', side: 'sell', qty: 30, price: 10_000 },
        'c-1',
      );
      const aliceBuys = await order('alice', { symbol: 'ACME', side: 'buy', qty: 20, price: 10_000 });
      const daveSells = await order('dave', { symbol: 'BOLT', side: 'sell', qty: 40, price: 10_050 });
      const bobBuysBolt = await order('bob', { symbol: 'BOLT', side: 'buy', qty: 40, price: 10_050 });
      const bobBuysAcme = await order('bob', { symbol: 'ACME', side: 'buy', qty: 10, price: 10_000 });
      const daveBids = await order('dave', { symbol: 'BOLT', side: 'buy', qty: 5, price: 9_900 });
      expect(await owner('dave').submit({ type: 'cancel', ts: 0, account: 'dave', id: daveBids.id })).toEqual(
        [],
      );
      // refused at the risk shard (not enough cash) and at the matching shard (outside the band)
      const tooBig = await order('alice', { symbol: 'ACME', side: 'buy', qty: 1_000, price: 10_000 });
      const outside = await order('dave', { symbol: 'BOLT', side: 'sell', qty: 1, price: 12_000 });
      expect(outside.verdict).toEqual({ rejected: 'outside_price_band' });
      // left open, partly filled: its account keeps cash at the matching shard
      const bobBids = await order('bob', { symbol: 'ACME', side: 'buy', qty: 5, price: 9_800 });
      const carolHits = await order('carol', { symbol: 'ACME', side: 'sell', qty: 2, price: 9_800 });
      await quiet(nodes);

      const reads = nodes.map((n) => createShardReads(d, n));
      const readsOf = (account: string) => reads[riskShardOf(account, LAYOUT)]!;

      // orders, with their status and fills, on the owner's node and (the same rows) on the other
      const statuses = async (account: string) =>
        (await readsOf(account).listOrders(account)).items.map((o) => [o.id, o.status, o.filledQty]);
      expect(await statuses('carol')).toEqual([
        [carolHits.id, 'filled', 2],
        [carolSells.id, 'filled', 30],
      ]);
      expect(await statuses('alice')).toEqual([
        [tooBig.id, 'rejected', 0],
        [aliceBuys.id, 'filled', 20],
      ]);
      expect(await statuses('bob')).toEqual([
        [bobBids.id, 'partially_filled', 2],
        [bobBuysAcme.id, 'filled', 10],
        [bobBuysBolt.id, 'filled', 40],
      ]);
      expect(await statuses('dave')).toEqual([
        [outside.id, 'rejected', 0],
        [daveBids.id, 'canceled', 0],
        [daveSells.id, 'filled', 40],
      ]);
      for (const r of reads) expect((await r.listOrders('dave')).items.map((o) => o.id)).toHaveLength(3);
      const tooBigRow = await readsOf('alice').getOrder('alice', tooBig.id);
      expect(tooBigRow.rejectReason).toBe('insufficient_funds');
      expect((await readsOf('dave').getOrder('dave', outside.id)).rejectReason).toBe('outside_price_band');
      expect((await readsOf('dave').getOrder('dave', daveBids.id)).cancelReason).not.toBeNull();
      const byKey = await readsOf('carol').getOrderByClientId('carol', 'c-1');
      expect([byKey.id, byKey.clientOrderId, byKey.filledNotional]).toEqual([carolSells.id, 'c-1', 300_000]);
      expect((await readsOf('bob').getOrder('bob', bobBids.id)).status).toBe('partially_filled');
      expect((await readsOf('bob').listOrders('bob', { status: 'open' })).items.map((o) => o.id)).toEqual([
        bobBids.id,
      ]);
      // another account's order, or none: 404 order-not-found, as the orders service answers
      for (const id of [carolSells.id, 999_999]) {
        const err = (await readsOf('bob')
          .getOrder('bob', id)
          .catch((e: unknown) => e)) as OrdersApiError;
        expect(err.problem).toMatchObject({ status: 404, type: expect.stringMatching(/order-not-found$/) });
      }

      // executions: trade ids unique across matching shards and the same as in the published events
      await expect.poll(() => [...published.values()].flat().length).toBe(4);
      for (const account of ACCOUNTS) {
        const executions = (await readsOf(account).accountTrades(account)).items;
        const fills = execs.filter((e) => e.account === account && e.fill).map((e) => e.fill!.tradeId);
        expect(executions.map((x) => x.tradeId).sort()).toEqual(fills.sort());
      }
      const allTrades: number[] = [];
      for (const symbol of SYMBOLS) {
        for (const r of reads) {
          const page = await r.symbolTrades(symbol);
          expect(page.items.map((t) => t.tradeId).sort()).toEqual([...published.get(symbol)!].sort());
        }
        allTrades.push(...published.get(symbol)!);
      }
      expect(new Set(allTrades).size).toBe(4);
      // the engines counted 1, 2, 3 on ACME's shard and 1 on BOLT's: ids n × 2 + shard
      expect(published.get('ACME')!.sort()).toEqual([3, 5, 7]);
      expect(published.get('BOLT')).toEqual([2]);

      // cash movements, newest first, keyed by the qualified seq
      const aliceCash = (await readsOf('alice').cashMovements('alice')).items;
      expect(aliceCash.map((m) => [m.kind, m.amount])).toEqual([
        ['withdraw', 1_000_000],
        ['deposit', 10_000_000],
      ]);
      expect(aliceCash[0]!.seq % 2).toBe(1);
      expect((await readsOf('bob').cashMovements('bob')).items[0]!.seq % 2).toBe(0);

      // balances and positions: what the owner's risk shard holds, kept at matching shards included
      const checkAccounts = async () => {
        for (const account of ACCOUNTS) {
          const a = owner(account).state().risk.accounts.get(account)!;
          const kept = [...a.kept.values()];
          const cash = a.cash + a.pendingCash + kept.reduce((sum, k) => sum + k.cash, 0);
          expect(await readsOf(account).balance(account)).toEqual({
            account,
            cash,
            reserved: cash - a.cash,
            available: a.cash,
          });
          const held = new Map<string, number>();
          for (const [symbol, p] of a.positions) held.set(symbol, p.qty);
          for (const k of kept)
            for (const h of k.shares) held.set(h.symbol, (held.get(h.symbol) ?? 0) + h.qty);
          const read = await readsOf(account).positions(account);
          expect(read.map((p) => [p.symbol, p.qty]).sort()).toEqual([...held].sort());
        }
      };
      await checkAccounts();
      expect((await readsOf('bob').balance('bob')).reserved).toBeGreaterThan(0);
      expect(await readsOf('carol').positions('carol')).toEqual([
        expect.objectContaining({ symbol: 'ACME', qty: 100 - 10 - 30 - 2, reserved: 0 }),
      ]);

      // what came in minus what went out, over every account (the fee account's fees included)
      const sums = async () => {
        const cash = await d.query<{ n: number }>('SELECT sum(cash)::int8 AS n FROM accounts');
        const shares = await d.query<{ symbol: string; n: number }>(
          'SELECT symbol, sum(qty)::int8 AS n FROM positions GROUP BY symbol ORDER BY symbol',
        );
        expect(cash.rows[0]!.n).toBe(ledger.cash);
        expect(shares.rows.map((r) => [r.symbol, r.n])).toEqual(
          SYMBOLS.map((s) => [s, ledger.shares.get(s)]),
        );
      };
      await sums();

      // acknowledged, not projected yet (nobody read), then both nodes crash
      await move('bob', { type: 'deposit', amount: 1 });
      await move('alice', { type: 'deposit', amount: 1 });
      await quiet(nodes);
      const marks = async () =>
        (
          await d.query<{ shard: number; projected_seq: number }>(
            'SELECT shard, projected_seq FROM shard_outbox ORDER BY shard',
          )
        ).rows.map((r) => r.projected_seq);
      const seqs = nodes.map((n) => n.seq());
      const lost = await marks();
      for (const k of [0, 1]) expect(lost[k]).toBeLessThan(seqs[k]!);
      for (const n of nodes) await n.close({ flush: false });

      // the restarted nodes project what the crash lost
      nodes = await startAll();
      const again = () => nodes.map((n) => createShardReads(d, n));
      for (const [k, r] of again().entries())
        await r.balance(ACCOUNTS.find((a) => riskShardOf(a, LAYOUT) === k)!);
      expect(await marks()).toEqual(seqs);
      expect((await again()[0]!.cashMovements('bob')).items[0]!.amount).toBe(1);
      await sums();
      await checkAccounts();
      const projected = await tables(d);
      expect(projected.trades).toHaveLength(4);

      // projected again from nothing, and again over the rows already there: the same tables
      for (const wipe of [true, false]) {
        for (const n of nodes) await n.close();
        await d.query('UPDATE shard_outbox SET projected_seq = 0');
        if (wipe)
          for (const t of [
            'orders',
            'trades',
            'accounts',
            'positions',
            'cash_movements',
            'share_movements',
            'instruments',
          ])
            await d.query(`DELETE FROM ${t}`);
        nodes = await startAll();
        for (const r of again()) await r.symbolTrades('ACME');
        expect(await marks()).toEqual(seqs);
        expect(await tables(d)).toEqual(projected);
      }
      // a read waits for the projection, but not for ever: a shard that cannot project answers 503
      const stuck = createShardReads(
        d,
        { ...nodes[0]!, seq: () => nodes[0]!.seq() + 1_000 },
        { waitMs: 100 },
      );
      const err = (await stuck.balance('bob').catch((e: unknown) => e)) as OrdersApiError;
      expect(err.problem).toMatchObject({ status: 503, retriable: true });
      for (const n of nodes) await n.close();
    }, 120_000);
  });
}

/** Every message sent has been applied by its receiver, and nothing waits to be published. */
async function quiet(nodes: ShardNodeService[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let stable = 0;
  while (stable < 3) {
    if (Date.now() > deadline) throw new Error('the shards did not go quiet in 30 s');
    await sleep(50);
    const delivered = nodes.every((from) =>
      nodes.every((to) => {
        const f = from.state();
        const t = to.state();
        return (
          (t.matching.inbox.applied.get(from.shard) ?? 0) === (f.risk.outbox.get(to.shard) ?? 0) &&
          (t.risk.inbox.applied.get(from.shard) ?? 0) === (f.matching.outbox.get(to.shard) ?? 0)
        );
      }),
    );
    stable = delivered && nodes.every((n) => n.unpublished() === 0) ? stable + 1 : 0;
  }
}

describe('reads of orders shard nodes', () => {
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
