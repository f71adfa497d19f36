/**
 * `bourse cluster` for real (issue 11): 3 NATS nodes and 9 `bourse start --role` processes on
 * PostgreSQL and Redis. Users register and trade through both gateways; then kill -9 of a
 * market-data instance: a WebSocket stream client that was relayed to it reconnects through the
 * gateway to the other one and gets trades again. Durations and memory are printed, not asserted.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { type RunningCluster, startCluster } from '../../src/cli/cluster-launch.ts';
import { httpOrdersClient } from '../../src/services/orders/client.ts';
import { deriveKeys } from '../../src/services/users/secret.ts';
import { describeWithNatsServer } from '../support/nats-cluster.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { describeWith, serviceUrl } from '../support/services.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 400_000 });

const SYMBOL = 'CLSTR';
const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface User {
  id: string;
  auth: Record<string, string>;
  token: string;
}

async function call(base: string, method: string, path: string, body?: unknown, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function register(gateway: string, username: string): Promise<User> {
  const reg = await call(gateway, 'POST', '/users', {
    username,
    email: `${username}@example.com`,
    password: PASSWORD,
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const login = await call(gateway, 'POST', '/auth/login', { username, password: PASSWORD });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  const token = login.body.access_token as string;
  return { id: reg.body.id as string, token, auth: { authorization: `Bearer ${token}` } };
}

/** A market-data stream client through a gateway, subscribed to SYMBOL's trades. */
interface StreamClient {
  ws: WebSocket;
  trades: number[];
  closed: boolean;
}

