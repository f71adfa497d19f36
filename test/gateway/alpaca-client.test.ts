/**
 * An Alpaca-shaped client: it knows only Alpaca's documented paths and field names, and speaks to
 * the gateway with an API key pair, as an Alpaca SDK does once its base URL is changed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { eventually, type Stack, startStack } from './stack.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeWithPostgres('Alpaca-shaped client through the gateway', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let keys: Record<string, string>;
  let seller: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack(await makeDb());
    await stack.list('ACME', 10_000);
    const trader = await stack.user();
    await stack.fund(trader.id, 100_000);
    keys = await stack.apiKey(trader);
    const other = await stack.user();
    await stack.fund(other.id, 1_000); // an account exists once it has received something
    await stack.shares(other.id, 'ACME', 1_000, 9_000_000);
    seller = other.auth;
  });
  afterAll(() => stack?.close());

  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers = keys,
  ) => {
    const res = await stack.req({
      method,
      url,
      headers,
      ...(body !== undefined && { payload: body as object }),
    });
    return {
      status: res.statusCode,
      body: res.body ? (res.json() as Record<string, unknown>) : undefined,
      res,
    };
  };

  it('reads the account, the clock and the assets', async () => {
    const account = await call('GET', '/v2/account');
    expect(account.status).toBe(200);
    expect(account.body).toMatchObject({
      status: 'ACTIVE',
      currency: 'USD',
      cash: '100000.00',
      buying_power: '100000.00',
    });
    expect(account.body?.id).toMatch(UUID);

    const clock = await call('GET', '/v2/clock');
    expect(clock.body).toMatchObject({ is_open: true });
    expect(typeof clock.body?.next_open).toBe('string');

    const assets = await call('GET', '/v2/assets');
    const acme = (assets.body as unknown as { symbol: string; id: string; tradable: boolean }[]).find(
      (a) => a.symbol === 'ACME',
    );
    expect(acme).toMatchObject({ tradable: true, class: 'us_equity' });
    expect(acme?.id).toMatch(UUID);
    const byId = await call('GET', `/v2/assets/${acme!.id}`);
    expect(byId.body?.symbol).toBe('ACME');
  });

  it('submits, replaces, lists and cancels a limit order', async () => {
    const submitted = await call('POST', '/v2/orders', {
      symbol: 'ACME',
      qty: '10',
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      limit_price: '95.50',
      client_order_id: 'alpaca-client-1',
    });
    expect(submitted.status, submitted.res.body).toBe(200);
    const order = submitted.body!;
    expect(order).toMatchObject({
      client_order_id: 'alpaca-client-1',
      symbol: 'ACME',
      qty: '10',
      filled_qty: '0',
      side: 'buy',
      type: 'limit',
      order_type: 'limit',
      time_in_force: 'gtc',
      limit_price: '95.50',
      stop_price: null,
      status: 'new',
      order_class: 'simple',
      asset_class: 'us_equity',
    });
    expect(order.id).toMatch(UUID);

    const replaced = await call('PATCH', `/v2/orders/${order.id}`, { qty: '20', limit_price: '96.00' });
    expect(replaced.status, replaced.res.body).toBe(200);
    expect(replaced.body).toMatchObject({ qty: '20', limit_price: '96.00', status: 'new' });

    const byClient = await call('GET', '/v2/orders:by_client_order_id?client_order_id=alpaca-client-1');
    expect(byClient.body?.id).toBe(order.id);

    const open = await call('GET', '/v2/orders?status=open&symbols=ACME');
    expect((open.body as unknown as { id: string }[]).map((o) => o.id)).toContain(order.id);

    const canceled = await call('DELETE', `/v2/orders/${order.id}`);
    expect(canceled.status).toBe(204);
    const after = await call('GET', `/v2/orders/${order.id}`);
    expect(after.body).toMatchObject({ status: 'canceled' });
    expect(typeof after.body?.canceled_at).toBe('string');

    const closed = await call('GET', '/v2/orders?status=closed&limit=5&direction=desc');
    expect((closed.body as unknown as { id: string }[]).map((o) => o.id)).toContain(order.id);
  });

  it('trades, then reads positions and activities, then closes the position', async () => {
    const ask = await call(
      'POST',
      '/v2/orders',
      { symbol: 'ACME', qty: 5, side: 'sell', type: 'limit', time_in_force: 'day', limit_price: 101 },
      seller,
    );
    expect(ask.status, ask.res.body).toBe(200);
    const buy = await call('POST', '/v2/orders', {
      symbol: 'ACME',
      qty: '5',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
    });
    expect(buy.status, buy.res.body).toBe(200);
    expect(buy.body).toMatchObject({ status: 'filled', filled_qty: '5', filled_avg_price: '101.00' });

    const positions = await call('GET', '/v2/positions');
    // the cost basis includes the taker fee (3 bps): 505.00 + 0.15
    expect(positions.body).toEqual([
      expect.objectContaining({
        symbol: 'ACME',
        qty: '5',
        qty_available: '5',
        side: 'long',
        cost_basis: '505.15',
      }),
    ]);
    expect(positions.body?.[0 as never]).toMatchObject({ avg_entry_price: '101.03' });
    // valued at the last trade once the trade event has refreshed the cached instruments
    await eventually(async () => {
      const one = await call('GET', '/v2/positions/ACME');
      return one.body?.current_price === '101.00' ? one : undefined;
    }).then((one) =>
      expect(one.body).toMatchObject({ symbol: 'ACME', market_value: '505.00', unrealized_pl: '-0.15' }),
    );

    const activities = await call('GET', '/v2/account/activities');
    const list = activities.body as unknown as { activity_type: string; type?: string; qty?: string }[];
    expect(list.find((a) => a.activity_type === 'FILL')).toMatchObject({
      type: 'fill',
      qty: '5',
      side: 'buy',
    });
    expect(list.find((a) => a.activity_type === 'CSD')).toMatchObject({ net_amount: '100000.00' });

    await call(
      'POST',
      '/v2/orders',
      { symbol: 'ACME', qty: '5', side: 'buy', type: 'limit', time_in_force: 'day', limit_price: '99.00' },
      seller,
    );
    const close = await call('DELETE', '/v2/positions/ACME');
    expect(close.status, close.res.body).toBe(200);
    expect(close.body).toMatchObject({ side: 'sell', type: 'market', qty: '5' });
    const gone = await call('GET', '/v2/positions/ACME');
    expect(gone.status).toBe(404);
  });

  it('cancels all open orders with a multi-status answer', async () => {
    for (const price of ['90.00', '91.00']) {
      const r = await call('POST', '/v2/orders', {
        symbol: 'ACME',
        qty: '1',
        side: 'buy',
        type: 'limit',
        time_in_force: 'gtc',
        limit_price: price,
      });
      expect(r.status).toBe(200);
    }
    const res = await call('DELETE', '/v2/orders');
    expect(res.status).toBe(207);
    const results = res.body as unknown as { id: string; status: number }[];
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it('answers errors with Alpaca code and message inside problem+json', async () => {
    const res = await call('POST', '/v2/orders', {
      symbol: 'ACME',
      qty: '1',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '1.005',
    });
    expect(res.status).toBe(422);
    expect(res.res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body).toMatchObject({
      code: 42210000,
      errors: [expect.objectContaining({ field: 'limit_price' })],
    });
    expect(typeof res.body?.message).toBe('string');
  });
  it('places a bracket with a trailing stop-loss, reads its legs and hwm, replaces the trail, and cancels one-cancels-other', async () => {
    const placed = await call('POST', '/v2/orders', {
      symbol: 'ACME',
      qty: '5',
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      limit_price: '100.00',
      order_class: 'bracket',
      take_profit: { limit_price: '105.00' },
      stop_loss: { trail_percent: '2' },
    });
    expect(placed.status).toBe(200);
    expect(placed.body).toMatchObject({ order_class: 'bracket', status: 'new' });
    const legs = placed.body?.legs as Record<string, unknown>[];
    expect(legs.map((l) => [l.side, l.type, l.status, l.order_class])).toEqual([
      ['sell', 'limit', 'held', 'bracket'],
      ['sell', 'trailing_stop', 'held', 'bracket'],
    ]);
    expect(legs[1]).toMatchObject({ trail_percent: '2', trail_price: null, hwm: null, legs: null });

    // The seller fills the entry: the legs work, the trailing stop tracks from 100.00.
    const sold = await call(
      'POST',
      '/v2/orders',
      { symbol: 'ACME', qty: '5', side: 'sell', type: 'limit', time_in_force: 'ioc', limit_price: '100.00' },
      seller,
    );
    expect(sold.body).toMatchObject({ status: 'filled' });
    const entry = await call('GET', `/v2/orders/${placed.body?.id}`);
    const working = entry.body?.legs as Record<string, unknown>[];
    expect(working.map((l) => l.status)).toEqual(['new', 'new']);
    expect(working[1]).toMatchObject({ hwm: '100.00', stop_price: '98.00' });

    const replaced = await call('PATCH', `/v2/orders/${working[1]!.id}`, { trail: '3' });
    expect(replaced.body).toMatchObject({ trail_percent: '3', stop_price: '97.00' });
    const bad = await call('PATCH', `/v2/orders/${working[1]!.id}`, { trail: '0.001' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ errors: [expect.objectContaining({ field: 'trail' })] });

    // Cancelling the take-profit cancels the stop-loss.
    expect((await call('DELETE', `/v2/orders/${working[0]!.id}`)).status).toBe(204);
    const stop = await call('GET', `/v2/orders/${working[1]!.id}`);
    expect(stop.body).toMatchObject({ status: 'canceled' });
  });

  it('refuses a trailing stop without a trail, naming the field', async () => {
    const res = await call('POST', '/v2/orders', {
      symbol: 'ACME',
      qty: '1',
      side: 'sell',
      type: 'trailing_stop',
      time_in_force: 'gtc',
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ errors: [expect.objectContaining({ field: 'trail_price' })] });
  });
});
