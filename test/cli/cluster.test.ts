/**
 * `bourse cluster` for real (issue 11): 3 NATS nodes and 9 `bourse start --role` processes on
 * PostgreSQL and Redis. Users register and trade through both gateways; Alpaca's trading stream
 * (/stream, trade_updates) on each gateway gets its account's events, whichever gateway placed the
 * order, each once and no one else's; then kill -9 of a market-data instance: a WebSocket stream
 * client that was relayed to it reconnects through the gateway to the other one and gets trades
 * again. Durations and memory are printed, not asserted.
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

/** An update of Alpaca's trading stream, with when it arrived here (ms since the epoch). */
interface TradeUpdate {
  event: string;
  timestamp: string;
  order: { id: string; status: string; qty: string; filled_qty: string };
  price?: string;
  qty?: string;
  at: number;
}

/** A raw client of a gateway's Alpaca trading stream (`/stream`), listening to trade_updates. */
interface TradeStreamClient {
  ws: WebSocket;
  updates: TradeUpdate[];
  /** any frame that was neither an update nor part of the handshake */
  other: unknown[];
}

function openTradeStream(gateway: string, key: { id: string; secret: string }): Promise<TradeStreamClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gateway.replace('http', 'ws')}/stream`);
    const client: TradeStreamClient = { ws, updates: [], other: [] };
    let listening = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail('trade stream: not listening within 10 s'), 10_000);
    ws.on('open', () =>
      ws.send(JSON.stringify({ action: 'authenticate', data: { key_id: key.id, secret_key: key.secret } })),
    );
    ws.on('message', (data: Buffer) => {
      const at = Date.now();
      const m = JSON.parse(data.toString('utf8')) as { stream?: string; data?: Record<string, unknown> };
      if (m.stream === 'trade_updates') client.updates.push({ ...(m.data as object), at } as TradeUpdate);
      else if (!listening && m.stream === 'authorization') {
        if (m.data?.status !== 'authorized') fail(`trade stream: ${JSON.stringify(m)}`);
        else ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      } else if (!listening && m.stream === 'listening') {
        if (JSON.stringify(m.data?.streams) !== '["trade_updates"]')
          return fail(`trade stream: ${JSON.stringify(m)}`);
        listening = true;
        clearTimeout(timer);
        resolve(client);
      } else if (!listening) fail(`trade stream: ${JSON.stringify(m)}`);
      else client.other.push(m);
    });
    ws.on('close', () => {
      if (!listening) fail('trade stream: closed before listening');
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
    const tradeStreams: TradeStreamClient[] = [];

    beforeAll(async () => {
      database = await createTestDatabase(serviceUrl('postgres'));
      cluster = await startCluster({
        databaseUrl: database.url,
        redisUrl: serviceUrl('redis'),
        // every user here registers and logs in from this one client: more than the default
        // login bucket (10, 1/s) lets through in a few seconds
        env: { LOG_LEVEL: 'warn', BOURSE_RATE_LOGIN: '1000/1000' },
      });
      console.log(`cluster up in ${cluster.startMs} ms`);
      const memory = await cluster.memory();
      const total = memory.reduce((sum, p) => sum + (p.rssMb ?? 0), 0);
      console.log(
        `resident memory (MB): ${memory.map((p) => `${p.name} ${p.rssMb}`).join(', ')}; total ${total}`,
      );
    });

    afterAll(async () => {
      for (const s of [...streams, ...tradeStreams]) s.ws.terminate();
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

    it("trade_updates on NATS: a client on either gateway gets each of its own account's events once, and no one else's", async () => {
      const c = cluster!;
      const [gw1, gw2] = c.gateways as [string, string];
      const run = `${Date.now().toString(36)}t`;
      const symbol = 'TRDUP';
      const alice = await register(gw1, `alice${run}`);
      const bob = await register(gw2, `bob${run}`);
      const apiKey = async (gw: string, user: User) => {
        const key = await call(gw, 'POST', '/api-keys', { name: 'stream' }, user.auth);
        expect(key.status, JSON.stringify(key.body)).toBe(201);
        return { id: key.body.id as string, secret: key.body.secret as string };
      };
      const aliceKey = await apiKey(gw2, alice);
      const bobKey = await apiKey(gw1, bob);
      const orders = httpOrdersClient(c.process('orders-0a').url, {
        internalToken: deriveKeys(c.secret).internalToken,
      });
      await orders.addInstrument({
        symbol,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 1000,
        referencePrice: 10_000,
      });
      await orders.deposit(alice.id, { amount: 10_000_000 });
      await orders.deposit(bob.id, { amount: 1_000_000 });
      await orders.transferShares(bob.id, { symbol, qty: 1000, cost: 1000 * 10_000 });

      // alice listens on both gateways (one connection each), bob on gateway 2 next to her
      const t = Date.now();
      const alice1 = await openTradeStream(gw1, aliceKey);
      const alice2 = await openTradeStream(gw2, aliceKey);
      const bob2 = await openTradeStream(gw2, bobKey);
      tradeStreams.push(alice1, alice2, bob2);
      console.log(`3 trade stream clients listening in ${Date.now() - t} ms`);

      const submit = async (gw: string, user: User, side: 'buy' | 'sell', qty: number, price: string) => {
        const res = await call(
          gw,
          'POST',
          '/v2/orders',
          { symbol, qty: String(qty), side, type: 'limit', time_in_force: 'day', limit_price: price },
          user.auth,
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return { id: res.body.id as string, ackedAt: Date.now() };
      };
      const cancel = async (gw: string, user: User, id: string) => {
        const res = await call(gw, 'DELETE', `/v2/orders/${id}`, undefined, user.auth);
        expect(res.status, JSON.stringify(res.body)).toBe(204);
      };
      const summary = (s: TradeStreamClient) =>
        s.updates.map((u) => [u.event, u.order.id, u.qty ?? u.order.qty, u.price ?? null]);
      // on a timeout, what did arrive says whether an event went to another stream or nowhere
      const arrived = (s: TradeStreamClient, id: string, event: string) =>
        until(
          `${event} of ${id}`,
          () => s.updates.some((u) => u.order.id === id && u.event === event),
          30_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; this stream got ${JSON.stringify(summary(s))}`);
        });

      // orders and cancels through both gateways: every stream must get its account's events
      // whichever gateway the order went through
      const buy = await submit(gw1, alice, 'buy', 10, '100.00');
      const sell1 = await submit(gw2, bob, 'sell', 4, '100.00'); // alice's buy: 4 of 10
      const sell2 = await submit(gw1, bob, 'sell', 6, '100.00'); // alice's buy: the other 6
      // last, a resting order of each, canceled: the orders service publishes in journal order and
      // each stream delivers in order, so once these arrive every earlier event has (or never will)
      const aliceRest = await submit(gw2, alice, 'buy', 1, '95.00');
      await cancel(gw1, alice, aliceRest.id);
      const bobRest = await submit(gw1, bob, 'sell', 1, '105.00');
      await cancel(gw2, bob, bobRest.id);
      for (const s of [alice1, alice2]) await arrived(s, aliceRest.id, 'canceled');
      await arrived(bob2, bobRest.id, 'canceled');

      // exactly these, once each, in order: a duplicate, a gap or another account's event fails
      const aliceExpected = [
        ['new', buy.id, '10', null],
        ['partial_fill', buy.id, '4', '100.00'],
        ['fill', buy.id, '6', '100.00'],
        ['new', aliceRest.id, '1', null],
        ['canceled', aliceRest.id, '1', null],
      ];
      expect(summary(alice1)).toEqual(aliceExpected);
      expect(summary(alice2)).toEqual(aliceExpected);
      expect(summary(bob2)).toEqual([
        ['new', sell1.id, '4', null],
        ['fill', sell1.id, '4', '100.00'],
        ['new', sell2.id, '6', null],
        ['fill', sell2.id, '6', '100.00'],
        ['new', bobRest.id, '1', null],
        ['canceled', bobRest.id, '1', null],
      ]);
      for (const s of [alice1, alice2, bob2]) expect(s.other).toEqual([]);
      const fill = (s: TradeStreamClient, event: string) => s.updates.find((u) => u.event === event)!;
      expect(fill(alice1, 'fill').order).toMatchObject({ status: 'filled', filled_qty: '10' });
      expect(fill(alice2, 'partial_fill').order).toMatchObject({
        status: 'partially_filled',
        filled_qty: '4',
      });

      // how long after each fill (the orders service's event time) and after the trading
      // order's acknowledgement the update arrived on each gateway's stream
      const lag = (s: TradeStreamClient, event: string, ackedAt: number) => {
        const u = fill(s, event);
        return `${u.at - Date.parse(u.timestamp)} ms after the fill (${u.at - ackedAt} ms from the ack)`;
      };
      console.log(
        `trade_updates: partial_fill on gateway 1 ${lag(alice1, 'partial_fill', sell1.ackedAt)}; ` +
          `on gateway 2 ${lag(alice2, 'partial_fill', sell1.ackedAt)}; ` +
          `fill on gateway 1 ${lag(alice1, 'fill', sell2.ackedAt)}; on gateway 2 ${lag(alice2, 'fill', sell2.ackedAt)}; ` +
          `bob's fill on gateway 2 ${lag(bob2, 'fill', sell2.ackedAt)}`,
      );
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
