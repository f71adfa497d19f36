/**
 * The market-data WebSocket on a listening Fastify with a real ws client: authentication (header
 * and first message), subscribe/unsubscribe, trades, conflated quotes, books and the user's own
 * orders from a real orders service, and a slow consumer cut off without slowing the others —
 * connected directly, and through the gateway's WebSocket relay.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { orderUuid } from '../../src/domain/alpaca-ids.ts';
import { pipeWebSockets } from '../../src/gateway/ws-proxy.ts';
import type { Tick } from '../../src/services/market-data/model.ts';
import type { VerifiedIdentity } from '../../src/services/users/client.ts';
import { MID, SYMBOL } from '../orders/support/service.ts';
import { forEachDb } from '../support/db.ts';
import { eventually, type MdHarness, makeHarness, T0 } from './harness.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

type Msg = Record<string, unknown>;
interface Client {
  ws: WebSocket;
  next(): Promise<Msg>;
  /** the next message matching, skipping others */
  until(pred: (m: Msg) => boolean): Promise<Msg>;
  send(m: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const queue: Msg[] = [];
    const waiters: ((m: Msg) => void)[] = [];
    ws.on('message', (data) => {
      // trades come gathered: a frame holds one message or an array of them
      const parsed = JSON.parse(String(data)) as Msg | Msg[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        const w = waiters.shift();
        if (w) w(m);
        else queue.push(m);
      }
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
    );
    const next = (): Promise<Msg> => {
      const m = queue.shift();
      return m ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
    };
    ws.on('open', () =>
      resolve({
        ws,
        next,
        async until(pred) {
          for (;;) {
            const m = await next();
            if (pred(m)) return m;
          }
        },
        send: (m) => ws.send(JSON.stringify(m)),
        closed,
      }),
    );
    ws.on('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error('refused'), { status: res.statusCode })),
    );
    ws.on('error', reject);
  });
}

const alice: VerifiedIdentity = {
  userId: 'alice',
  role: 'investor',
  brokerageId: 'b1',
  username: 'alice',
  method: 'access_token',
  credentialId: 's1',
};

let seq = 1_000_000;
const trade = (price: number, size = 1): Tick => ({
  type: 'trade',
  source: 'exchange',
  symbol: SYMBOL,
  ts: T0 + seq,
  seq: ++seq,
  price,
  size,
  bid: 0,
  bidSize: 0,
  ask: 0,
  askSize: 0,
});

const pauseReading = (c: Client) => (c.ws as unknown as { _socket: Socket })._socket.pause();
const resumeReading = (c: Client) => (c.ws as unknown as { _socket: Socket })._socket.resume();

/** The most a loopback TCP connection can queue in the kernel: a full receive and send buffer. */
function kernelBytesPerHop(): number {
  const max = (f: string) => Number(readFileSync(`/proc/sys/net/ipv4/${f}`, 'utf8').trim().split(/\s+/)[2]);
  return max('tcp_rmem') + max('tcp_wmem');
}

