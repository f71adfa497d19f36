/** The shard node's HTTP door (Fastify inject, PGlite and the in-process bus; one of two shards). */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../../src/services/orders/index.ts';
import { startShardNode } from '../../src/services/orders/shards/node-service.ts';
import { SHARD_PREFIX, shardRoutes } from '../../src/services/orders/shards/routes.ts';
import { makeMemoryBus } from '../support/bus.ts';
import { makePgliteDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const instrument = (symbol: string) => ({
  symbol,
  tick_size: 1,
  lot_size: 1,
  min_qty: 1,
  max_qty: 100_000,
  price_band_bps: 0,
  collar_bps: 1_000,
  reference_price: 10_000,
});

describe('orders shard node HTTP door', () => {
  const db = scoped(makePgliteDb);
  const bus = scoped(makeMemoryBus);

  async function app() {
    const node = await startShardNode({
      db: await db(),
      bus: await bus(),
      config: DEFAULT_EXCHANGE_CONFIG,
      layout: LAYOUT,
      shard: 0,
      logger: createLogger({ level: 'silent' }),
    });
    await node.leading;
    const server = Fastify();
    await server.register(shardRoutes(node), { prefix: SHARD_PREFIX });
    const call = (method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown) =>
      server.inject({
        method,
        url: SHARD_PREFIX + url,
        ...(payload !== undefined && { payload: payload as object }),
      });
    return { node, server, call };
  }

  it('places an order on its own shard and answers with the holding; refuses what is wrong, naming it', async () => {
    const { node, server, call } = await app();
    const mine = ['a0', 'a1', 'a2', 'a3'].find((a) => riskShardOf(a, LAYOUT) === 0)!;
    const theirs = ['a0', 'a1', 'a2', 'a3'].find((a) => riskShardOf(a, LAYOUT) === 1)!;
    const local = ['ACME', 'BOLT'].find((s) => matchingShardOf(s, LAYOUT) === 0)!;
    expect((await call('POST', '/instruments', instrument(local))).statusCode).toBe(201);
    expect((await call('POST', `/accounts/${mine}/deposits`, { amount: 1_000_000 })).statusCode).toBe(201);

    const placed = await call('POST', `/accounts/${mine}/orders`, {
      symbol: local,
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      qty: 10,
      limit_price: 10_000,
    });
    expect(placed.statusCode).toBe(201);
    // held: 10 × $100 + the larger fee (3 bps) = 100,030 cents; ids are the shard's own
    expect(placed.json()).toMatchObject({
      type: 'held',
      account: mine,
      symbol: local,
      cash: 100_030,
      shares: 0,
    });
    const id = placed.json().id as number;
    expect(id % (4 * LAYOUT.riskShards)).toBe(0);

    // the routed order rests at the matching shard; the account view shows it held there
    await expect
      .poll(async () => (await call('GET', `/accounts/${mine}`)).json().kept?.[0]?.cash)
      .toBe(100_030);
    const view = (await call('GET', `/accounts/${mine}`)).json();
    expect(view).toMatchObject({ cash: 1_000_000, available: 1_000_000 - 100_030, pending: 0 });
    expect(view.open_orders).toMatchObject([{ id, symbol: local, status: 'new' }]);

    // an account of the other shard: 421 naming its shard, nothing journaled
    const seq = node.seq();
    const misdirected = await call('POST', `/accounts/${theirs}/deposits`, { amount: 5 });
    expect(misdirected.statusCode).toBe(421);
    expect(misdirected.json().detail).toContain('orders shard 1');
    // a wrong field: 400 naming it
    const bad = await call('POST', `/accounts/${mine}/orders`, {
      symbol: local,
      side: 'up',
      type: 'limit',
      time_in_force: 'gtc',
      qty: 1,
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('side');
    // more than the account has: 422 insufficient funds
    const tooMuch = await call('POST', `/accounts/${mine}/orders`, {
      symbol: local,
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      qty: 100_000,
      limit_price: 10_000,
    });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().reason).toBe('insufficient_funds');
    expect(node.seq()).toBe(seq + 1); // the refused order is journaled (a verdict), the 400 and 421 are not
    // an order that is not there: 404
    expect((await call('DELETE', `/accounts/${mine}/orders/999999`)).statusCode).toBe(404);

    // a resubmission with the same client order id: the original answer, nothing applied again
    const keyed = {
      symbol: local,
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      qty: 1,
      limit_price: 9_000,
      client_order_id: 'mine-1',
    };
    const first = await call('POST', `/accounts/${mine}/orders`, keyed);
    expect(first.statusCode).toBe(201);
    // the refused order had an id of its own (it is journaled with it): never given again
    expect(tooMuch.json().orderId).toBeGreaterThan(id);
    expect(first.json().id).toBeGreaterThan(tooMuch.json().orderId);
    const again = await call('POST', `/accounts/${mine}/orders`, keyed);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(node.state().risk.lastOrderId).toBe(first.json().id); // no second order was made
    expect((await call('DELETE', `/accounts/${mine}/orders/${first.json().id}`)).statusCode).toBe(202);

    // ?wait=true: the matching shard's verdict too — booked, traded away, or refused there
    const limit = {
      symbol: local,
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      qty: 1,
      limit_price: 9_500,
    };
    const booked = await call('POST', `/accounts/${mine}/orders?wait=true`, limit);
    expect(booked.statusCode).toBe(201);
    expect(booked.json().order).toMatchObject({ id: booked.json().id, status: 'new', price: 9_500 });
    const market = { symbol: local, side: 'buy', type: 'market', time_in_force: 'day', qty: 1 };
    const nothing = await call('POST', `/accounts/${mine}/orders?wait=true`, market);
    expect(nothing.json().order).toMatchObject({ status: 'canceled' }); // no seller on the book
    expect((await call('POST', '/session', { state: 'closed' })).statusCode).toBe(200);
    const closed = await call('POST', `/accounts/${mine}/orders?wait=true`, limit);
    expect(closed.statusCode).toBe(422);
    expect(closed.json().reason).toBe('market_closed'); // held here, refused at the matching shard
    expect((await call('POST', '/session', { state: 'open' })).statusCode).toBe(200);
    // a book on the other shard, which is not running here: no verdict in time, 202 with the hold
    const remote = ['ACME', 'BOLT'].find((x) => matchingShardOf(x, LAYOUT) === 1)!;
    expect((await call('POST', '/instruments', instrument(remote))).statusCode).toBe(201);
    const far = await call('POST', `/accounts/${mine}/orders?wait=true`, { ...limit, symbol: remote });
    expect(far.statusCode).toBe(202);
    expect(far.json()).toMatchObject({ type: 'held', symbol: remote });
    expect((await call('POST', `/accounts/${mine}/orders?wait=maybe`, limit)).statusCode).toBe(400);

    // cancel: the holding comes home
    expect((await call('DELETE', `/accounts/${mine}/orders/${id}`)).statusCode).toBe(202);
    // all home but what the order for the shard that is not running still holds (routed, pending)
    await expect
      .poll(async () => (await call('GET', `/accounts/${mine}`)).json().available)
      .toBe(1_000_000 - far.json().cash);
    expect((await call('GET', `/accounts/${mine}`)).json().pending).toBe(far.json().cash);
    expect((await call('GET', '/status')).json()).toMatchObject({
      shard: 0,
      shards: 2,
      role: 'leader',
      unpublished: 0,
    });
    await server.close();
    await node.close();
  });
});
