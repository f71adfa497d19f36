/**
 * Order classes and trailing stops through the orders service, on PGlite and PostgreSQL: the legs
 * come back with their entry, held legs are released by the entry's fill, a trailing stop's
 * high-water mark reaches the tables, and the tables agree with a full journal replay.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { OrdersApiError } from '../../src/services/orders/client.ts';
import {
  DEFAULT_EXCHANGE_CONFIG,
  type OrdersService,
  verifyOrders,
} from '../../src/services/orders/index.ts';
import { forEachDb } from '../support/db.ts';
import { fund, listAcme, MID, SYMBOL, startService } from './support/service.ts';

// A PGlite cold start (first database of a worker) takes tens of seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

forEachDb('order classes', (makeDb) => {
  let service: OrdersService | null = null;
  afterEach(async () => {
    await service?.close();
    service = null;
  });

  it('places a bracket with a trailing stop-loss, releases its legs on a partial fill and cancel, and replays', async () => {
    const db = await makeDb();
    service = await startService(db);
    const client = service.client;
    await listAcme(client);
    await fund(client, ['alice', 'bob', 'carol']);

    const placed = await client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 10,
      price: MID,
      orderClass: 'bracket',
      takeProfit: { price: MID + 500 },
      stopLoss: { trailPrice: 300 },
      clientOrderId: 'b-1',
    });
    const entry = placed.order;
    expect(entry).toMatchObject({ orderClass: 'bracket', status: 'new' });
    expect(entry.legs?.map((l) => [l.id, l.side, l.orderType, l.status, l.parentId])).toEqual([
      [entry.id + 1, 'sell', 'limit', 'held', entry.id],
      [entry.id + 2, 'sell', 'trailing_stop', 'held', entry.id],
    ]);

    // A 4-share fill, then a cancel: the legs are released for the 4 shares bought.
    await client.submitOrder('bob', {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      tif: 'ioc',
      qty: 4,
      price: MID,
    });
    await client.cancelOrder('alice', entry.id);
    const after = await client.getOrder('alice', entry.id);
    expect(after).toMatchObject({ status: 'canceled', filledQty: 4 });
    expect(after.legs?.map((l) => [l.status, l.qty])).toEqual([
      ['new', 4],
      ['new', 4],
    ]);
    expect(after.legs?.[1]).toMatchObject({ hwm: MID, stopPrice: MID - 300, trailPrice: 300 });
    const held = (await client.positions('alice')).find((p) => p.symbol === SYMBOL);
    expect(held?.reserved).toBe(4);

    // A trade higher up moves the trailing stop; its new mark is in the tables.
    await client.submitOrder('bob', {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      tif: 'gtc',
      qty: 1,
      price: MID + 200,
    });
    await client.submitOrder('carol', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'ioc',
      qty: 1,
      price: MID + 200,
    });
    expect(await client.getOrder('alice', entry.id + 2)).toMatchObject({
      hwm: MID + 200,
      stopPrice: MID - 100,
    });

    // Replace the trail; a malformed class is a 422 naming the reason.
    const replaced = await client.replaceOrder('alice', entry.id + 2, { trailBps: 100 });
    expect(replaced).toMatchObject({ trailPrice: 0, trailBps: 100, stopPrice: MID + 200 - 102 });
    const bad = await client
      .submitOrder('alice', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: MID,
        orderClass: 'bracket',
        takeProfit: { price: MID - 500 },
        stopLoss: { stopPrice: MID - 100 },
      })
      .catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(OrdersApiError);
    expect((bad as OrdersApiError).problem).toMatchObject({ status: 422, reason: 'invalid_order_class' });

    // The tables agree with a replay of the journal.
    const committed = service.sequencer.committedSeq();
    await vi.waitFor(() => expect(service!.projectedSeq()).toBe(committed), { timeout: 10_000 });
    const options = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };
    expect((await verifyOrders(db, options)).differences).toEqual([]);

    // A restarted service recovers the legs and keeps ids increasing past them.
    await service.close();
    service = await startService(db);
    const next = await service.client.submitOrder('alice', {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      tif: 'gtc',
      qty: 1,
      price: MID + 900,
      orderClass: 'oco',
      stopLoss: { stopPrice: MID - 900 },
    });
    expect(next.order.id).toBeGreaterThan(entry.id + 2);
    expect(next.order.legs?.map((l) => [l.orderType, l.status])).toEqual([['stop', 'new']]);
    expect(await service.client.getOrder('alice', entry.id + 1)).toMatchObject({ status: 'new', qty: 4 });
  });
});
