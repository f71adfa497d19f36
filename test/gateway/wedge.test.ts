/**
 * A gateway that cannot be wedged (issue 9, finding 2). A value undici refuses as a header (a
 * non-ASCII idempotency key) once left the pool's connection busy for good, counted as an instance
 * failure and was retried, so a few such requests hung every orders route. Now it is refused at the
 * edge naming the field; and should one ever slip through, the upstream layer refuses it before
 * anything is sent: no retry, no breaker count, no connection lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ordersCall } from '../../src/gateway/services.ts';
import { UpstreamRequestInvalid } from '../../src/platform/http/upstream/upstream.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { expectProblem, INTERNAL_TOKEN, type Stack, startStack, type TestUser, unique } from './stack.ts';

const BAD_KEY = 'ключ-1';

describeWithPostgres('gateway: bad header values never wedge it', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let admin: TestUser;
  let investor: TestUser;
  const symbol = unique('W').toUpperCase().slice(0, 10);

  beforeAll(async () => {
    // a tiny pool: one lost connection per bad request would wedge it within a few
    stack = await startStack(await makeDb(), { config: { upstreamConnections: 2 } });
    admin = await stack.admin();
    investor = await stack.user();
    await stack.list(symbol, 1_000);
    await stack.fund(investor.id, 1_000);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const funding = (key: string) =>
    stack.req({
      method: 'POST',
      url: '/v1/admin/funding',
      headers: admin.auth,
      payload: { account_id: investor.id, direction: 'deposit', amount: '1.00', idempotency_key: key },
    });
  const transfer = (key: string) =>
    stack.req({
      method: 'POST',
      url: '/v1/admin/transfers',
      headers: admin.auth,
      payload: { account_id: investor.id, symbol, qty: 1, cost: '1.00', idempotency_key: key },
    });
  const order = () =>
    stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: investor.auth,
      payload: { symbol, qty: '1', side: 'buy', type: 'limit', time_in_force: 'gtc', limit_price: '9.00' },
    });
  const breakers = () => stack.gateway.upstreams.orders.instances().map((i) => i.breaker);

  it('refuses an idempotency key that is not printable ASCII, naming the field, and moves nothing', async () => {
    const cash = (await stack.orders.client.balance(investor.id)).cash;
    expectProblem(await funding(BAD_KEY), 422, 'idempotency_key');
    expectProblem(await transfer(BAD_KEY), 422, 'idempotency_key');
    expectProblem(await funding('with space'), 422, 'idempotency_key');
    expectProblem(await funding('x'.repeat(129)), 422, 'idempotency_key');
    expect((await stack.orders.client.balance(investor.id)).cash).toBe(cash);
    // the whole printable range is a key
    expect((await funding('!~key-1')).statusCode).toBe(200);
  });

  it('refuses a bad Idempotency-Key header on forwarded routes, naming it', async () => {
    const res = await stack.req({
      method: 'POST',
      url: '/alerts',
      headers: { ...investor.auth, 'idempotency-key': 'a b' },
      payload: { symbol, above: '20.00' },
    });
    expectProblem(res, 422, 'idempotency-key');
  });

  it('serves an order after 1,000 bad funding and transfer requests, with the breaker closed', async () => {
    for (let i = 0; i < 500; i++) {
      expect((await funding(`${BAD_KEY}${i}`)).statusCode).toBe(422);
      expect((await transfer(`${BAD_KEY}${i}`)).statusCode).toBe(422);
    }
    const res = await order();
    expect(res.statusCode, res.body).toBe(200);
    expect(breakers()).toEqual(['closed']);
  });

  it('refuses a bad header in the upstream layer before sending: no retry, no breaker count, no lost connection', async () => {
    // past the edge's validation, straight into the gateway's own orders upstream
    const orders = ordersCall(stack.gateway.upstreams.orders, stack.gateway.config, INTERNAL_TOKEN);
    const retriesBefore = await retries();
    for (let i = 0; i < 1_000; i++) {
      const call = orders<unknown>(`bad-${i}`, true, (c) =>
        i % 2 === 0
          ? c.deposit(investor.id, { amount: 100, idempotencyKey: `${BAD_KEY}${i}` })
          : c.transferShares(investor.id, { symbol, qty: 1, cost: 100, idempotencyKey: `${BAD_KEY}${i}` }),
      );
      await expect(call).rejects.toBeInstanceOf(UpstreamRequestInvalid);
    }
    // and a raw forwarded request, on the users service's upstream
    const users = stack.gateway.upstreams.users;
    for (let i = 0; i < 100; i++) {
      const send = users.send(
        { requestId: `raw-${i}`, retry: true },
        { method: 'POST', path: '/alerts', headers: { 'idempotency-key': `${BAD_KEY}${i}` }, body: '{}' },
      );
      await expect(send).rejects.toBeInstanceOf(UpstreamRequestInvalid);
    }
    expect(users.instances().map((i) => i.breaker)).toEqual(['closed']);
    expect(breakers()).toEqual(['closed']);
    expect(await retries()).toBe(retriesBefore);
    expect((await stack.req({ method: 'GET', url: '/users/me', headers: investor.auth })).statusCode).toBe(
      200,
    );
    const res = await order();
    expect(res.statusCode, res.body).toBe(200);
    expect(breakers()).toEqual(['closed']);
  });

  it('passes a 4xx from the orders service back as it is, never retried and never counted', async () => {
    const retriesBefore = await retries();
    for (let i = 0; i < 50; i++) {
      // too many shares out: the orders service refuses it
      const res = await stack.req({
        method: 'POST',
        url: '/v1/admin/transfers',
        headers: admin.auth,
        payload: { account_id: investor.id, symbol, qty: -1_000_000, idempotency_key: `out-${i}` },
      });
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, res.body).toBeLessThan(500);
    }
    expect(await retries()).toBe(retriesBefore);
    expect(breakers()).toEqual(['closed']);
    expect((await order()).statusCode).toBe(200);
  });

  async function retries(): Promise<number> {
    const metrics = await stack.req({ method: 'GET', url: '/metrics' });
    const m = /bourse_gateway_upstream_retries_total\{upstream="orders"\} (\d+)/.exec(metrics.body);
    return Number(m?.[1] ?? 0);
  }
});
