/**
 * /v1/admin through the gateway: operators list symbols, halt and resume, move the session and see
 * the edge's status; brokers fund their own clients; nobody else does any of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { expectProblem, type Stack, startStack, type TestUser, unique } from './stack.ts';

describeWithPostgres('gateway admin routes', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let admin: TestUser;
  let investor: TestUser;
  const symbol = unique('A').toUpperCase().slice(0, 12);

  beforeAll(async () => {
    stack = await startStack(await makeDb());
    admin = await stack.admin();
    investor = await stack.user();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('an admin lists a symbol with its rules in dollars and percent, and sees it listed', async () => {
    const res = await stack.req({
      method: 'POST',
      url: '/v1/admin/instruments',
      headers: admin.auth,
      payload: { symbol, reference_price: '25.50', collar_pct: 5, price_band_pct: 10, lot_size: 1 },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      symbol,
      tick_size: '0.01',
      reference_price: '25.50',
      collar_pct: 5,
      price_band_pct: 10,
    });
    const list = await stack.req({ method: 'GET', url: '/v1/admin/instruments', headers: admin.auth });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { symbol: string }[]).map((i) => i.symbol)).toContain(symbol);
    const instruments = await stack.orders.client.instruments();
    expect(instruments.find((i) => i.symbol === symbol)).toMatchObject({
      referencePrice: 2550,
      collarBps: 500,
    });
  });

  it('refuses a bad instrument naming the field, and lists nothing', async () => {
    const before = (await stack.orders.client.instruments()).length;
    const res = await stack.req({
      method: 'POST',
      url: '/v1/admin/instruments',
      headers: admin.auth,
      payload: { symbol: 'bad symbol', reference_price: '1.00' },
    });
    expectProblem(res, 422, 'symbol');
    const price = await stack.req({
      method: 'POST',
      url: '/v1/admin/instruments',
      headers: admin.auth,
      payload: { symbol: 'OKSYM', reference_price: '1.001' },
    });
    expectProblem(price, 422, 'reference_price');
    expect((await stack.orders.client.instruments()).length).toBe(before);
  });

  it('halts a symbol so orders on it are refused, then resumes it', async () => {
    await stack.list('HALTME', 1_000);
    await stack.fund(investor.id, 1_000);
    const order = {
      symbol: 'HALTME',
      qty: '1',
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      limit_price: '10.00',
    };
    const halt = await stack.req({
      method: 'POST',
      url: '/v1/admin/halts',
      headers: admin.auth,
      payload: { symbol: 'HALTME', halted: true },
    });
    expect(halt.statusCode, halt.body).toBe(200);
    const refused = await stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: investor.auth,
      payload: order,
    });
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    expect(refused.body).toMatch(/halt/i);
    const resume = await stack.req({
      method: 'POST',
      url: '/v1/admin/halts',
      headers: admin.auth,
      payload: { symbol: 'HALTME', halted: false },
    });
    expect(resume.statusCode).toBe(200);
    const ok = await stack.req({ method: 'POST', url: '/v2/orders', headers: investor.auth, payload: order });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('moves the session and reports it in the status with the upstreams and rate limits', async () => {
    const closed = await stack.req({
      method: 'POST',
      url: '/v1/admin/session',
      headers: admin.auth,
      payload: { state: 'closed' },
    });
    expect(closed.json()).toMatchObject({ session: 'closed' });
    const status = await stack.req({ method: 'GET', url: '/v1/admin/status', headers: admin.auth });
    const body = status.json() as {
      exchange: { session: string };
      upstreams: { name: string }[];
      rate_limits: object;
    };
    expect(body.exchange.session).toBe('closed');
    expect(body.upstreams.map((u) => u.name)).toEqual(expect.arrayContaining(['orders', 'users']));
    expect(body.rate_limits).toHaveProperty('orders');
    await stack.req({
      method: 'POST',
      url: '/v1/admin/session',
      headers: admin.auth,
      payload: { state: 'open' },
    });
    expectProblem(
      await stack.req({
        method: 'POST',
        url: '/v1/admin/session',
        headers: admin.auth,
        payload: { state: 'lunch' },
      }),
      422,
      'state',
    );
  });

  it('lets a broker fund their own client only, an admin anyone, an investor no one', async () => {
    const brokerage = await stack.brokerage();
    const broker = await stack.user({ role: 'broker', brokerageId: brokerage });
    const client = await stack.user({ brokerageId: brokerage });
    const stranger = await stack.user();
    const fund = (who: TestUser, account: string, amount = '100.00') =>
      stack.req({
        method: 'POST',
        url: '/v1/admin/funding',
        headers: who.auth,
        payload: { account_id: account, direction: 'deposit', amount },
      });
    expect((await fund(broker, client.id)).statusCode).toBe(200);
    expect((await stack.orders.client.balance(client.id)).cash).toBe(10_000);
    expectProblem(await fund(broker, stranger.id), 403);
    expectProblem(await fund(investor, investor.id), 403);
    expect((await fund(admin, stranger.id, '1.25')).statusCode).toBe(200);
    expect((await stack.orders.client.balance(stranger.id)).cash).toBe(125);
    expectProblem(await fund(admin, stranger.id, '-5'), 422, 'amount');
    expect((await stack.orders.client.balance(stranger.id)).cash).toBe(125);
  });

  it('lets an admin move shares in with their cost and out again, and nobody else', async () => {
    await stack.list('XFER', 1_000);
    const holder = await stack.user();
    await stack.fund(holder.id, 1); // the orders service knows an account from its first deposit
    const move = (who: TestUser, qty: number, cost?: string) =>
      stack.req({
        method: 'POST',
        url: '/v1/admin/transfers',
        headers: who.auth,
        payload: { account_id: holder.id, symbol: 'XFER', qty, ...(cost && { cost }) },
      });
    const moved = await move(admin, 5, '50.00');
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await stack.orders.client.positions(holder.id)).find((p) => p.symbol === 'XFER')).toMatchObject({
      qty: 5,
      cost: 5_000,
    });
    expect((await move(admin, -2)).statusCode).toBe(200);
    expect((await stack.orders.client.positions(holder.id)).find((p) => p.symbol === 'XFER')?.qty).toBe(3);
    expectProblem(await move(holder, 5, '1.00'), 403);
    expectProblem(await move(admin, 0), 422, 'qty');
    expect((await stack.orders.client.positions(holder.id)).find((p) => p.symbol === 'XFER')?.qty).toBe(3);
  });

  it('refuses every admin route to an investor and to an anonymous caller', async () => {
    const routes: [string, string, object?][] = [
      ['GET', '/v1/admin/status'],
      ['GET', '/v1/admin/instruments'],
      ['POST', '/v1/admin/instruments', { symbol: 'NOPE', reference_price: '1.00' }],
      ['POST', '/v1/admin/halts', { halted: true }],
      ['POST', '/v1/admin/session', { state: 'closed' }],
    ];
    for (const [method, url, payload] of routes) {
      expectProblem(await stack.req({ method: method as 'GET', url, headers: investor.auth, payload }), 403);
      expectProblem(await stack.req({ method: method as 'GET', url, payload }), 401);
    }
    const status = await stack.orders.client.exchangeStatus();
    expect(status.marketHalted).toBe(false);
    expect((await stack.orders.client.instruments()).some((i) => i.symbol === 'NOPE')).toBe(false);
  });
});
