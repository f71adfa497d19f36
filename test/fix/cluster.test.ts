/**
 * FIX in its own process: `bourse start --role fix` reaching the orders and users services over
 * HTTP, and a FIX service that follows fills made in another process through NATS JetStream.
 */
import Fastify from 'fastify';
import { afterAll, expect, it, vi } from 'vitest';
import { start } from '../../src/cli/start.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { createFixService } from '../../src/services/fix/index.ts';
import { httpOrdersClient, type OrdersClient } from '../../src/services/orders/client.ts';
import { createOrdersService } from '../../src/services/orders/index.ts';
import { createHttpUsersClient } from '../../src/services/users/client.ts';
import { deriveKeys } from '../../src/services/users/secret.ts';
import { makeNatsBus } from '../support/bus.ts';
import { makePostgresDb } from '../support/db.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWith, describeWithPostgres, serviceUrl } from '../support/services.ts';
import { makeHarness, SECRET } from '../users/harness.ts';
import { FixClient } from './client.ts';
import { logger, MID, monotonicClock, SYMBOL, TEST_FIX_CONFIG } from './harness.ts';
import { isReport, newOrder } from './messages.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** A close that takes longer than this is reported and left behind rather than hanging the run. */
const CLOSE_BOUND_MS = 30_000;

async function settleWithin(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`still open (gave up after ${ms} ms)`), ms);
  });
  const settled = p.then(
    () => 'closed',
    (err: unknown) => `failed (${err instanceof Error ? err.message : String(err)})`,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

const PASSWORD = 'correct horse battery staple';
/** what `--role` processes with BOURSE_SECRET=SECRET require on their internal APIs */
const INTERNAL = { 'x-bourse-internal-token': deriveKeys(SECRET).internalToken };

async function listAndFund(orders: OrdersClient, accounts: string[]): Promise<void> {
  await orders.addInstrument({
    symbol: SYMBOL,
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 0,
    collarBps: 1000,
    referencePrice: MID,
  });
  for (const a of accounts) {
    await orders.deposit(a, { amount: 100_000_000 });
    await orders.transferShares(a, { symbol: SYMBOL, qty: 1000, cost: 1000 * MID });
  }
}

/** Registers through the users service's HTTP API and makes an API key. */
async function apiKey(
  usersUrl: string,
  username: string,
): Promise<{ userId: string; keyId: string; secret: string }> {
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${usersUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...INTERNAL, ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status, `${path}: ${res.status}`).toBeLessThan(300);
    return (await res.json()) as Record<string, string>;
  };
  const user = await post('/users', { username, email: `${username}@example.com`, password: PASSWORD });
  const { access_token } = await post('/auth/login', { username, password: PASSWORD });
  const key = await post('/api-keys', { name: 'fix' }, { authorization: `Bearer ${access_token}` });
  return { userId: user.id!, keyId: key.id!, secret: key.secret! };
}

describeWithPostgres('bourse start --role fix', () => {
  const stops: (() => Promise<void>)[] = [];
  const saved = { ...process.env };
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    process.env = saved;
  });

  it('serves FIX alone, in front of the orders and users services it reaches over HTTP', async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    stops.push(() => database.drop());
    const config = loadConfig({
      DATABASE_URL: database.url,
      BOURSE_SECRET: SECRET,
      BOURSE_DEMO: 'off',
      PORT: '0',
      HOST: '127.0.0.1',
      BOURSE_FIX_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const orders = await start(config, logger, 'orders');
    stops.push(() => orders.stop());
    const users = await start(config, logger, 'users');
    stops.push(() => users.stop());
    process.env.BOURSE_ORDERS_URLS = orders.url;
    process.env.BOURSE_USERS_URLS = users.url;
    const fix = await start(config, logger, 'fix');
    stops.push(() => fix.stop());
    expect(fix.fixPort).toBeGreaterThan(0);
    expect((await fetch(`${fix.url}/healthz`)).status).toBe(200);

    const t = await apiKey(users.url, 'fixrole');
    const ordersHttp = httpOrdersClient(orders.url, { internalToken: deriveKeys(SECRET).internalToken });
    await listAndFund(ordersHttp, [t.userId]);

    const c = await FixClient.connect({
      port: fix.fixPort!,
      senderCompId: 'ROLE',
      username: t.keyId,
      password: t.secret,
    });
    c.send('D', newOrder('role-1', { qty: 3, price: '99.00', tif: '1' }));
    const placed = await c.waitFor(isReport('role-1', '0'), 'New');
    const order = await ordersHttp.getOrderByClientId(t.userId, 'role-1');
    expect(String(order.id)).toBe(placed.get(37));
    await c.logout();
  });
});

