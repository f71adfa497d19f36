/**
 * The gateway in front of an orders shard's leader and its standby, as real processes (issue 11):
 * two `bourse start --role orders` on one PostgreSQL database, the gateway configured with both
 * URLs.
 *
 *   - orders requests land on the leader only: the standby gets none (the gateway's per-instance
 *     attempt counter);
 *   - kill -9 of the leader under a stream of orders through the gateway: after the takeover the
 *     orders go to the new leader, no acknowledged order is lost or placed twice, and the only 5xx
 *     the clients see are retriable 503s (counted and printed, as is the time from the kill to the
 *     first order acknowledged through the new leader; neither is asserted);
 *   - GET /v1/admin/status shows the shard's leader and standby, then the new leader and the old
 *     one unreachable;
 *   - two `bourse start --role market-data` on the same database, given both orders URLs (one the
 *     leader first, the other the standby first): the book depth they ask the orders service for
 *     (they have no bus to learn it from) comes from the leader before the kill and from the new
 *     leader after it, through their own balancer (the gateway's, platform/http/upstream);
 *   - one of those two leads the once-per-cluster work (simulated feeds, bars), as their /healthz
 *     and the admin status say; kill -9 of it and the other leads.
 */
import Fastify from 'fastify';
import { expect, it, onTestFinished, vi } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { createMemoryCache } from '../../src/platform/cache/memory.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import { identityHeaders, requireInternalToken } from '../../src/platform/http/forwarded-identity.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { httpOrdersClient, type OrdersClient } from '../../src/services/orders/client.ts';
import { createUsersService, ensureAdmin } from '../../src/services/users/index.ts';
import { type Child, freePort, spawnService, waitReady } from '../orders/support/process.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';
import { ADMIN_PASSWORD, INTERNAL_TOKEN, logger, PASSWORD, RELAXED, SECRET, unique } from './stack.ts';

vi.setConfig({ testTimeout: 300_000 });

const SYMBOL = 'LEAD';
const LEASE_MS = 1000;
const STREAMS = 4;
const ARGON2 = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

interface ShardView {
  shard: number;
  leader: { holder: string; epoch: number; url: string; seq: number } | null;
  standbys: { holder: string; url: string; seq: number; lag: number }[];
  fenced: unknown[];
}

