/**
 * Every public route refuses another user's resources: an investor reading another's order gets
 * 404 (as if it did not exist), naming another account gets 403; a broker acts for their own
 * brokerage's clients only; an admin for anyone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { orderIdOf } from '../../src/domain/alpaca-ids.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { eventually, expectProblem, type Stack, startStack, type TestUser } from './stack.ts';

const ORDER = {
  symbol: 'OWN',
  qty: '1',
  side: 'buy',
  type: 'limit',
  time_in_force: 'gtc',
  limit_price: '10.00',
};

/** Every public route that touches an account, as [method, url, body]. */
function accountRoutes(orderId: string, q: string): [string, string, object?][] {
  return [
    ['GET', `/v2/account${q}`],
    ['GET', `/v2/orders${q}`],
    ['POST', `/v2/orders${q}`, ORDER],
    ['POST', `/market-data${q}`, ORDER],
    ['DELETE', `/v2/orders${q}`],
    ['GET', `/v2/orders/${orderId}${q}`],
    ['PATCH', `/v2/orders/${orderId}${q}`, { qty: '2' }],
    ['DELETE', `/v2/orders/${orderId}${q}`],
    ['GET', `/v2/orders:by_client_order_id?client_order_id=own-1${q ? `&${q.slice(1)}` : ''}`],
    ['GET', `/v2/positions${q}`],
    ['GET', `/v2/positions/OWN${q}`],
    ['DELETE', `/v2/positions/OWN${q}`],
    ['GET', `/v2/account/activities${q}`],
    ['GET', `/v2/account/activities/FILL${q}`],
  ];
}