describeWith(['postgres', 'nats'], 'FIX across processes over NATS', () => {
  // Closed in reverse order of making, each bounded and timed: the services before the bus and the
  // database they use (a scoped() bus and database would be gone at the end of the test, before
  // this afterAll closes the services still running on them).
  const closers: { what: string; close: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const { what, close } of closers.reverse()) {
      const started = Date.now();
      const outcome = await settleWithin(close(), CLOSE_BOUND_MS);
      console.log(`closing ${what}: ${outcome} after ${Date.now() - started} ms`);
    }
  });

  it('reports a fill made in the orders process, delivered through NATS JetStream', async () => {
    const madeDb = await makePostgresDb();
    closers.push({ what: 'database', close: madeDb.dispose });
    const db = madeDb.value;
    const madeBus = await makeNatsBus();
    closers.push({ what: 'NATS bus', close: madeBus.dispose });
    const bus: Bus = madeBus.value;
    const clock = monotonicClock();
    // the orders and users services, each behind its HTTP API
    const ordersService = await createOrdersService({ db, bus, clock, logger });
    const ordersApp = Fastify();
    await ordersService.register(ordersApp);
    const ordersUrl = await ordersApp.listen({ port: 0, host: '127.0.0.1' });
    closers.push({
      what: 'orders service',
      close: async () => {
        await ordersApp.close();
        await ordersService.close();
      },
    });
    const users = await makeHarness(db, { bus });
    const usersUrl = await users.app.listen({ port: 0, host: '127.0.0.1' });
    closers.push({ what: 'users service', close: () => users.close() });

    // the FIX service as another process sees them: HTTP clients and the bus
    const orders = httpOrdersClient(ordersUrl, { internalToken: users.svc.internalToken });
    const fix = await createFixService({
      db,
      bus,
      clock,
      logger,
      orders,
      users: createHttpUsersClient({ baseUrl: usersUrl, internalToken: users.svc.internalToken }),
      limiter: createMemoryRateLimiter(),
      config: TEST_FIX_CONFIG,
    });
    closers.push({ what: 'FIX service', close: () => fix.close() });

    const buyer = await apiKey(usersUrl, 'natsbuyer');
    const seller = await apiKey(usersUrl, 'natsseller');
    await listAndFund(orders, [buyer.userId, seller.userId]);
    const c = await FixClient.connect({
      port: fix.port,
      senderCompId: 'NATS',
      username: buyer.keyId,
      password: buyer.secret,
    });
    // if the test fails before its logout, the FIX server's close would wait for this socket
    closers.push({ what: 'FIX client', close: async () => c.drop() });
    c.send('D', newOrder('n-1', { qty: 10, price: '100.00', tif: '1' }));
    await c.waitFor(isReport('n-1', '0'), 'New');
    await orders.submitOrder(seller.userId, {
      symbol: SYMBOL,
      side: 'sell',
      type: 'limit',
      qty: 4,
      price: MID,
    });
    const fill = await c.waitFor(isReport('n-1', 'F'), 'the fill');
    expect([fill.get(32), fill.get(14), fill.get(151), fill.get(39)]).toEqual(['4', '4', '6', '1']);
    await c.logout();
  });
});
