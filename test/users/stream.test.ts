/** Live notifications over a real WebSocket (app.listen on port 0). */
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ExecMessage } from '../../src/services/orders/events.ts';
import { forEachDb } from '../support/db.ts';
import { expectProblem, type Harness, makeHarness, SETUP_MS, type TestUser } from './harness.ts';

interface Client {
  ws: WebSocket;
  messages: unknown[];
  next(): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else messages.push(m);
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
    );
    ws.on('open', () =>
      resolve({
        ws,
        messages,
        closed,
        next: () => {
          const m = messages.shift();
          return m ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
        },
      }),
    );
    ws.on('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error('refused'), { status: res.statusCode })),
    );
    ws.on('error', reject);
  });
}

let seq = 5000;
const fill = (account: string, symbol: string): ExecMessage => {
  const s = ++seq;
  return {
    seq: s,
    ts: 1,
    account,
    kind: 'fill',
    order: {
      id: s,
      account,
      symbol,
      side: 'sell',
      orderType: 'market',
      tif: 'day',
      qty: 3,
      filledQty: 3,
      price: 0,
      stopPrice: 0,
      postOnly: false,
      status: 'filled',
      triggered: false,
      filledNotional: 300,
      fees: 0,
      createdAt: 1,
      updatedAt: 1,
      clientOrderId: null,
      rejectReason: null,
      cancelReason: null,
    },
    fill: { tradeId: s, price: 100, qty: 3, fee: 0, liquidity: 'maker' },
  };
};

forEachDb('users: WebSocket notifications', (makeDb) => {
  let h: Harness;
  let url: string;
  let a: TestUser;
  let b: TestUser;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    h = await makeHarness(await makeDb());
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/notifications/stream`;
    a = await h.user();
    b = await h.user();
  }, SETUP_MS);
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await h?.close();
  });

  const connect = async (headers: Record<string, string> = {}) => {
    const c = await open(url, headers);
    sockets.push(c.ws);
    return c;
  };
  const publish = (m: ExecMessage) => h.bus.publish(`orders.exec.${m.account}`, m);

  it('pushes a new notification to its owner only (Authorization header)', async () => {
    const ca = await connect(a.auth);
    const cb = await connect(b.auth);
    expect(await ca.next()).toEqual({ type: 'ready' });
    expect(await cb.next()).toEqual({ type: 'ready' });
    await publish(fill(a.id, 'MSFT'));
    await publish(fill(b.id, 'NVDA'));
    const got = await ca.next();
    expect(got).toMatchObject({
      type: 'notification',
      notification: { kind: 'order_fill', title: 'Sold 3 MSFT at 1.00' },
    });
    // b's first notification is b's own: a's never reached b's socket
    expect(await cb.next()).toMatchObject({
      type: 'notification',
      notification: { title: 'Sold 3 NVDA at 1.00' },
    });
    // and what was pushed is what the inbox holds
    const inbox = (await h.req({ method: 'GET', url: '/notifications?limit=1', headers: a.auth })).json();
    expect(inbox.notifications[0].id).toBe((got.notification as { id: string }).id);
  });

  it('authenticates by first message, for browsers', async () => {
    const c = await connect();
    c.ws.send(JSON.stringify({ type: 'auth', access_token: a.access }));
    expect(await c.next()).toEqual({ type: 'ready' });
    await publish(fill(a.id, 'AMZN'));
    expect(await c.next()).toMatchObject({ notification: { title: 'Sold 3 AMZN at 1.00' } });
  });

  it('refuses a bad token before the upgrade, and a bad first message with 4401', async () => {
    await expect(open(url, { authorization: 'Bearer not.a.token' })).rejects.toMatchObject({ status: 401 });
    const c = await connect();
    c.ws.send(JSON.stringify({ type: 'auth', access_token: 'nope' }));
    expect((await c.closed).code).toBe(4401);
    const d = await connect();
    d.ws.send('not json');
    expect((await d.closed).code).toBe(4401);
  });

  it('a revoked session cannot open a stream', async () => {
    const u = await h.user();
    await h.req({ method: 'POST', url: '/auth/logout', headers: u.auth });
    await expect(open(url, u.auth)).rejects.toMatchObject({ status: 401 });
    const c = await connect();
    c.ws.send(JSON.stringify({ type: 'auth', access_token: u.access }));
    expect((await c.closed).code).toBe(4401);
  });

  it('closes the stream when its access token expires', async () => {
    const u = await h.user();
    const exp = decodeJwt(u.access).exp!;
    h.clock.set(exp * 1000 - 500); // half a second of the token's life left
    const c = await connect(u.auth);
    expect(await c.next()).toEqual({ type: 'ready' });
    expect(await c.closed).toEqual({ code: 4401, reason: 'token expired' });
  });

  it('a plain GET is told to upgrade', async () => {
    const u = await h.user();
    expectProblem(await h.req({ method: 'GET', url: '/notifications/stream', headers: u.auth }), 426);
  });
});
