/**
 * The orders service end to end on PGlite and PostgreSQL: round trips through both doors
 * (in-process client and HTTP), ownership, ack-after-commit, group commit, idempotency. The same
 * contract also runs through the sharded client: two orders shard nodes behind the service's own
 * routes (support/shards.ts; the in-process bus here, NATS in shard-orders-client.test.ts).
 */
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { OrdersClient } from '../../src/services/orders/client.ts';
import { OrdersApiError } from '../../src/services/orders/client.ts';
import type { OrdersService } from '../../src/services/orders/index.ts';
import { databaseUrl, forEachDb } from '../support/db.ts';
import { httpClientFor } from './support/http.ts';
import {
  count,
  fund,
  listAcme,
  logger,
  MID,
  replayedState,
  SYMBOL,
  startService,
} from './support/service.ts';
import { type ShardedOrders, startShardedOrders } from './support/shards.ts';

// A PGlite cold start (first database of a worker) takes tens of seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

async function problemOf(p: Promise<unknown>): Promise<OrdersApiError['problem']> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OrdersApiError) return err.problem;
    throw err;
  }
  throw new Error('expected the call to fail');
}

forEachDb('orders service', (makeDb) => {
  let service: OrdersService | null = null;
  let shards: ShardedOrders | null = null;
  afterEach(async () => {
    await service?.close();
    service = null;
    await shards?.close();
    shards = null;
  });

  for (const door of ['in-process', 'http', 'sharded'] as const) {
    describe(`through the ${door} client`, () => {
      /** the client, and how many journal entries were written (the shard nodes' journal for `sharded`) */
      async function setup(): Promise<{ client: OrdersClient; journaled: () => Promise<number> }> {
        const db = await makeDb();
        let client: OrdersClient;
        let journaled = () => count(db, 'journal');
        if (door === 'sharded') {
          shards = await startShardedOrders(db, createMemoryBus({ logger }));
          client = shards.router;
          journaled = () => count(db, 'shard_journal');
        } else {
          service = await startService(db);
          client = door === 'http' ? (await httpClientFor(service)).client : service.client;
        }
        await listAcme(client);
        await fund(client, ['alice', 'bob']);
        return { client, journaled };
      }

      it('submits, matches, replaces, cancels and reports', async () => {
        const { client } = await setup();
        const sell = await client.submitOrder('bob', {
          symbol: SYMBOL,
          side: 'sell',
          type: 'limit',
          tif: 'gtc',
          qty: 100,
          price: MID + 10,
          clientOrderId: 'bob-1',
        });
        expect(sell.replayed).toBe(false);
        expect(sell.order).toMatchObject({ status: 'new', qty: 100, filledQty: 0, clientOrderId: 'bob-1' });

        const buy = await client.submitOrder('alice', {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          tif: 'ioc',
          qty: 40,
          price: MID + 10,
        });
        expect(buy.order).toMatchObject({ status: 'filled', filledQty: 40, filledNotional: 40 * (MID + 10) });

        const replaced = await client.replaceOrder('bob', sell.order.id, { qty: 80 });
        expect(replaced).toMatchObject({
          id: sell.order.id,
          qty: 80,
          filledQty: 40,
          status: 'partially_filled',
        });

        const depth = await client.depth(SYMBOL, 5);
        expect(depth.asks).toEqual([{ price: MID + 10, qty: 40, orders: 1 }]);
        expect(depth.bids).toEqual([]);

        const canceled = await client.cancelOrder('bob', sell.order.id);
        expect(canceled).toMatchObject({ status: 'canceled', cancelReason: 'user', clientOrderId: 'bob-1' });
        expect((await client.depth(SYMBOL)).asks).toEqual([]);

        expect(await client.getOrder('bob', sell.order.id)).toEqual(canceled);
        expect(await client.getOrderByClientId('bob', 'bob-1')).toEqual(canceled);

        const open = await client.listOrders('bob', { status: 'open' });
        expect(open.items).toEqual([]);
        const closed = await client.listOrders('bob', { status: 'closed' });
        expect(closed.items.map((o) => o.id)).toEqual([sell.order.id]);

        const aliceTrades = await client.accountTrades('alice');
        expect(aliceTrades.items).toEqual([
          expect.objectContaining({
            orderId: buy.order.id,
            side: 'buy',
            qty: 40,
            price: MID + 10,
            liquidity: 'taker',
          }),
        ]);
        const bobTrades = await client.accountTrades('bob');
        expect(bobTrades.items).toEqual([expect.objectContaining({ side: 'sell', liquidity: 'maker' })]);
        const tape = await client.symbolTrades(SYMBOL);
        expect(tape.items).toEqual([expect.objectContaining({ qty: 40, price: MID + 10, aggressor: 'buy' })]);
        expect(Object.keys(tape.items[0]!)).not.toContain('buyAccount');

        const positions = await client.positions('alice');
        expect(positions).toEqual([expect.objectContaining({ symbol: SYMBOL, qty: 100_040, reserved: 0 })]);
        const balance = await client.balance('alice');
        expect(balance.cash).toBe(10_000_000_000 - 40 * (MID + 10) - buy.order.fees);
        expect(balance.available).toBe(balance.cash - balance.reserved);

        const status = await client.exchangeStatus();
        expect(status).toMatchObject({ session: 'open', marketHalted: false });
        const instruments = await client.instruments();
        expect(instruments).toEqual([expect.objectContaining({ symbol: SYMBOL, lastTradePrice: MID + 10 })]);
      });

      it('pages through orders newest first', async () => {
        const { client } = await setup();
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) {
          const { order } = await client.submitOrder('alice', {
            symbol: SYMBOL,
            side: 'buy',
            type: 'limit',
            tif: 'gtc',
            qty: 1,
            price: MID - 100 - i,
          });
          ids.push(order.id);
        }
        const first = await client.listOrders('alice', { limit: 2 });
        expect(first.items.map((o) => o.id)).toEqual([ids[4], ids[3]]);
        const second = await client.listOrders('alice', { limit: 2, cursor: first.nextCursor! });
        expect(second.items.map((o) => o.id)).toEqual([ids[2], ids[1]]);
        const third = await client.listOrders('alice', { limit: 2, cursor: second.nextCursor! });
        expect(third.items.map((o) => o.id)).toEqual([ids[0]]);
        expect(third.nextCursor).toBeNull();
      });

      it('keeps accounts apart: another account gets 404 for an order, and its attempt is not journaled', async () => {
        const { client, journaled } = await setup();
        const { order } = await client.submitOrder('bob', {
          symbol: SYMBOL,
          side: 'sell',
          type: 'limit',
          tif: 'gtc',
          qty: 10,
          price: MID + 50,
          clientOrderId: 'mine',
        });
        const before = await journaled();
        // one call at a time: a call started early could reject before anyone awaits it
        for (const call of [
          () => client.getOrder('alice', order.id),
          () => client.getOrderByClientId('alice', 'mine'),
          () => client.cancelOrder('alice', order.id),
          () => client.replaceOrder('alice', order.id, { qty: 5 }),
        ]) {
          expect(await problemOf(call())).toMatchObject({
            status: 404,
            type: 'https://bourse.dev/problems/order-not-found',
          });
        }
        expect((await client.listOrders('alice')).items).toEqual([]);
        expect(await client.getOrder('bob', order.id)).toMatchObject({ status: 'new', qty: 10 });
        // refused before the sequencer: nothing journaled, so nothing published on alice's subject
        expect(await journaled()).toBe(before);
        // a closed order of someone else is refused the same way
        await client.cancelOrder('bob', order.id);
        const closed = await journaled();
        expect(await problemOf(client.cancelOrder('alice', order.id))).toMatchObject({ status: 404 });
        expect(await journaled()).toBe(closed);
      });

      it('maps engine rejections to 422 problems with stable types', async () => {
        const { client } = await setup();
        const tooBig = await problemOf(
          client.submitOrder('alice', {
            symbol: SYMBOL,
            side: 'buy',
            type: 'limit',
            qty: 100_000,
            price: 200_000,
            clientOrderId: 'big',
          }),
        );
        expect(tooBig).toMatchObject({
          status: 422,
          type: 'https://bourse.dev/problems/insufficient-funds',
          reason: 'insufficient_funds',
        });
        // the rejected order exists, as rejected, and its client id stays taken
        const rejected = await client.getOrderByClientId('alice', 'big');
        expect(rejected).toMatchObject({
          status: 'rejected',
          rejectReason: 'insufficient_funds',
          id: tooBig.orderId,
        });
        const again = await problemOf(
          client.submitOrder('alice', {
            symbol: SYMBOL,
            side: 'buy',
            type: 'limit',
            qty: 100_000,
            price: 200_000,
            clientOrderId: 'big',
          }),
        );
        expect(again).toEqual(tooBig);

        expect(
          await problemOf(
            client.submitOrder('alice', { symbol: 'NOPE', side: 'buy', type: 'limit', qty: 1, price: 1 }),
          ),
        ).toMatchObject({ status: 422, type: 'https://bourse.dev/problems/unknown-symbol' });
        expect(await problemOf(client.withdraw('alice', { amount: 10_000_000_001 }))).toMatchObject({
          status: 422,
          type: 'https://bourse.dev/problems/insufficient-funds',
        });
        expect(await problemOf(client.cancelOrder('alice', 999_999))).toMatchObject({ status: 404 });
        // the owner of a closed order learns it is closed; anyone else that it does not exist
        const { order } = await client.submitOrder('alice', {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          qty: 1,
          price: MID - 9,
        });
        await client.cancelOrder('alice', order.id);
        expect(await problemOf(client.cancelOrder('alice', order.id))).toMatchObject({
          status: 422,
          type: 'https://bourse.dev/problems/order-not-open',
        });
        expect(await problemOf(client.cancelOrder('bob', order.id))).toMatchObject({ status: 404 });
      });

      it('moves cash and shares idempotently by key', async () => {
        const { client } = await setup();
        const first = await client.deposit('carol', { amount: 500, idempotencyKey: 'dep-1' });
        expect(first).toMatchObject({ replayed: false, balance: { cash: 500 } });
        const second = await client.deposit('carol', { amount: 500, idempotencyKey: 'dep-1' });
        expect(second).toMatchObject({ replayed: true, seq: first.seq, balance: { cash: 500 } });
        expect(
          await problemOf(client.deposit('carol', { amount: 501, idempotencyKey: 'dep-1' })),
        ).toMatchObject({
          status: 409,
          type: 'https://bourse.dev/problems/idempotency-key-reused',
        });
        // keys are per account
        expect((await client.deposit('dave', { amount: 7, idempotencyKey: 'dep-1' })).replayed).toBe(false);

        const w = await client.withdraw('carol', { amount: 200, idempotencyKey: 'w-1' });
        expect(w.balance.cash).toBe(300);
        const t = await client.transferShares('carol', {
          symbol: SYMBOL,
          qty: 10,
          cost: 1000,
          idempotencyKey: 's-1',
        });
        expect(t.position).toMatchObject({ qty: 10, cost: 1000 });
        expect(
          (
            await client.transferShares('carol', {
              symbol: SYMBOL,
              qty: 10,
              cost: 1000,
              idempotencyKey: 's-1',
            })
          ).replayed,
        ).toBe(true);
        const movements = await client.cashMovements('carol');
        expect(movements.items.map((m) => [m.kind, m.amount])).toEqual([
          ['withdraw', 200],
          ['deposit', 500],
        ]);
      });

      it('halts, resumes and changes the session', async () => {
        const { client } = await setup();
        expect(await client.halt({ symbol: SYMBOL, halted: true })).toMatchObject({ marketHalted: false });
        expect(
          await problemOf(
            client.submitOrder('alice', { symbol: SYMBOL, side: 'buy', type: 'limit', qty: 1, price: MID }),
          ),
        ).toMatchObject({ type: 'https://bourse.dev/problems/symbol-halted' });
        expect((await client.instruments())[0]!.halted).toBe(true);
        await client.halt({ symbol: SYMBOL, halted: false });
        expect(await client.halt({ symbol: null, halted: true })).toMatchObject({ marketHalted: true });
        await client.halt({ symbol: null, halted: false });
        const { order } = await client.submitOrder('alice', {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          tif: 'day',
          qty: 1,
          price: MID - 1,
        });
        expect(await client.setSession('closed')).toMatchObject({ session: 'closed' });
        // at once on the single service; on shard nodes the book's shard expires it and the owner's
        // risk shard (whose tables answer) learns it from the settlement, a hop later
        await expect.poll(async () => (await client.getOrder('alice', order.id)).status).toBe('expired');
      });
    });
  }

  it('acknowledges only committed work: another connection sees its journal entry the moment the ack arrives', async () => {
    const db = await makeDb();
    service = await startService(db);
    // PostgreSQL: an independent connection; PGlite has only one
    const url = databaseUrl(db);
    const other = url ? await openPostgres({ connectionString: url, max: 1 }) : db;
    onTestFinished(() => (other === db ? undefined : other.close()));
    await listAcme(service.client);
    await fund(service.client, ['alice', 'bob']);
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        service!.client
          .submitOrder(i % 2 ? 'alice' : 'bob', {
            symbol: SYMBOL,
            side: i % 2 ? 'buy' : 'sell',
            type: 'limit',
            tif: 'gtc',
            qty: 1 + i,
            price: i % 2 ? MID - 1 - i : MID + 1 + i,
            clientOrderId: `c${i}`,
          })
          .then(async ({ order }) => {
            // checked inside the ack's continuation, before anything else can run: the journal is
            // the durable record (the tables follow it, see the next check)
            const { rows } = await other.query<{ id: number; qty: number }>(
              `SELECT (command->>'id')::int8 AS id, (command->>'qty')::int8 AS qty FROM journal
                WHERE command->>'type' = 'new_order' AND (command->>'id')::int8 = $1`,
              [order.id],
            );
            return { order, row: rows[0] };
          }),
      ),
    );
    for (const { order, row } of acks) expect(row).toEqual({ id: order.id, qty: order.qty });
    // and a read through the service waits for the tables to reach what was acknowledged
    const listed = await service.client.listOrders('alice', { status: 'open', limit: 500 });
    expect(listed.items.length).toBe(25);
  });

  it('group-commits: concurrent commands share transactions', async () => {
    const db = await makeDb();
    service = await startService(db, { commitMaxBatch: 40 });
    const client = service.client;
    await listAcme(client);
    await fund(client, ['alice', 'bob']);
    const before = service.sequencer.stats();
    const journalBefore = await count(db, 'journal');
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.submitOrder(i % 2 ? 'alice' : 'bob', {
          symbol: SYMBOL,
          side: i % 2 ? 'buy' : 'sell',
          type: 'limit',
          tif: 'gtc',
          qty: 1,
          price: i % 2 ? MID - 1 - (i % 7) : MID + 1 + (i % 7),
        }),
      ),
    );
    const after = service.sequencer.stats();
    expect(after.commands - before.commands).toBe(200);
    // all 200 were submitted before the first flush: exactly 200 / maxBatch transactions
    expect(after.commits - before.commits).toBe(5);
    expect(after.largestBatch).toBe(40);
    expect((await count(db, 'journal')) - journalBefore).toBe(200);
  });

  it('returns the original order for a duplicate client order id, even while the first is in flight', async () => {
    const db = await makeDb();
    service = await startService(db);
    const client = service.client;
    await listAcme(client);
    await fund(client, ['alice']);
    const request = {
      symbol: SYMBOL,
      side: 'buy' as const,
      type: 'limit' as const,
      tif: 'gtc' as const,
      qty: 5,
      price: MID - 5,
      clientOrderId: 'dup',
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => client.submitOrder('alice', request)));
    const ids = new Set(results.map((r) => r.order.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await count(db, "orders WHERE account = 'alice' AND client_order_id = 'dup'")).toBe(1);
    expect(await count(db, "journal WHERE command->>'clientOrderId' = 'dup'")).toBe(1);

    const later = await client.submitOrder('alice', request);
    expect(later).toMatchObject({ replayed: true, order: { id: [...ids][0], status: 'new' } });
    // same id, different order: refused, not silently answered with the first
    expect(await problemOf(client.submitOrder('alice', { ...request, qty: 6 }))).toMatchObject({
      status: 409,
    });
    // the same client id on another account is another order
    await fund(client, ['bob']);
    const bobs = await client.submitOrder('bob', request);
    expect(bobs.replayed).toBe(false);
    expect(bobs.order.id).not.toBe(later.order.id);

    // the idempotency map survives a restart
    await service.close();
    service = await startService(db);
    expect(await service.client.submitOrder('alice', request)).toMatchObject({
      replayed: true,
      order: { id: later.order.id },
    });
    const { lastSeq } = await replayedState(db);
    expect(service.sequencer.committedSeq()).toBe(lastSeq);
  });
});