interface Node {
  child: Child;
  port: number;
  url: string;
  client: OrdersClient;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The gateway's attempts per orders instance and outcome, from its Prometheus counter. */
async function attempts(gateway: Gateway, url: string): Promise<Record<string, number>> {
  const metric = await gateway.metrics.attempts.get();
  const out: Record<string, number> = {};
  for (const v of metric.values) {
    if (v.labels.upstream === 'orders' && v.labels.instance === url) out[String(v.labels.outcome)] = v.value;
  }
  return out;
}

describeWithPostgres('gateway routing to the orders shard leader (processes)', () => {
  it('sends orders to the leader only, and to the new leader after a kill -9, losing no acknowledged order; the market-data leader moves too', async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    const children: Child[] = [];
    onTestFinished(async () => {
      for (const c of children) {
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
      }
      await Promise.all(children.map((c) => c.exited));
      await database.drop();
    });
    const db = await openPostgres({ connectionString: database.url, max: 4 });
    onTestFinished(() => db.close());
    await migrate(db);

    // the users service in this process, on its own internal server, as `--role users` runs it
    const bus = createMemoryBus({ logger });
    const usersApp = Fastify({ logger: false });
    const users = await createUsersService({
      db,
      bus,
      clock: systemClock,
      logger: usersApp.log,
      config: { secret: SECRET, argon2: ARGON2 },
    });
    requireInternalToken(usersApp, users.internalToken, ['/healthz']);
    await users.register(usersApp);
    usersApp.get('/healthz', async () => ({ status: 'ok' }));
    const usersUrl = await usersApp.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(async () => {
      await usersApp.close();
      await users.close();
      await bus.close();
    });

    const startNode = async (): Promise<Node> => {
      const port = await freePort();
      const child = spawnService(database.url, port, {
        BOURSE_ORDERS_LEASE_MS: String(LEASE_MS),
        BOURSE_INTERNAL_TOKEN: INTERNAL_TOKEN,
      });
      children.push(child);
      await waitReady(child, port);
      const url = `http://127.0.0.1:${port}`;
      return { child, port, url, client: httpOrdersClient(url, { internalToken: INTERNAL_TOKEN }) };
    };
    const a = await startNode();
    const b = await startNode();
    const startMd = async (name: string, ordersUrls: string[]): Promise<{ child: Child; url: string }> => {
      const port = await freePort();
      const child = spawnService(
        database.url,
        port,
        {
          // the market-data lease: long, so a loaded machine does not lapse it (a kill -9 frees the
          // lock at once anyway)
          BOURSE_ORDERS_LEASE_MS: '5000',
          BOURSE_INTERNAL_TOKEN: INTERNAL_TOKEN,
          BOURSE_INSTANCE_ID: name,
          BOURSE_ORDERS_URLS: ordersUrls.join(','),
          BOURSE_USERS_URLS: usersUrl,
        },
        'market-data',
      );
      children.push(child);
      await waitReady(child, port);
      return { child, url: `http://127.0.0.1:${port}` };
    };
    const md1 = await startMd('md-1', [a.url, b.url]);
    const md2 = await startMd('md-2', [b.url, a.url]);

    const gateway = await createGateway({
      logger,
      upstreams: { orders: [b.url, a.url], users: [usersUrl], marketData: [md1.url, md2.url] },
      usersInternalToken: INTERNAL_TOKEN,
      cache: createMemoryCache(),
      limiter: createMemoryRateLimiter(),
      config: { ...RELAXED, healthIntervalMs: 1000, retryBaseMs: 20, leaderWaitMs: 15_000 },
    });
    onTestFinished(() => gateway.close());
    await gateway.upstreams.orders.checkHealth();
    const view = Object.fromEntries(gateway.upstreams.orders.instances().map((i) => [i.url, i]));
    expect(view[a.url]).toMatchObject({ healthy: true, role: 'leader' });
    expect(view[b.url]).toMatchObject({ healthy: false, role: 'standby' });

    // a trader, through the gateway; cash and shares straight at the leader
    const username = unique('lead');
    const reg = await gateway.app.inject({
      method: 'POST',
      url: '/users',
      payload: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    expect(reg.statusCode, reg.body).toBe(201);
    const userId = (reg.json() as { id: string }).id;
    const login = await gateway.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
    const auth = { authorization: `Bearer ${(login.json() as { access_token: string }).access_token}` };
    await ensureAdmin(
      { db, clock: systemClock, logger: usersApp.log },
      { password: ADMIN_PASSWORD, argon2: ARGON2 },
    );
    const adminLogin = await gateway.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(adminLogin.statusCode, adminLogin.body).toBe(200);
    const adminAuth = {
      authorization: `Bearer ${(adminLogin.json() as { access_token: string }).access_token}`,
    };
    const status = async () => {
      const res = await gateway.app.inject({ method: 'GET', url: '/v1/admin/status', headers: adminAuth });
      expect(res.statusCode, res.body).toBe(200);
      return (
        res.json() as {
          cluster: {
            orders: { shards: ShardView[]; unreachable: { url: string }[] };
            market_data: {
              leader: { holder: string; epoch: number; url: string } | null;
              followers: { holder: string; url: string }[];
              unreachable: { url: string }[];
            };
          };
        }
      ).cluster;
    };
    const cluster = async () => (await status()).orders;
    // only an admin sees it
    expect(
      (await gateway.app.inject({ method: 'GET', url: '/v1/admin/status', headers: auth })).statusCode,
    ).toBe(403);

    await a.client.addInstrument({
      symbol: SYMBOL,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 100_000,
      priceBandBps: 0,
      collarBps: 1000,
      referencePrice: 10_000,
    });
    await a.client.deposit(userId, { amount: 10_000_000_000, idempotencyKey: 'seed' });
    await a.client.transferShares(userId, { symbol: SYMBOL, qty: 10_000_000, cost: 10_000_000 * 10_000 });

    const submit = (i: number) =>
      gateway.app.inject({
        method: 'POST',
        url: '/v2/orders',
        headers: auth,
        payload: {
          symbol: SYMBOL,
          qty: String(1 + (i % 5)),
          side: i % 2 === 0 ? 'buy' : 'sell',
          type: 'limit',
          time_in_force: 'gtc',
          // resting orders away from each other: nothing trades, every order stays on the book
          limit_price: i % 2 === 0 ? (90 - (i % 7)).toFixed(2) : (110 + (i % 7)).toFixed(2),
          // half carry a client_order_id, half get one from the gateway
          ...(i % 2 === 0 && { client_order_id: `c-${i}` }),
        },
      });

    // --- steady state: the leader gets every request ------------------------------------------
    for (let i = 0; i < 40; i++) {
      const res = await submit(i);
      expect(res.statusCode, res.body).toBe(200);
    }

    // the book as market data serves it (`--role market-data`, its orders client over its balancer)
    // and as the orders instance itself has it
    const investor = identityHeaders(
      { userId, role: 'investor', brokerageId: null, username, accountId: userId },
      INTERNAL_TOKEN,
    );
    const mdDepth = async (url: string) => {
      const res = await fetch(`${url}/v1/market-data/${SYMBOL}/depth?levels=5`, {
        headers: investor,
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.text();
      expect(res.status, `${url}: ${body}`).toBe(200);
      return JSON.parse(body) as { bids: unknown[]; asks: unknown[]; source: string };
    };
    const exchangeDepth = async (node: Node) => {
      const d = await node.client.depth(SYMBOL, 5);
      const conv = (l: { price: number; qty: number }) => ({ price: l.price / 100, qty: l.qty });
      return { bids: d.bids.map(conv), asks: d.asks.map(conv), source: 'exchange' };
    };
    const bookOnA = await exchangeDepth(a);
    expect(bookOnA.bids.length).toBeGreaterThan(0);
    expect(bookOnA.asks.length).toBeGreaterThan(0);
    for (const md of [md1, md2]) expect(await mdDepth(md.url)).toMatchObject(bookOnA);
    const bBefore = await attempts(gateway, b.url);
    expect(bBefore).toEqual({}); // the standby got none
    expect((await attempts(gateway, a.url)).answered).toBeGreaterThanOrEqual(40);

    // the operator's view: shard 0, its leader and its standby (which has followed the journal)
    await until('the standby to follow the leader', async () => {
      const [s] = (await cluster()).shards;
      return s!.standbys[0]?.seq === s!.leader?.seq;
    });
    const before = await cluster();
    expect(before.unreachable).toEqual([]);
    expect(before.shards).toHaveLength(1);
    const [shard] = before.shards as [ShardView];
    expect(shard).toMatchObject({ shard: 0, leader: { url: a.url, epoch: 1 }, fenced: [] });
    expect(shard.leader!.holder).toMatch(/\/\d+$/);
    expect(shard.leader!.seq).toBeGreaterThanOrEqual(43); // instrument, deposit, transfer, 40 orders
    expect(shard.standbys).toHaveLength(1);
    expect(shard.standbys[0]).toMatchObject({ url: b.url, seq: shard.leader!.seq });
    // entries it found new at its last look (then applied)
    expect(shard.standbys[0]!.lag).toBeGreaterThanOrEqual(0);
    expect(shard.standbys[0]!.holder).not.toBe(shard.leader!.holder);

    // --- kill -9 of the leader under a stream of orders ---------------------------------------
    // `sent`: when the request went out; one sent after the kill can only be answered by the new leader
    const acked: { id: string; clientOrderId: string; sent: number; at: number }[] = [];
    const fiveXX = new Map<string, number>();
    let killedAt = 0;
    let next = 1000;
    let stop = false;
    const ackedAfterKill = () => acked.filter((x) => killedAt > 0 && x.sent > killedAt).length;
    const streams = Array.from({ length: STREAMS }, async () => {
      while (!stop) {
        const i = next++;
        const sent = performance.now();
        const res = await submit(i);
        if (res.statusCode === 200) {
          const o = res.json() as { id: string; client_order_id: string };
          acked.push({ id: o.id, clientOrderId: o.client_order_id, sent, at: performance.now() });
        } else {
          expect(res.statusCode, res.body).toBeGreaterThanOrEqual(500);
          const retriable = res.statusCode === 503 && res.headers['retry-after'] !== undefined;
          const key = `${res.statusCode}${retriable ? ' retriable' : ''}`;
          fiveXX.set(key, (fiveXX.get(key) ?? 0) + 1);
        }
      }
    });
    await until('orders before the kill', async () => acked.length >= 150);
    a.child.process.kill('SIGKILL');
    killedAt = performance.now();
    // when the new leader itself is ready, apart from the gateway (for the printout)
    let readyAt = 0;
    const watchReady = until(
      'the standby to take over',
      async () => {
        const res = await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) readyAt = performance.now();
        return res.status === 200;
      },
      120_000,
    );
    await until('orders through the new leader', async () => ackedAfterKill() >= 150, 120_000);
    stop = true;
    await Promise.all(streams);
    await watchReady;
    const firstAfter = Math.min(...acked.filter((x) => x.sent > killedAt).map((x) => x.at));

    // market data finds the new leader too: md-1 had the old leader first in its list
    const bookOnB = await exchangeDepth(b);
    expect(bookOnB).not.toEqual(bookOnA);
    for (const md of [md1, md2]) expect(await mdDepth(md.url)).toMatchObject(bookOnB);

    const aAfter = await attempts(gateway, a.url);
    const bAfter = await attempts(gateway, b.url);
    console.log(
      `gateway routing across a leader kill -9 (lease ${LEASE_MS} ms, ${STREAMS} streams): ` +
        `the standby ready ${(readyAt - killedAt).toFixed(0)} ms after the kill, ` +
        `first order acknowledged through it ${(firstAfter - killedAt).toFixed(0)} ms after the kill; ` +
        `${acked.length} acknowledged; 5xx seen by clients: ${JSON.stringify(Object.fromEntries(fiveXX))}; ` +
        `attempts old leader ${JSON.stringify(aAfter)}, new leader ${JSON.stringify(bAfter)}`,
    );
    // the only 5xx: retriable 503s (nothing executed; the client may send the order again)
    for (const key of fiveXX.keys()) expect(key).toBe('503 retriable');
    expect(bAfter.answered).toBeGreaterThanOrEqual(150);
    const routed = Object.fromEntries(gateway.upstreams.orders.instances().map((i) => [i.url, i]));
    expect(routed[b.url]).toMatchObject({ healthy: true, role: 'leader' });
    const after = await cluster();
    expect(after.shards).toMatchObject([{ shard: 0, leader: { url: b.url, epoch: 2 }, standbys: [] }]);
    expect(after.shards[0]!.leader!.holder).toBe(shard.standbys[0]!.holder);
    expect(after.unreachable).toMatchObject([{ url: a.url }]);

    // every acknowledged order is on the new leader, each once (its lists read the projected
    // tables, which may trail the journal by a moment)
    const ordersOnB = async (): Promise<Map<string, number>> => {
      const seen = new Map<string, number>();
      let cursor: string | undefined;
      do {
        const page = await b.client.listOrders(userId, {
          status: 'all',
          limit: 500,
          ...(cursor !== undefined && { cursor }),
        });
        for (const o of page.items) seen.set(o.clientOrderId!, (seen.get(o.clientOrderId!) ?? 0) + 1);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return seen;
    };
    let onB = await ordersOnB();
    await until("the acknowledged orders in the new leader's tables", async () => {
      onB = await ordersOnB();
      return acked.every((x) => onB.has(x.clientOrderId));
    }).catch(() => {});
    const lost = acked.filter((x) => !onB.has(x.clientOrderId));
    expect(lost).toEqual([]);
    expect([...onB.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(acked.map((x) => x.clientOrderId)).size).toBe(acked.length);

    // --- the market-data leader: one of the two, as they and the admin status say --------------
    const mdHealth = async (url: string) => {
      const res = await fetch(`${url}/healthz`, {
        headers: { 'x-bourse-internal-token': INTERNAL_TOKEN },
        signal: AbortSignal.timeout(2000),
      });
      return ((await res.json()) as { market_data: { role: string; holder: string; epoch: number } })
        .market_data;
    };
    // (epoch 1 unless md-1's lease lapsed on this loaded machine and it took the lock again)
    const md1Health = await mdHealth(md1.url);
    expect(md1Health).toMatchObject({ role: 'leader', holder: 'md-1' });
    expect(await mdHealth(md2.url)).toEqual({ role: 'follower', holder: 'md-2', epoch: 0 });
    expect((await status()).market_data).toEqual({
      leader: { holder: 'md-1', epoch: md1Health.epoch, url: md1.url },
      followers: [{ holder: 'md-2', url: md2.url }],
      unreachable: [],
    });
    md1.child.process.kill('SIGKILL');
    const mdKilledAt = performance.now();
    await until('md-2 to lead', async () => (await mdHealth(md2.url)).role === 'leader');
    console.log(
      `market-data leader kill -9 → the other leads: ${(performance.now() - mdKilledAt).toFixed(0)} ms (polled /healthz)`,
    );
    const md2Health = await mdHealth(md2.url);
    expect(md2Health).toMatchObject({ role: 'leader', holder: 'md-2' });
    expect(md2Health.epoch).toBeGreaterThan(md1Health.epoch);
    expect((await status()).market_data).toMatchObject({
      leader: { holder: 'md-2', epoch: md2Health.epoch, url: md2.url },
      followers: [],
      unreachable: [{ url: md1.url }],
    });
  });
});