function openStream(gateway: string, user: User): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gateway.replace('http', 'ws')}/v1/market-data/stream`, {
      headers: user.auth,
    });
    const client: StreamClient = { ws, trades: [], closed: false };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no subscription within 10 s'));
    }, 10_000);
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as { type: string; price?: number };
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        if (m.type === 'ready') ws.send(JSON.stringify({ action: 'subscribe', trades: [SYMBOL] }));
        else if (m.type === 'subscribed') {
          clearTimeout(timer);
          resolve(client);
        } else if (m.type === 'trade') client.trades.push(Number(m.price)); // dollars
      }
    });
    ws.on('close', () => {
      client.closed = true;
      clearTimeout(timer);
      reject(new Error('closed before subscribing'));
    });
    ws.on('error', () => {}); // 'close' follows
  });
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describeWith(['postgres', 'redis'], 'bourse cluster', () => {
  describeWithNatsServer('bourse cluster (local processes)', () => {
    let database: TestDatabase | undefined;
    let cluster: RunningCluster | undefined;
    const streams: StreamClient[] = [];

    beforeAll(async () => {
      database = await createTestDatabase(serviceUrl('postgres'));
      cluster = await startCluster({
        databaseUrl: database.url,
        redisUrl: serviceUrl('redis'),
        env: { LOG_LEVEL: 'warn' },
      });
      console.log(`cluster up in ${cluster.startMs} ms`);
      const memory = await cluster.memory();
      const total = memory.reduce((sum, p) => sum + (p.rssMb ?? 0), 0);
      console.log(
        `resident memory (MB): ${memory.map((p) => `${p.name} ${p.rssMb}`).join(', ')}; total ${total}`,
      );
    });

    afterAll(async () => {
      for (const s of streams) s.ws.terminate();
      const stopping = Date.now();
      await cluster?.stop();
      console.log(`cluster stopped in ${Date.now() - stopping} ms`);
      await database?.drop();
    });

    it('takes orders through both gateways and trades them', async () => {
      const c = cluster!;
      expect(c.gateways).toHaveLength(2);
      const [gw1, gw2] = c.gateways as [string, string];
      const run = Date.now().toString(36);
      const buyer = await register(gw1, `buyer${run}`);
      const seller = await register(gw2, `seller${run}`);

      // listing and funding are internal operations of the orders shard's leader
      const orders = httpOrdersClient(c.process('orders-0a').url, {
        internalToken: deriveKeys(c.secret).internalToken,
      });
      await orders.addInstrument({
        symbol: SYMBOL,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 1000,
        referencePrice: 10_000,
      });
      // the first deposit opens an account (the seller's pays its fees)
      await orders.deposit(buyer.id, { amount: 10_000_000 });
      await orders.deposit(seller.id, { amount: 1_000_000 });
      await orders.transferShares(seller.id, { symbol: SYMBOL, qty: 1000, cost: 1000 * 10_000 });

      const streamStart = Date.now();
      // both through gateway 1, one after the other: its round-robin relays them to the two instances
      streams.push(await openStream(gw1, buyer), await openStream(gw1, seller));
      console.log(`2 stream clients subscribed in ${Date.now() - streamStart} ms`);

      const submit = (gw: string, user: User, side: 'buy' | 'sell', id: string) =>
        call(
          gw,
          'POST',
          '/v2/orders',
          {
            symbol: SYMBOL,
            qty: '10',
            side,
            type: 'limit',
            time_in_force: 'day',
            limit_price: '100.00',
            client_order_id: id,
          },
          user.auth,
        );
      const t0 = Date.now();
      const buy = await submit(gw1, buyer, 'buy', `b1-${run}`);
      expect(buy.status, JSON.stringify(buy.body)).toBe(200);
      const sell = await submit(gw2, seller, 'sell', `s1-${run}`);
      expect(sell.status, JSON.stringify(sell.body)).toBe(200);
      console.log(`two orders acknowledged through two gateways in ${Date.now() - t0} ms`);

      // the trade, read back through the other gateway than the one that placed each order
      await until('the buy to be filled', async () => {
        const o = await call(gw2, 'GET', `/v2/orders/${buy.body.id}`, undefined, buyer.auth);
        return o.status === 200 && o.body.status === 'filled';
      });
      const latest = await call(gw1, 'GET', `/v2/stocks/${SYMBOL}/trades/latest`, undefined, seller.auth);
      expect(latest.status, JSON.stringify(latest.body)).toBe(200);
      // both stream clients, one on each market-data instance, saw the trade
      await until('the trade on both streams', () => streams.every((s) => s.trades.includes(100)), 30_000);
      console.log(`trade on the tape and both streams ${Date.now() - t0} ms after the first order`);
    });

    it('kill -9 of a market-data instance: its stream clients reconnect through the gateway to the other', async () => {
      const c = cluster!;
      const [gw1] = c.gateways as [string, string];
      const run = `${Date.now().toString(36)}k`;
      const buyer = await register(gw1, `kbuyer${run}`);
      const seller = await register(gw1, `kseller${run}`);
      const orders = httpOrdersClient(c.process('orders-0a').url, {
        internalToken: deriveKeys(c.secret).internalToken,
      });
      // the first deposit opens an account (the seller's pays its fees)
      await orders.deposit(buyer.id, { amount: 10_000_000 });
      await orders.deposit(seller.id, { amount: 1_000_000 });
      await orders.transferShares(seller.id, { symbol: SYMBOL, qty: 1000, cost: 1000 * 10_000 });

      const killedAt = Date.now();
      await c.kill('market-data-1');
      // the relay ends the client side of a relayed connection whose service end died
      await until('a stream client to be cut off', () => streams.some((s) => s.closed), 15_000);
      const cut = streams.filter((s) => s.closed);
      console.log(
        `${cut.length} of ${streams.length} stream clients cut off ${Date.now() - killedAt} ms after the kill`,
      );

      // each cut-off client reconnects through the same gateway until it is subscribed again
      let attempts = 0;
      for (const s of cut) {
        for (;;) {
          attempts++;
          try {
            const again = await openStream(gw1, buyer);
            streams[streams.indexOf(s)] = again;
            break;
          } catch {
            if (Date.now() - killedAt > 60_000)
              throw new Error(`no reconnect in 60 s (${attempts} attempts)`);
            await sleep(250);
          }
        }
      }
      console.log(`reconnected after ${attempts} attempts, ${Date.now() - killedAt} ms after the kill`);

      for (const s of streams) s.trades.length = 0;
      const buy = await call(
        gw1,
        'POST',
        '/v2/orders',
        {
          symbol: SYMBOL,
          qty: '5',
          side: 'buy',
          type: 'limit',
          time_in_force: 'day',
          limit_price: '101.00',
          client_order_id: `kb-${run}`,
        },
        buyer.auth,
      );
      expect(buy.status, JSON.stringify(buy.body)).toBe(200);
      const sell = await call(
        gw1,
        'POST',
        '/v2/orders',
        {
          symbol: SYMBOL,
          qty: '5',
          side: 'sell',
          type: 'limit',
          time_in_force: 'day',
          limit_price: '101.00',
          client_order_id: `ks-${run}`,
        },
        seller.auth,
      );
      expect(sell.status, JSON.stringify(sell.body)).toBe(200);
      await until(
        'the new trade on every stream',
        () => streams.every((s) => s.trades.includes(101)),
        30_000,
      );
      console.log(`every stream got the trade after the kill (${Date.now() - killedAt} ms after it)`);
    });
  });
});
