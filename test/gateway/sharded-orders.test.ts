/**
 * The gateway's typed orders calls over several shards (shardedOrdersCall, src/gateway/services.ts):
 * one balancer per shard, and shardedOrdersClient choosing the shard. Two real HTTP servers stand in
 * for two shards' leaders and record what reaches them:
 *   - an account's call reaches its risk shard only, a symbol's its matching shard only, the session
 *     every shard;
 *   - a shard that is down fails the calls it owns as unavailable (nothing executed), while the
 *     other shard's accounts are served.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../../src/engine/shards/layout.ts';
import { resolveGatewayConfig } from '../../src/gateway/config.ts';
import { shardedOrdersCall } from '../../src/gateway/services.ts';
import {
  createUpstream,
  type Upstream,
  UpstreamUnavailable,
} from '../../src/platform/http/upstream/upstream.ts';
import { ROLE_HEADER } from '../../src/services/orders/client.ts';
import { shardedOrdersClient } from '../../src/services/orders/sharded-client.ts';
import { logger } from './stack.ts';

const LAYOUT: ShardLayout = { riskShards: 2, matchingShards: 2 };
const TOKEN = 'sharded-orders-test-internal-token';
const config = resolveGatewayConfig({ healthIntervalMs: 60_000, retryAttempts: 2, retryBaseMs: 1 });

interface Shard {
  app: FastifyInstance;
  url: string;
  /** method and path of every request but the probes */
  seen: string[];
}

const shards: Shard[] = [];
const upstreams: Upstream[] = [];

async function shard(k: number): Promise<Shard> {
  const app = Fastify();
  const s: Shard = { app, url: '', seen: [] };
  app.addHook('onRequest', async (req, reply) => {
    reply.header(ROLE_HEADER, 'leader');
    if (req.url !== '/healthz') s.seen.push(`${req.method} ${req.url.split('?')[0]}`);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/internal/orders/accounts/:account/balance', async (req) => ({
    account: (req.params as { account: string }).account,
    cash: 100 * (k + 1),
    buyingPower: 0,
    reserved: 0,
  }));
  app.get('/internal/orders/symbols/:symbol/book', async (req) => ({
    symbol: (req.params as { symbol: string }).symbol,
    bids: [],
    asks: [],
    shard: k,
  }));
  app.post('/internal/orders/admin/session', async (req) => ({
    session: (req.body as { state: string }).state,
    marketHalted: false,
    lastSeq: k + 1,
  }));
  s.url = await app.listen({ port: 0, host: '127.0.0.1' });
  return s;
}

/** names of the given shard (the layout's hash decides) */
function nameOn(of: (name: string, layout: ShardLayout) => number, k: number, prefix: string): string {
  for (let i = 0; ; i++) if (of(`${prefix}${i}`, LAYOUT) === k) return `${prefix}${i}`;
}

beforeAll(async () => {
  for (const k of [0, 1]) {
    const s = await shard(k);
    shards.push(s);
    upstreams.push(createUpstream(`orders-${k}`, [s.url], config, logger, {}, undefined, ROLE_HEADER));
  }
  await Promise.all(upstreams.map((u) => u.checkHealth()));
});

afterAll(async () => {
  for (const u of upstreams) await u.close();
  for (const s of shards) await s.app.close();
});

const orders = () =>
  shardedOrdersCall(upstreams, config, TOKEN, (clients) => shardedOrdersClient(clients, LAYOUT));

it("sends an account's call to its risk shard, a symbol's to its matching shard, the session to every shard", async () => {
  const call = orders();
  const on0 = nameOn(riskShardOf, 0, 'acct');
  const on1 = nameOn(riskShardOf, 1, 'acct');
  const symbol1 = nameOn(matchingShardOf, 1, 'SYM');
  expect((await call('r1', true, (c) => c.balance(on1))).cash).toBe(200);
  expect((await call('r2', true, (c) => c.balance(on0))).cash).toBe(100);
  await call('r3', true, (c) => c.depth(symbol1));
  const status = await call('r4', true, (c) => c.setSession('open'));
  expect(status.session).toBe('open');
  expect(shards[0]!.seen).toEqual([
    `GET /internal/orders/accounts/${on0}/balance`,
    'POST /internal/orders/admin/session',
  ]);
  expect(shards[1]!.seen).toEqual([
    `GET /internal/orders/accounts/${on1}/balance`,
    `GET /internal/orders/symbols/${symbol1}/book`,
    'POST /internal/orders/admin/session',
  ]);
});

it("a shard that is down fails its own calls as unavailable; the other shard's accounts are served", async () => {
  const call = orders();
  const on0 = nameOn(riskShardOf, 0, 'acct');
  const on1 = nameOn(riskShardOf, 1, 'acct');
  await shards[1]!.app.close();
  const failed = await call('r5', true, (c) => c.balance(on1)).catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(UpstreamUnavailable);
  expect((failed as UpstreamUnavailable).upstream).toBe('orders-1');
  expect((failed as UpstreamUnavailable).maybeExecuted).toBe(false);
  expect((await call('r6', true, (c) => c.balance(on0))).cash).toBe(100);
});
