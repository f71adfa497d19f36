/**
 * The typed clients over the balancer (platform/http/upstream/fetch.ts), as `--role market-data`,
 * `reporting` and `fix` build them: real HTTP servers standing in for orders and users instances
 * (an orders instance names its role in `bourse-orders-role`; a standby answers 503 not-leader).
 *
 *   - the orders client reaches the leader whichever URL is listed first, and after the roles swap
 *     a request that met the old leader (now fenced: it executed nothing) goes on to the new one,
 *     even a cancel, which is never resent after an unknown outcome;
 *   - after an unknown outcome (the connection reset once the request was read) a read and a
 *     submission carrying a client order id are sent again to another instance; a submission
 *     without one is sent once, and the client reports the service unavailable;
 *   - no instance to reach: a retriable 503 from the orders client, at once;
 *   - the users client goes past an instance that refuses connections.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { resolveGatewayConfig } from '../../src/gateway/config.ts';
import { BALANCED_BASE_URL, balancedFetch } from '../../src/platform/http/upstream/fetch.ts';
import { createUpstream, type Upstream } from '../../src/platform/http/upstream/upstream.ts';
import { createLogger } from '../../src/platform/logger.ts';
import {
  httpOrdersClient,
  type NewOrderRequest,
  OrdersApiError,
  type OrdersClient,
  ROLE_HEADER,
  resendableOrdersRequest,
} from '../../src/services/orders/client.ts';
import { createHttpUsersClient } from '../../src/services/users/client.ts';
import { freePort } from '../orders/support/process.ts';

const logger = createLogger({ level: 'silent' });
const TOKEN = 'balanced-fetch-test-token-0123456789abcdef';

type Role = 'leader' | 'standby' | 'fenced';

interface Instance {
  app: FastifyInstance;
  url: string;
  role: Role;
  /** reset the connection of every request but the health checks, once it has been read */
  reset: boolean;
  /** requests other than health checks, by method and path */
  served: string[];
}

const instances: Instance[] = [];
const upstreams: Upstream[] = [];
afterEach(async () => {
  for (const u of upstreams.splice(0)) await u.close();
  for (const i of instances.splice(0)) await i.app.close();
});

/** An orders instance as far as the balancer and the typed client see one. */
async function ordersInstance(role: Role, reset = false): Promise<Instance> {
  const app = Fastify({ logger: false });
  const self: Instance = { app, url: '', role, reset, served: [] };
  app.get('/healthz', async (_req, reply) => {
    reply.header(ROLE_HEADER, self.role);
    return self.role === 'fenced' ? reply.code(503).send({ status: 'fenced' }) : { status: 'ok' };
  });
  const answer = (reply: FastifyReply, ok: () => unknown) => {
    if (self.reset) return void reply.raw.socket?.destroy();
    reply.header(ROLE_HEADER, self.role);
    if (self.role !== 'leader')
      return reply
        .code(503)
        .type('application/problem+json')
        .send({ type: 'https://bourse.dev/problems/not-leader', status: 503, role: self.role });
    return ok();
  };
  app.addHook('onRequest', async (req) => {
    if (req.url !== '/healthz') self.served.push(`${req.method} ${req.url.split('?')[0]}`);
  });
  app.get('/internal/orders/exchange', async (_req, reply) =>
    answer(reply, () => ({ session: 'open', marketHalted: false, at: self.url })),
  );
  app.post('/internal/orders/accounts/:account/orders', async (req, reply) =>
    answer(reply, () => ({ order: { id: 1, at: self.url, ...(req.body as object) }, replayed: false })),
  );
  app.delete('/internal/orders/accounts/:account/orders/:id', async (_req, reply) =>
    answer(reply, () => ({ id: 1, status: 'canceled', at: self.url })),
  );
  self.url = await app.listen({ port: 0, host: '127.0.0.1' });
  instances.push(self);
  return self;
}

function upstream(name: string, urls: string[], roleHeader?: string): Upstream {
  const config = resolveGatewayConfig({
    healthIntervalMs: 60_000,
    retryBaseMs: 5,
    leaderWaitMs: 5_000,
    // every reset counted against the instance would open its circuit midway: not what is tested
    breakerVolumeThreshold: 1_000,
  });
  const u = createUpstream(name, urls, config, logger, {}, undefined, roleHeader);
  upstreams.push(u);
  return u;
}

