/**
 * Shard nodes speaking the orders service's own API (issue 11): two shard nodes, each behind the
 * orders service's internal routes (`ordersRoutes(createShardOrdersClient(node, reads))`), each
 * reached with `httpOrdersClient` (Fastify inject: the real HTTP contract, problems included), and
 * `shardedOrdersClient` over the two. On PGlite + the in-process bus and PostgreSQL + NATS.
 *
 * Reads are the shard nodes' projection into the orders tables (reads.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { matchingShardOf, riskShardOf } from '../../src/engine/shards/layout.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { OrdersApiError } from '../../src/services/orders/client.ts';
import { makeMemoryBus, makeNatsBus } from '../support/bus.ts';
import { makePgliteDb, makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith } from '../support/services.ts';
import { TWO_SHARDS as LAYOUT, startShardedOrders } from './support/shards.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const MID = 10_000;
const names = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}${i}`);
const accountOn = (shard: number, skip = 0) =>
  names('acct').filter((a) => riskShardOf(a, LAYOUT) === shard)[skip]!;
const symbolOn = (shard: number) => names('SYM').find((s) => matchingShardOf(s, LAYOUT) === shard)!;

async function problemOf(p: Promise<unknown>): Promise<OrdersApiError['problem']> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OrdersApiError) return err.problem;
    throw err;
  }
  throw new Error('expected the call to fail');
}

type Made<T> = () => Promise<{ value: T; dispose: () => Promise<void> }>;

function suite(name: string, services: ('postgres' | 'nats')[], makeDb: Made<Db>, makeBus: Made<Bus>) {
  describeWith(services, name, () => {
    const db = scoped(makeDb);
    const bus = scoped(makeBus);

    const cluster = async () => startShardedOrders(await db(), await bus());

    it('trades across shards through the orders API: answers, refusals, replays, ownership, misdirection', async () => {
      const c = await cluster();
      const { router } = c;
      // the seller's account on shard 0, the book on shard 1, the buyer's account on shard 1
      const seller = accountOn(0);
      const neighbour = accountOn(0, 1);
      const buyer = accountOn(1);
      const S = symbolOn(1);
      const T = symbolOn(0);
      for (const symbol of [S, T]) {
        const listed = await router.addInstrument({
          symbol,
          tickSize: 1,
          lotSize: 1,
          minQty: 1,
          maxQty: 1_000_000,
          priceBandBps: 0,
          collarBps: 1000,
          referencePrice: MID,
        });
        expect(listed).toMatchObject({ symbol, halted: false, lastTradePrice: null });
      }
      // listed on every shard (each risk shard sizes holds by it), booked by one: a resend is refused as a duplicate
      expect(
        await problemOf(
          router.addInstrument({
            symbol: S,
            tickSize: 1,
            lotSize: 1,
            minQty: 1,
            maxQty: 1_000_000,
            priceBandBps: 0,
            collarBps: 1000,
            referencePrice: MID,
          }),
        ),
      ).toMatchObject({ status: 422, reason: 'duplicate_symbol' });
      expect((await router.instruments()).map((i) => i.symbol)).toEqual([S, T].sort());

      // deposits with idempotency keys: a repeat answers the first, another amount under the key is 409
      const dep = await router.deposit(buyer, { amount: 10_000_000, idempotencyKey: 'dep-1' });
      expect(dep).toMatchObject({ replayed: false, balance: { cash: 10_000_000, available: 10_000_000 } });
      expect(dep.seq).toBeGreaterThan(0);
      const again = await router.deposit(buyer, { amount: 10_000_000, idempotencyKey: 'dep-1' });
      expect(again).toMatchObject({ replayed: true, seq: dep.seq, balance: { cash: 10_000_000 } });
      expect(
        await problemOf(router.deposit(buyer, { amount: 10_000_001, idempotencyKey: 'dep-1' })),
      ).toMatchObject({ status: 409, type: 'https://bourse.dev/problems/idempotency-key-reused' });
      await router.deposit(seller, { amount: 1_000_000 });
      await router.deposit(neighbour, { amount: 1_000_000 });
      const shares = await router.transferShares(seller, {
        symbol: S,
        qty: 1_000,
        cost: 1_000 * MID,
        idempotencyKey: 'sh-1',
      });
      expect(shares).toMatchObject({
        replayed: false,
        position: { symbol: S, qty: 1_000, cost: 1_000 * MID },
      });
      expect(
        (
          await router.transferShares(seller, {
            symbol: S,
            qty: 1_000,
            cost: 1_000 * MID,
            idempotencyKey: 'sh-1',
          })
        ).replayed,
      ).toBe(true);

      // the seller rests an order on the other shard's book: the answer is the matching shard's verdict
      const sell = await router.submitOrder(seller, {
        symbol: S,
        side: 'sell',
        type: 'limit',
        tif: 'gtc',
        qty: 100,
        price: MID + 10,
        clientOrderId: 'sell-1',
      });
      expect(sell.replayed).toBe(false);
      expect(sell.order).toMatchObject({
        account: seller,
        symbol: S,
        status: 'new',
        qty: 100,
        filledQty: 0,
        clientOrderId: 'sell-1',
      });
      // a resubmission answers the first order
      const resent = await router.submitOrder(seller, {
        symbol: S,
        side: 'sell',
        type: 'limit',
        tif: 'gtc',
        qty: 100,
        price: MID + 10,
        clientOrderId: 'sell-1',
      });
      expect(resent).toMatchObject({ replayed: true, order: { id: sell.order.id, clientOrderId: 'sell-1' } });
      // the same id for another request is 409
      expect(
        await problemOf(
          router.submitOrder(seller, {
            symbol: S,
            side: 'sell',
            type: 'limit',
            tif: 'gtc',
            qty: 99,
            price: MID + 10,
            clientOrderId: 'sell-1',
          }),
        ),
      ).toMatchObject({ status: 409 });

      // the buyer (other risk shard) takes part of it: traded in the answer
      const buy = await router.submitOrder(buyer, {
        symbol: S,
        side: 'buy',
        type: 'limit',
        tif: 'ioc',
        qty: 40,
        price: MID + 10,
      });
      expect(buy.order).toMatchObject({
        account: buyer,
        status: 'filled',
        filledQty: 40,
        filledNotional: 40 * (MID + 10),
        clientOrderId: null,
      });
      expect((await router.depth(S, 5)).asks).toEqual([{ price: MID + 10, qty: 60, orders: 1 }]);
      const bought = await router.balance(buyer);
      expect(bought.cash).toBe(10_000_000 - 40 * (MID + 10) - buy.order.fees);
      expect(bought.reserved).toBe(0);
      expect(await router.positions(buyer)).toEqual([
        expect.objectContaining({ symbol: S, qty: 40, reserved: 0 }),
      ]);

      // replace and cancel: the matching shard's outcome in the answer
      const replaced = await router.replaceOrder(seller, sell.order.id, { qty: 80 });
      expect(replaced).toMatchObject({
        id: sell.order.id,
        qty: 80,
        filledQty: 40,
        status: 'partially_filled',
      });
      // another account's order is not found, at its own shard or at the owner's; nothing journaled
      const seqs = c.nodes.map((n) => n.seq());
      for (const call of [
        () => router.cancelOrder(buyer, sell.order.id),
        () => router.cancelOrder(neighbour, sell.order.id),
        () => router.replaceOrder(neighbour, sell.order.id, { qty: 50 }),
        () => router.getOrder(neighbour, sell.order.id),
      ]) {
        expect(await problemOf(call())).toMatchObject({
          status: 404,
          type: 'https://bourse.dev/problems/order-not-found',
        });
      }
      expect(c.nodes.map((n) => n.seq())).toEqual(seqs);
      const canceled = await router.cancelOrder(seller, sell.order.id);
      expect(canceled).toMatchObject({ status: 'canceled', cancelReason: 'user', clientOrderId: 'sell-1' });
      expect((await router.depth(S)).asks).toEqual([]);
      // a closed order: its owner learns it is closed, anyone else that it does not exist
      expect(await problemOf(router.cancelOrder(seller, sell.order.id))).toMatchObject({
        status: 422,
        reason: 'order_not_open',
      });
      expect(await problemOf(router.cancelOrder(neighbour, sell.order.id))).toMatchObject({ status: 404 });
      // the reads: the order's history, both sides' executions, the tape, cash movements
      expect(await router.getOrder(seller, sell.order.id)).toEqual(canceled);
      expect(await router.getOrderByClientId(seller, 'sell-1')).toEqual(canceled);
      expect((await router.listOrders(seller, { status: 'closed' })).items.map((o) => o.id)).toEqual([
        sell.order.id,
      ]);
      expect((await router.accountTrades(buyer)).items).toEqual([
        expect.objectContaining({ orderId: buy.order.id, side: 'buy', qty: 40, liquidity: 'taker' }),
      ]);
      expect((await router.accountTrades(seller)).items).toEqual([
        expect.objectContaining({ orderId: sell.order.id, side: 'sell', qty: 40, liquidity: 'maker' }),
      ]);
      const tape = await router.symbolTrades(S);
      expect(tape.items).toEqual([expect.objectContaining({ qty: 40, price: MID + 10, aggressor: 'buy' })]);
      expect((await router.cashMovements(buyer)).items.map((m) => [m.kind, m.amount])).toEqual([
        ['deposit', 10_000_000],
      ]);

      // refusals: at the risk shard (insufficient funds) and at the matching shard (halted), as the service's 422
      expect(
        await problemOf(
          router.submitOrder(buyer, { symbol: S, side: 'buy', type: 'limit', qty: 100_000, price: MID }),
        ),
      ).toMatchObject({
        status: 422,
        type: 'https://bourse.dev/problems/insufficient-funds',
        reason: 'insufficient_funds',
      });
      expect(await router.halt({ symbol: S, halted: true })).toMatchObject({ marketHalted: false });
      expect((await router.instruments()).find((i) => i.symbol === S)).toMatchObject({ halted: true });
      const halted = await problemOf(
        router.submitOrder(buyer, { symbol: S, side: 'buy', type: 'limit', qty: 1, price: MID }),
      );
      expect(halted).toMatchObject({ status: 422, reason: 'symbol_halted' });
      expect(halted.orderId).toBeGreaterThan(0);
      await router.halt({ symbol: S, halted: false });
      // the refused order's hold came home
      await expect.poll(async () => (await router.balance(buyer)).reserved).toBe(0);

      // bad input: 400 naming the field, nothing journaled
      const before = c.nodes.map((n) => n.seq());
      const bad = await problemOf(
        router.submitOrder(buyer, { symbol: S, side: 'up' as 'buy', type: 'limit', qty: 1, price: MID }),
      );
      expect(bad).toMatchObject({ status: 400, type: 'https://bourse.dev/problems/invalid-request' });
      expect(JSON.stringify(bad.errors)).toContain('side');
      const unknown = await problemOf(
        router.submitOrder(buyer, {
          symbol: S,
          side: 'buy',
          type: 'market',
          qty: 1,
          stop_price: MID,
        } as never),
      );
      expect(unknown).toMatchObject({ status: 400 });
      expect(JSON.stringify(unknown.errors)).toContain('stop_price');
      expect(c.nodes.map((n) => n.seq())).toEqual(before);

      // asking the wrong shard directly: 421 naming the owner
      const wrong = c.clients[riskShardOf(buyer, LAYOUT) === 0 ? 1 : 0]!;
      const misdirected = await problemOf(wrong.deposit(buyer, { amount: 5 }));
      expect(misdirected).toMatchObject({ status: 421, type: 'https://bourse.dev/problems/misdirected' });
      expect(misdirected.detail).toContain(`orders shard ${riskShardOf(buyer, LAYOUT)}`);
      expect(await problemOf(c.clients[0]!.depth(S))).toMatchObject({ status: 421 });
      expect(await problemOf(c.clients[0]!.balance(buyer))).toMatchObject({ status: 421 });

      // order classes travel too: a bracket's legs come back with their entry
      const bracket = await router.submitOrder(buyer, {
        symbol: S,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 5,
        price: MID - 100,
        orderClass: 'bracket',
        takeProfit: { price: MID + 200 },
        stopLoss: { stopPrice: MID - 300 },
      });
      expect(bracket.order).toMatchObject({ orderClass: 'bracket', status: 'new' });
      expect(bracket.order.legs?.map((l) => l.status)).toEqual(['held', 'held']);

      // the exchange, merged over both shards; the session set on every shard
      const status = await router.exchangeStatus();
      expect(status).toMatchObject({ session: 'open', marketHalted: false });
      expect(status.lastSeq).toBe(c.nodes[0]!.seq() + c.nodes[1]!.seq());
      expect(await router.setSession('closed')).toMatchObject({ session: 'closed' });
      for (const client of c.clients) expect((await client.exchangeStatus()).session).toBe('closed');
      const storage = await router.storageStatus();
      expect(storage.seqs.committed).toBe(c.nodes[0]!.seq() + c.nodes[1]!.seq());
      expect(storage.journal.rows).toBe(storage.seqs.committed);
      expect(storage.journal.bytes).toBeGreaterThan(0);
      await c.close();
    });

    it('answers an order held when its matching shard is silent, and 503 not-leader from a node that does not lead', async () => {
      const c = await cluster();
      const account = accountOn(0);
      const elsewhere = symbolOn(1);
      await c.router.addInstrument({
        symbol: elsewhere,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 1000,
        referencePrice: MID,
      });
      await c.router.deposit(account, { amount: 1_000_000 });
      // the symbol's matching shard is down: the hold is journaled, the verdict does not come in 2 s
      await c.nodes[1]!.close();
      const { order } = await c.router.submitOrder(account, {
        symbol: elsewhere,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 10,
        price: MID,
        clientOrderId: 'while-down',
      });
      expect(order).toMatchObject({
        status: 'held',
        account,
        qty: 10,
        price: MID,
        clientOrderId: 'while-down',
      });
      expect((await c.router.balance(account)).reserved).toBe(10 * MID + (3 * MID * 10) / 10_000);
      // asked of a node that does not lead (here: closed), every call is a retriable 503 not-leader
      await c.nodes[0]!.close();
      const p = await problemOf(c.clients[0]!.deposit(account, { amount: 1 }));
      expect(p).toMatchObject({
        status: 503,
        type: 'https://bourse.dev/problems/not-leader',
        retriable: true,
      });
      await c.close();
    });
  });
}

describe('orders API on shard nodes', () => {
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