describeWithPostgres('ownership at the gateway', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let alice: TestUser;
  let bob: TestUser;
  let aliceOrder: string;
  let brokerX: TestUser;
  let clientX: TestUser;
  let clientY: TestUser;
  let brokerageX: string;

  beforeAll(async () => {
    stack = await startStack(await makeDb());
    await stack.list('OWN', 1_000);
    alice = await stack.user();
    bob = await stack.user();
    for (const u of [alice, bob]) await stack.fund(u.id, 1_000);
    const res = await stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: alice.auth,
      payload: { ...ORDER, client_order_id: 'own-1' },
    });
    expect(res.statusCode, res.body).toBe(200);
    aliceOrder = (res.json() as { id: string }).id;

    const x = await stack.brokerage();
    const y = await stack.brokerage();
    brokerageX = x;
    brokerX = await stack.user({ role: 'broker', brokerageId: x });
    clientX = await stack.user({ brokerageId: x });
    clientY = await stack.user({ brokerageId: y });
    for (const u of [clientX, clientY]) await stack.fund(u.id, 1_000);
  });
  afterAll(() => stack?.close());

  it("an investor cannot see or touch another investor's order: 404", async () => {
    for (const [method, url, payload] of [
      ['GET', `/v2/orders/${aliceOrder}`],
      ['PATCH', `/v2/orders/${aliceOrder}`, { qty: '2' }],
      ['DELETE', `/v2/orders/${aliceOrder}`],
      ['GET', '/v2/orders:by_client_order_id?client_order_id=own-1'],
    ] as const) {
      const res = await stack.req({ method, url, headers: bob.auth, ...(payload && { payload }) });
      expectProblem(res, 404);
    }
    const list = await stack.req({ method: 'GET', url: '/v2/orders?status=all', headers: bob.auth });
    expect((list.json() as { id: string }[]).map((o) => o.id)).not.toContain(aliceOrder);
    // and the order is untouched
    const mine = await stack.req({ method: 'GET', url: `/v2/orders/${aliceOrder}`, headers: alice.auth });
    expect(mine.json()).toMatchObject({ status: 'new', qty: '1' });
  });

  it("a refused cancel or replace of another's order is not journaled and tells the caller nothing", async () => {
    const journaled = async () =>
      Number((await stack.db.query<{ n: string }>('SELECT count(*) AS n FROM journal')).rows[0]!.n);
    const before = await journaled();
    for (const [method, payload] of [['DELETE'], ['PATCH', { qty: '3' }]] as const) {
      const res = await stack.req({
        method,
        url: `/v2/orders/${aliceOrder}`,
        headers: bob.auth,
        ...(payload && { payload }),
      });
      expectProblem(res, 404);
    }
    expect(await journaled()).toBe(before);
    // bob's own cancel afterwards: once its notification is in, anything published before it is too
    const own = await stack.req({ method: 'POST', url: '/v2/orders', headers: bob.auth, payload: ORDER });
    expect(own.statusCode, own.body).toBe(200);
    const ownId = (own.json() as { id: string }).id;
    expect(
      (await stack.req({ method: 'DELETE', url: `/v2/orders/${ownId}`, headers: bob.auth })).statusCode,
    ).toBe(204);
    const inbox = await eventually(async () => {
      const res = await stack.req({ method: 'GET', url: '/notifications?limit=200', headers: bob.auth });
      expect(res.statusCode, res.body).toBe(200);
      const list = (res.json() as { notifications: { kind: string; data: Record<string, unknown> }[] })
        .notifications;
      return list.some((n) => n.kind === 'order_canceled') ? list : undefined;
    });
    expect(inbox.map((n) => n.data.order_id)).not.toContain(String(orderIdOf(aliceOrder)));
    expect(inbox.map((n) => n.kind)).not.toContain('order_rejected');
    const mine = await stack.req({ method: 'GET', url: `/v2/orders/${aliceOrder}`, headers: alice.auth });
    expect(mine.json()).toMatchObject({ status: 'new', qty: '1' });
  });

  it('an investor naming another account is refused on every route: 403', async () => {
    for (const [method, url, payload] of accountRoutes(aliceOrder, `?account_id=${alice.id}`)) {
      const res = await stack.req({
        method: method as 'GET',
        url,
        headers: bob.auth,
        ...(payload && { payload }),
      });
      expectProblem(res, 403);
    }
    const header = await stack.req({
      method: 'GET',
      url: '/v2/account',
      headers: { ...bob.auth, 'bourse-account-id': alice.id },
    });
    expectProblem(header, 403);
  });

  it("a broker acts for their brokerage's clients, never for another brokerage's", async () => {
    const mine = await stack.req({
      method: 'GET',
      url: `/v2/account?account_id=${clientX.id}`,
      headers: brokerX.auth,
    });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({ id: clientX.id, cash: '1000.00' });
    const placed = await stack.req({
      method: 'POST',
      url: `/v2/orders?account_id=${clientX.id}`,
      headers: brokerX.auth,
      payload: ORDER,
    });
    expect(placed.statusCode, placed.body).toBe(200);
    const id = (placed.json() as { id: string }).id;
    const seen = await stack.req({
      method: 'GET',
      url: `/v2/orders/${id}`,
      headers: clientX.auth,
    });
    expect(seen.statusCode).toBe(200);

    for (const [method, url, payload] of accountRoutes(id, `?account_id=${clientY.id}`)) {
      const res = await stack.req({
        method: method as 'GET',
        url,
        headers: brokerX.auth,
        ...(payload && { payload }),
      });
      expectProblem(res, 403);
    }
    // the broker's own view does not include the client's order
    expectProblem(await stack.req({ method: 'GET', url: `/v2/orders/${id}`, headers: brokerX.auth }), 404);
  });

  it('a broker never funds his own account, nor another broker of his brokerage: 403, cash unchanged', async () => {
    const colleague = await stack.user({ role: 'broker', brokerageId: brokerageX });
    for (const u of [brokerX, colleague]) await stack.fund(u.id, 10);
    const fund = (account: string, direction: 'deposit' | 'withdraw') =>
      stack.req({
        method: 'POST',
        url: '/v1/admin/funding',
        headers: brokerX.auth,
        payload: { account_id: account, direction, amount: '1000000.00' },
      });
    for (const account of [brokerX.id, colleague.id]) {
      for (const direction of ['deposit', 'withdraw'] as const)
        expectProblem(await fund(account, direction), 403);
      expect((await stack.orders.client.balance(account)).cash).toBe(1_000);
    }
    // the same broker still funds his client
    const client = await stack.req({
      method: 'POST',
      url: '/v1/admin/funding',
      headers: brokerX.auth,
      payload: { account_id: clientX.id, direction: 'deposit', amount: '1.00' },
    });
    expect(client.statusCode, client.body).toBe(200);
  });

  it('an admin may act for anyone', async () => {
    const admin = await stack.admin();
    const res = await stack.req({
      method: 'GET',
      url: `/v2/orders/${aliceOrder}?account_id=${alice.id}`,
      headers: admin.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
  });
});