forEachDb('market-data: WebSocket stream', (makeDb) => {
  let h: MdHarness;
  let url: string;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    h = await makeHarness(await makeDb(), {
      config: { stream: { softBufferBytes: 8 * 1024, maxBufferBytes: 64 * 1024, authTimeoutMs: 10_000 } },
    });
    h.tokens.set('good-token', alice);
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/v1/market-data/stream`;
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await h?.close();
  });
  const connect = async (headers: Record<string, string> = {}) => {
    const c = await open(url, headers);
    sockets.push(c.ws);
    return c;
  };

  describe('authentication', () => {
    it('accepts a bearer token on the upgrade', async () => {
      const c = await connect({ authorization: 'Bearer good-token' });
      expect(await c.next()).toEqual({ type: 'ready' });
      c.ws.close();
    });

    it('refuses a bad bearer token with 401 before upgrading', async () => {
      await expect(connect({ authorization: 'Bearer bad-token' })).rejects.toMatchObject({ status: 401 });
    });

    it('accepts an auth message, and closes with 4401 on a bad one', async () => {
      const good = await connect();
      good.send({ action: 'auth', token: 'good-token' });
      expect(await good.next()).toEqual({ type: 'ready' });
      good.ws.close();
      const bad = await connect();
      bad.send({ action: 'auth', token: 'nope' });
      expect(await bad.closed).toEqual({ code: 4401, reason: 'unauthorized' });
      const garbage = await connect();
      garbage.send({ action: 'subscribe', trades: [SYMBOL] });
      expect((await garbage.closed).code).toBe(4401);
    });

    it('closes a stream when its access token expires, by header or by message', async () => {
      const jwt = (expSec: number) =>
        ['e30', Buffer.from(JSON.stringify({ sub: 'alice', exp: expSec })).toString('base64url'), 'sig'].join(
          '.',
        );
      const soon = jwt(Math.floor(Date.now() / 1000) + 1);
      const later = jwt(Math.floor(Date.now() / 1000) + 3600);
      h.tokens.set(soon, alice);
      h.tokens.set(later, alice);
      const byHeader = await connect({ authorization: `Bearer ${soon}` });
      const byMessage = await connect();
      byMessage.send({ action: 'auth', token: soon });
      const lasting = await connect({ authorization: `Bearer ${later}` });
      expect(await byHeader.next()).toEqual({ type: 'ready' });
      expect(await byMessage.next()).toEqual({ type: 'ready' });
      expect(await byHeader.closed).toEqual({ code: 4401, reason: 'token expired' });
      expect(await byMessage.closed).toEqual({ code: 4401, reason: 'token expired' });
      expect(lasting.ws.readyState).toBe(WebSocket.OPEN);
      lasting.ws.close();
    });
  });

  describe('subscriptions', () => {
    it('subscribes and unsubscribes, and sends only what is subscribed', async () => {
      const c = await connect({ authorization: 'Bearer good-token' });
      await c.next();
      c.send({ action: 'subscribe', trades: [SYMBOL], quotes: [SYMBOL] });
      expect(await c.next()).toEqual({
        type: 'subscribed',
        trades: [SYMBOL],
        quotes: [SYMBOL],
        books: [],
        bars: [],
        news: [],
        orders: false,
      });
      h.md.ingest(trade(101.25, 7));
      await h.md.step(); // trades leave at the stream's next flush
      expect(await c.next()).toMatchObject({ type: 'trade', symbol: SYMBOL, price: 101.25, size: 7 });
      h.md.ingest({ ...trade(0), type: 'quote', bid: 101, bidSize: 3, ask: 101.5, askSize: 4 });
      h.md.ingest({ ...trade(0), type: 'quote', bid: 101.1, bidSize: 5, ask: 101.4, askSize: 6 });
      await h.md.step();
      // conflated: one quote, the latest
      expect(await c.next()).toMatchObject({
        type: 'quote',
        symbol: SYMBOL,
        bid: 101.1,
        bidSize: 5,
        ask: 101.4,
        askSize: 6,
      });
      c.send({ action: 'unsubscribe', trades: [SYMBOL] });
      expect(await c.next()).toMatchObject({ type: 'subscribed', trades: [], quotes: [SYMBOL] });
      h.md.ingest(trade(102));
      h.md.ingest({ ...trade(0), type: 'quote', bid: 100, bidSize: 1, ask: 103, askSize: 1 });
      await h.md.step();
      expect(await c.next()).toMatchObject({ type: 'quote', bid: 100 }); // the trade was not sent
      c.send({ action: 'subscribe', trades: ['lower'] });
      expect(await c.next()).toMatchObject({ type: 'error', code: 'invalid-field' });
      c.send({ action: 'dance' });
      expect(await c.next()).toMatchObject({ type: 'error', code: 'invalid-action' });
      c.ws.close();
    });

    it('streams books and the user own orders from the exchange', async () => {
      const c = await connect({ authorization: 'Bearer good-token' });
      await c.next();
      c.send({ action: 'subscribe', books: [SYMBOL], orders: true });
      expect(await c.next()).toMatchObject({ type: 'subscribed', books: [SYMBOL], orders: true });
      // bob's order is not alice's: only the book shows it
      await h.orders.client.submitOrder('bob', {
        symbol: SYMBOL,
        side: 'sell',
        type: 'limit',
        tif: 'gtc',
        qty: 9,
        price: MID + 500,
      });
      const { order } = await h.orders.client.submitOrder('alice', {
        symbol: SYMBOL,
        side: 'buy',
        type: 'limit',
        tif: 'gtc',
        qty: 3,
        price: MID - 500,
        clientOrderId: 'ws-1',
      });
      const mine = await c.until((m) => m.type === 'order');
      expect(mine).toMatchObject({
        type: 'order',
        kind: 'accepted',
        order_id: orderUuid(order.id),
        client_order_id: 'ws-1',
        symbol: SYMBOL,
        side: 'buy',
        status: 'new',
        filled_qty: 0,
        limit_price: 95,
      });
      // poll the conflated book push until it shows both orders
      const book = await (async () => {
        for (;;) {
          await h.md.step();
          const m = await Promise.race([c.next(), new Promise<null>((r) => setTimeout(() => r(null), 20))]);
          if (m?.type === 'order') throw new Error('unexpected second order message');
          const b = m as { type: string; bids: number[][]; asks: number[][] } | null;
          if (b?.type === 'book' && b.bids.some((l) => l[0] === 95) && b.asks.some((l) => l[0] === 105))
            return b;
        }
      })();
      expect(book.bids).toContainEqual([95, 3]);
      expect(book.asks).toContainEqual([105, 9]);
      c.ws.close();
    });
  });

  it('sends closed bars after they are written, and news for subscribed symbols', async () => {
    const c = await connect({ authorization: 'Bearer good-token' });
    await c.next();
    c.send({ action: 'subscribe', bars: [SYMBOL], news: ['*'] });
    await c.until((m) => m.type === 'subscribed');
    const minute = Date.UTC(2026, 10, 27, 10, 0, 0);
    h.md.ingest({ ...trade(50, 10), ts: minute + 1_000 });
    h.md.ingest({ ...trade(51, 5), ts: minute + 2_000 });
    h.md.ingest({ ...trade(52, 1), ts: minute + 61_000 }); // the next minute closes the first
    await h.md.flush();
    expect(
      await c.until(
        (m) => m.type === 'bar' && m.timeframe === '1m' && m.t === new Date(minute).toISOString(),
      ),
    ).toEqual({
      type: 'bar',
      symbol: SYMBOL,
      timeframe: '1m',
      t: new Date(minute).toISOString(),
      o: 50,
      h: 51,
      l: 50,
      c: 51,
      v: 15,
    });
    await h.bus.publish('news.item', {
      id: 1,
      feedId: 'wire',
      guid: 'g',
      url: null,
      title: 'Hello',
      summary: null,
      publishedAt: minute,
      symbols: [],
    });
    expect(await c.until((m) => m.type === 'news')).toMatchObject({
      type: 'news',
      headline: 'Hello',
      source: 'wire',
    });
    c.ws.close();
  });

  it('conflates quotes for a reader that falls behind instead of cutting it off', async () => {
    const c = await connect({ authorization: 'Bearer good-token' });
    await c.next();
    c.send({ action: 'subscribe', quotes: ['*'] });
    await c.until((m) => m.type === 'subscribed');
    let received = 0;
    const last = new Map<string, number>();
    c.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; symbol: string; bid: number };
      if (m.type !== 'quote') return;
      received++;
      last.set(m.symbol, m.bid);
    });
    const socket = (c.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const symbols = Array.from({ length: 500 }, (_, i) => `Q${i}`);
    const before = h.md.stats().stream.slowConsumerClosed;
    let updates = 0;
    let bid = 0;
    for (let step = 0; step < 400; step++) {
      bid = 10 + step / 100;
      for (const symbol of symbols) {
        h.md.ingest({ ...trade(0), symbol, type: 'quote', bid, bidSize: 1, ask: bid + 0.01, askSize: 1 });
        updates++;
      }
      await h.md.step();
      await new Promise((r) => setImmediate(r));
    }
    socket.resume();
    // keep pushing (nothing new) until the held-back latest quotes have all arrived
    await eventually(async () => {
      await h.md.step();
      expect(symbols.every((s) => last.get(s) === bid)).toBe(true);
    }, 2000);
    expect(h.md.stats().stream.slowConsumerClosed).toBe(before);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(received).toBeLessThan(updates); // some quotes were replaced by newer ones, not queued
    c.ws.close();
  });

  it('gathers the trades of one stream interval into one frame, in order', async () => {
    const c = await connect({ authorization: 'Bearer good-token' });
    await c.next();
    c.send({ action: 'subscribe', trades: [SYMBOL] });
    await c.until((m) => m.type === 'subscribed');
    const frames: unknown[] = [];
    c.ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    for (const price of [10.01, 10.02, 10.03]) h.md.ingest(trade(price, 1));
    expect(frames).toEqual([]); // nothing leaves before the flush
    await h.md.step();
    for (const price of [10.01, 10.02, 10.03]) {
      expect(await c.next()).toMatchObject({ type: 'trade', price });
    }
    expect(frames).toHaveLength(1);
    expect((frames[0] as { price: number }[]).map((t) => t.price)).toEqual([10.01, 10.02, 10.03]);
    c.ws.close();
  });

  it('disconnects a slow consumer with 4008 and keeps serving the others', async () => {
    const slow = await connect({ authorization: 'Bearer good-token' });
    const fast = await connect({ authorization: 'Bearer good-token' });
    for (const c of [slow, fast]) {
      await c.next();
      c.send({ action: 'subscribe', trades: [SYMBOL] });
      await c.until((m) => m.type === 'subscribed');
    }
    // the slow client stops reading: the kernel buffers fill, then the server's
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    let fastSeen = 0;
    fast.ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as unknown;
      fastSeen += Array.isArray(parsed) ? parsed.length : 1;
    });
    const before = h.md.stats().stream.slowConsumerClosed;
    for (let round = 0; round < 2000 && h.md.stats().stream.slowConsumerClosed === before; round++) {
      for (let i = 0; i < 1000; i++) h.md.ingest(trade(100 + (i % 100) / 100, 1));
      await new Promise((r) => setImmediate(r));
    }
    expect(h.md.stats().stream.slowConsumerClosed).toBe(before + 1);
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer' });
    // the fast one still gets new trades
    h.md.ingest(trade(123.45, 42));
    await h.md.step();
    await fast.until((m) => m.type === 'trade' && m.price === 123.45 && m.size === 42);
    expect(fastSeen).toBeGreaterThan(1000);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
  });

  describe('through the gateway relay', () => {
    const HIGH_WATER = 16 * 1024;
    let relay: Server;
    let relayStats: ReturnType<typeof pipeWebSockets>;
    let relayUrl: string;
    const start = async (stallMs: number) => {
      relay = createServer();
      const mdBase = url.replace(/^ws:/, 'http:').replace(/\/v1\/market-data\/stream$/, '');
      relayStats = pipeWebSockets(
        relay,
        { '/v1/market-data/stream': { pick: () => mdBase } },
        { internalToken: 'relay-test-token', highWaterBytes: HIGH_WATER, stallMs },
      );
      await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
      relayUrl = `ws://127.0.0.1:${(relay.address() as AddressInfo).port}/v1/market-data/stream`;
    };
    // the sockets still open are the clients' (terminated after all)
    const stop = () => relay.close();
    const subscribed = async (what: Record<string, string[]>) => {
      const c = await open(relayUrl, { authorization: 'Bearer good-token' });
      sockets.push(c.ws);
      await c.next();
      c.send({ action: 'subscribe', ...what });
      await c.until((m) => m.type === 'subscribed');
      return c;
    };

    it('paused readers behind the relay get 4008 from the service within a bounded count of trades', async () => {
      await start(600_000); // only the service's bound may act here
      const slow = await Promise.all([1, 2, 3].map(() => subscribed({ trades: [SYMBOL] })));
      const fast = await subscribed({ trades: [SYMBOL] });
      for (const c of slow) pauseReading(c);
      const before = h.md.stats().stream.slowConsumerClosed;
      const oneTrade = JSON.stringify({
        type: 'trade',
        symbol: SYMBOL,
        price: 100.99,
        size: 1,
        ts: new Date(T0).toISOString(),
      });
      // what one connection can hold before the service must see its own buffer grow: the
      // client's and the relay's kernel queues on both hops, the relay's high-water mark, the
      // service's bound; every trade adds at least its JSON to each slow connection
      const bound = Math.ceil(
        (2 * kernelBytesPerHop() + HIGH_WATER + 64 * 1024 + 64 * 1024) / oneTrade.length,
      );
      let sent = 0;
      while (h.md.stats().stream.slowConsumerClosed < before + slow.length && sent <= bound) {
        for (let i = 0; i < 1000; i++) h.md.ingest(trade(100 + (i % 100) / 100, 1));
        sent += 1000;
        await new Promise((r) => setImmediate(r));
      }
      expect(h.md.stats().stream.slowConsumerClosed).toBe(before + slow.length);
      expect(sent).toBeLessThanOrEqual(bound);
      // neither the relay nor the service held more than its bound for any one connection
      expect(relayStats.stats().maxBufferedBytes).toBeLessThanOrEqual(HIGH_WATER + 64 * 1024);
      expect(h.md.stats().stream.maxBufferedBytes).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
      // once they read again, they find the 4008 behind what was queued
      for (const c of slow) resumeReading(c);
      for (const c of slow) expect(await c.closed).toEqual({ code: 4008, reason: 'slow consumer' });
      h.md.ingest(trade(123.45, 42));
      await h.md.step();
      await fast.until((m) => m.type === 'trade' && m.price === 123.45 && m.size === 42);
      fast.ws.close();
      stop();
    });

    it('cuts off a reader of a conflated (quotes only) stream that stops draining', async () => {
      // quotes are conflated, so the service's buffer never passes its bound: only the relay's
      // stall limit can end this connection
      const stallMs = 200;
      await start(stallMs);
      const slow = await subscribed({ quotes: ['*'] });
      pauseReading(slow);
      const symbols = Array.from({ length: 500 }, (_, i) => `R${i}`);
      const quoteBytes = 500 * 100; // per step, at least
      const pace = 5; // ms between steps: at most stallMs / pace steps once the relay has paused
      const bound =
        Math.ceil((2 * kernelBytesPerHop() + HIGH_WATER + 64 * 1024) / quoteBytes) + stallMs / pace + 10;
      const before = h.md.stats().stream.slowConsumerClosed;
      let steps = 0;
      for (let bid = 10; relayStats.stats().stalledClosed === 0 && steps <= 2 * bound; steps++) {
        bid += 0.01;
        for (const symbol of symbols)
          h.md.ingest({ ...trade(0), symbol, type: 'quote', bid, bidSize: 1, ask: bid + 0.01, askSize: 1 });
        await h.md.step();
        await new Promise((r) => setTimeout(r, pace));
      }
      expect(relayStats.stats().stalledClosed).toBe(1);
      expect(steps).toBeLessThanOrEqual(bound);
      expect(h.md.stats().stream.slowConsumerClosed).toBe(before); // the service never cut it
      expect(relayStats.stats().maxBufferedBytes).toBeLessThanOrEqual(HIGH_WATER + 64 * 1024);
      expect(relayStats.stats().open).toBe(0);
      resumeReading(slow);
      expect((await slow.closed).code).toBe(1006); // the relay cut the connection
      stop();
    });
  });
});
