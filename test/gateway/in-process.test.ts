/**
 * All-in-one: the gateway's typed calls (orders, token verification) go to the services'
 * in-process clients, not over the loopback server. Here the orders URL it is given leads nowhere,
 * so an order can only succeed in-process.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import { createMemoryCache } from '../../src/platform/cache/memory.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { forEachDb } from '../support/db.ts';
import { logger, RELAXED, type Stack, startStack } from './stack.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** a port nothing listens on: any HTTP call to the orders service through it fails */
const NOWHERE = 'http://127.0.0.1:9';

forEachDb('gateway with in-process clients', (makeDb) => {
  let stack: Stack | undefined;
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    await stack?.close();
    gateway = stack = undefined;
  });

  it('submits and reads orders, and checks sessions, without the loopback hop', async () => {
    stack = await startStack(await makeDb());
    const alice = await stack.user();
    await stack.list('INPROC', 1_000);
    await stack.fund(alice.id, 10_000);
    gateway = await createGateway({
      logger,
      upstreams: { orders: [NOWHERE], users: [stack.url] },
      usersInternalToken: stack.users.internalToken,
      inProcess: { orders: stack.orders.client, users: stack.users.client },
      cache: createMemoryCache(),
      limiter: createMemoryRateLimiter(),
      bus: stack.bus,
      config: { ...RELAXED, sessionCheckMs: 0 },
    });
    const order = {
      symbol: 'INPROC',
      qty: '2',
      side: 'buy',
      type: 'limit',
      time_in_force: 'gtc',
      limit_price: '9.50',
    };
    const placed = await gateway.app.inject({
      method: 'POST',
      url: '/v2/orders',
      headers: alice.auth,
      payload: order,
    });
    expect(placed.statusCode, placed.body).toBe(200);
    const id = (placed.json() as { id: string }).id;
    const read = await gateway.app.inject({ method: 'GET', url: `/v2/orders/${id}`, headers: alice.auth });
    expect(read.json()).toMatchObject({ id, symbol: 'INPROC', qty: '2', status: 'new' });

    // a session ended at the users service is refused: the liveness check is in-process too
    const out = await stack.req({
      method: 'POST',
      url: '/auth/logout',
      headers: alice.auth,
      payload: { refresh_token: alice.refresh },
    });
    expect(out.statusCode, out.body).toBeLessThan(300);
    const after = await gateway.app.inject({ method: 'GET', url: '/v2/orders', headers: alice.auth });
    expect(after.statusCode).toBe(401);
  });
});
