/**
 * Upstream failures, seen through the gateway: circuit breakers opening and closing, health checks
 * taking instances out and back, and retries that never place an order twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { type FlakyProxy, startFlakyProxy } from './flaky-proxy.ts';
import {
  bearer,
  eventually,
  expectProblem,
  OPS,
  PASSWORD,
  type Services,
  startGateway,
  startServices,
  unique,
} from './stack.ts';

const ORDER = {
  symbol: 'RES',
  qty: '1',
  side: 'buy',
  type: 'limit',
  time_in_force: 'gtc',
  limit_price: '10.00',
};

describeWithPostgres('gateway resilience', () => {
  const makeDb = scoped(makePostgresDb);
  let services: Services;
  let auth: Record<string, string>;
  let userId: string;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    services = await startServices(await makeDb());
    await services.orders.client.addInstrument({
      symbol: 'RES',
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 1_000_000,
      priceBandBps: 0,
      collarBps: 1000,
      referencePrice: 1_000,
    });
    // a user, registered and logged in through a plain gateway
    const gw = await startGateway(services);
    const username = unique('res');
    const reg = await gw.app.inject({
      method: 'POST',
      url: '/users',
      payload: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    userId = (reg.json() as { id: string }).id;
    const login = await gw.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    auth = bearer((login.json() as { access_token: string }).access_token);
    await gw.close();
    await services.orders.client.deposit(userId, { amount: 10_000_000 });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await services?.close();
  });

  async function proxied(n: number, config = {}): Promise<{ gateway: Gateway; proxies: FlakyProxy[] }> {
    const proxies = await Promise.all(Array.from({ length: n }, () => startFlakyProxy(services.url)));
    const gateway = await startGateway(services, { ordersUrls: proxies.map((p) => p.url), config });
    closers.push(async () => {
      await gateway.close();
      for (const p of proxies) await p.stop().catch(() => {});
    });
    return { gateway, proxies };
  }

  const account = (gateway: Gateway) =>
    gateway.app.inject({ method: 'GET', url: '/v2/account', headers: auth });

  it('opens the breaker when the only orders instance dies, and closes it when it returns', async () => {
    const { gateway, proxies } = await proxied(1, {
      breakerVolumeThreshold: 3,
      breakerErrorPercent: 50,
      breakerResetMs: 3_000,
      healthIntervalMs: 60_000,
    });
    const [proxy] = proxies as [FlakyProxy];
    expect((await account(gateway)).statusCode).toBe(200);

    await proxy.stop();
    // opossum divides failures by every call fired in the window, the ones still in flight
    // included, so how many failures open it depends on timing: fail until it opens, within a bound
    const breaker = () => gateway.upstreams.orders.instances()[0]!.breaker;
    let failed = 0;
    while (breaker() !== 'open' && failed < 10) {
      expectProblem(await account(gateway), 503);
      failed++;
    }
    expect(breaker()).toBe('open');
    expect(failed).toBeGreaterThan(0);
    // open: refused at once, without touching the instance
    const before = proxy.seen.length;
    const refused = await account(gateway);
    expectProblem(refused, 503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(proxy.seen.length).toBe(before);
    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics', headers: OPS });
    expect(metrics.body).toMatch(/bourse_gateway_breaker_state\{upstream="orders",instance="[^"]+"\} 2/);

    await proxy.start();
    await eventually(async () => {
      const res = await account(gateway);
      return res.statusCode === 200 ? res : undefined;
    });
    expect(gateway.upstreams.orders.instances()[0]!.breaker).toBe('closed');
  });

  it('takes a sick instance out of the rotation and puts it back', async () => {
    const { gateway, proxies } = await proxied(2, { healthIntervalMs: 50, healthFall: 1, healthRise: 1 });
    const [a, b] = proxies as [FlakyProxy, FlakyProxy];
    for (let i = 0; i < 4; i++) expect((await account(gateway)).statusCode).toBe(200);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);

    await a.stop();
    await eventually(async () => (gateway.upstreams.orders.instances()[0]!.healthy ? undefined : true));
    const ready = await gateway.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200); // b is still there
    const seenByB = b.seen.length;
    for (let i = 0; i < 6; i++) expect((await account(gateway)).statusCode).toBe(200);
    expect(b.seen.length - seenByB).toBeGreaterThanOrEqual(6 * 2); // an account read: balance and positions

    await a.start();
    await eventually(async () => (gateway.upstreams.orders.instances()[0]!.healthy ? true : undefined));
    const seenByA = a.seen.length;
    for (let i = 0; i < 4; i++) expect((await account(gateway)).statusCode).toBe(200);
    expect(a.seen.length).toBeGreaterThan(seenByA);
  });

  async function ordersWith(clientOrderId: string): Promise<number> {
    const page = await services.orders.client.listOrders(userId, { status: 'all', limit: 500 });
    return page.items.filter((o) => o.clientOrderId === clientOrderId).length;
  }

  it('retries a submission with a client_order_id after a lost answer, without placing it twice', async () => {
    const { gateway, proxies } = await proxied(1, { retryBaseMs: 10 });
    const [proxy] = proxies as [FlakyProxy];
    proxy.dropAnswers(1, (method, path) => method === 'POST' && path.includes('/orders'));
    const cid = unique('retry-');
    const res = await gateway.app.inject({
      method: 'POST',
      url: '/v2/orders',
      headers: auth,
      payload: { ...ORDER, client_order_id: cid },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ client_order_id: cid, status: 'new' });
    expect(proxy.seen.filter((s) => s.startsWith('POST')).length).toBe(2); // sent twice…
    expect(await ordersWith(cid)).toBe(1); // …placed once

    const metrics = await gateway.app.inject({ method: 'GET', url: '/metrics', headers: OPS });
    expect(metrics.body).toMatch(/bourse_gateway_upstream_retries_total\{upstream="orders"\} 1/);
  });

  it('treats an Idempotency-Key like a client_order_id', async () => {
    const { gateway, proxies } = await proxied(1, { retryBaseMs: 10 });
    const [proxy] = proxies as [FlakyProxy];
    proxy.dropAnswers(1, (method) => method === 'POST');
    const key = unique('idem-');
    const res = await gateway.app.inject({
      method: 'POST',
      url: '/v2/orders',
      headers: { ...auth, 'idempotency-key': key },
      payload: ORDER,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await ordersWith(key)).toBe(1);
  });

  it('gives a plain submission a client order id before the first attempt, so a resend places it once', async () => {
    const { gateway, proxies } = await proxied(1, { retryBaseMs: 10 });
    const [proxy] = proxies as [FlakyProxy];
    const before = (await services.orders.client.listOrders(userId, { status: 'all', limit: 500 })).items
      .length;
    proxy.dropAnswers(1, (method) => method === 'POST');
    const res = await gateway.app.inject({
      method: 'POST',
      url: '/v2/orders',
      headers: auth,
      payload: ORDER,
    });
    expect(res.statusCode, res.body).toBe(200);
    const cid = (res.json() as { client_order_id: string }).client_order_id;
    expect(cid).toMatch(/^[0-9a-f-]{36}$/);
    expect(proxy.seen.filter((s) => s.startsWith('POST')).length).toBe(2); // sent twice…
    const after = (await services.orders.client.listOrders(userId, { status: 'all', limit: 500 })).items
      .length;
    expect(after).toBe(before + 1); // …placed once
    expect(await ordersWith(cid)).toBe(1);
  });

  it('retries reads', async () => {
    const { gateway, proxies } = await proxied(1, { retryBaseMs: 10 });
    const [proxy] = proxies as [FlakyProxy];
    proxy.dropAnswers(1, (method) => method === 'GET');
    expect(
      (await gateway.app.inject({ method: 'GET', url: '/v2/orders?status=all', headers: auth })).statusCode,
    ).toBe(200);
  });
});