/** The orders client as start.ts builds it for the other roles. */
function ordersClient(urls: string[]): OrdersClient {
  const u = upstream('orders', urls, ROLE_HEADER);
  return httpOrdersClient(BALANCED_BASE_URL, {
    internalToken: TOKEN,
    fetch: balancedFetch(u, { retry: resendableOrdersRequest }),
  });
}

const ORDER: NewOrderRequest = {
  symbol: 'BAL',
  side: 'buy',
  type: 'limit',
  qty: 1,
  price: 10_000,
};

it('reaches the leader whichever is listed first, and goes on past an instance that stopped leading', async () => {
  const standby = await ordersInstance('standby');
  const leader = await ordersInstance('leader');
  const client = ordersClient([standby.url, leader.url]);
  for (let i = 0; i < 4; i++) expect(await client.exchangeStatus()).toMatchObject({ at: leader.url });
  // at most the first request met the standby (before its first probe came back), then none did
  expect(standby.served.length).toBeLessThanOrEqual(1);
  expect(leader.served).toHaveLength(4);

  // a takeover the balancer has not probed yet: the old leader says fenced, having executed
  // nothing, so even a cancel (never resent after an unknown outcome) goes on to the new leader
  leader.role = 'fenced';
  standby.role = 'leader';
  const before = { old: leader.served.length, next: standby.served.length };
  expect(await client.cancelOrder('acct', 1)).toMatchObject({ status: 'canceled', at: standby.url });
  expect(leader.served.length - before.old).toBe(1);
  expect(standby.served.slice(before.next)).toEqual(['DELETE /internal/orders/accounts/acct/orders/1']);
});

it('resends a read and a submission with a client order id after an unknown outcome, and a submission without one never', async () => {
  const resetting = await ordersInstance('leader', true);
  const healthy = await ordersInstance('leader');
  const client = ordersClient([resetting.url, healthy.url]);
  const sends = () => resetting.served.length + healthy.served.length;

  // reads: every one answered, whichever instance came first
  for (let i = 0; i < 4; i++) expect(await client.exchangeStatus()).toMatchObject({ at: healthy.url });
  expect(healthy.served).toHaveLength(4);
  expect(resetting.served.length).toBeGreaterThan(0);

  // submissions without a client order id: each sent once; one reset is an unknown outcome, reported
  let failed = 0;
  for (let i = 0; i < 4; i++) {
    const resetBefore = resetting.served.length;
    const total = sends();
    const outcome = await client.submitOrder('acct', ORDER).catch((err: unknown) => err);
    expect(sends() - total).toBe(1);
    if (outcome instanceof OrdersApiError) {
      failed++;
      expect(outcome.problem).toMatchObject({ status: 503, retriable: true });
      expect(resetting.served.length - resetBefore).toBe(1);
    } else expect(outcome).toMatchObject({ order: { at: healthy.url } });
  }
  expect(failed).toBeGreaterThan(0);

  // with a client order id the service would answer a resend with the first order: resent
  for (let i = 0; i < 4; i++) {
    const order = await client.submitOrder('acct', { ...ORDER, clientOrderId: `c-${i}` });
    expect(order).toMatchObject({ order: { at: healthy.url, clientOrderId: `c-${i}` } });
  }
});

it('answers a retriable 503 at once when no instance can be reached', async () => {
  const client = ordersClient([
    `http://127.0.0.1:${await freePort()}`,
    `http://127.0.0.1:${await freePort()}`,
  ]);
  const err = await client.exchangeStatus().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OrdersApiError);
  expect((err as OrdersApiError).problem).toMatchObject({ status: 503, retriable: true });
});

it('gives the users client every users instance: one that refuses connections is passed over', async () => {
  const app = Fastify({ logger: false });
  instances.push({ app, url: '', role: 'leader', reset: false, served: [] });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/internal/users/:id', async (req) => ({ id: (req.params as { id: string }).id, username: 'u' }));
  const alive = await app.listen({ port: 0, host: '127.0.0.1' });
  const u = upstream('users', [`http://127.0.0.1:${await freePort()}`, alive]);
  const users = createHttpUsersClient({
    baseUrl: BALANCED_BASE_URL,
    internalToken: TOKEN,
    fetch: balancedFetch(u, { retry: () => true }),
  });
  for (let i = 0; i < 4; i++) expect(await users.getUser(`u${i}`)).toMatchObject({ id: `u${i}` });
});
