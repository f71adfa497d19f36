/**
 * Alpaca's trading stream (`/stream`, trade_updates) with many sockets of several accounts on one
 * gateway, on the in-process bus and on NATS JetStream: every socket gets each event of its own
 * account exactly once, in order, and nothing of another's, while the gateway holds one bus
 * subscription however many sockets listen (on NATS: one server consumer, not one per socket),
 * released once the last socket has gone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Bus } from '../../src/platform/bus/types.ts';
import { forEachBus, natsStream } from '../support/bus.ts';
import { makePgliteDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { countConsumers } from '../support/nats.ts';
import { serviceUrl } from '../support/services.ts';
import { eventually, type Stack, startStack, type TestUser } from './stack.ts';

const ACCOUNTS = 6;
const SOCKETS_PER_ACCOUNT = 10;
const SYMBOL = 'FANO';

interface Update {
  event: string;
  order: { id: string };
}

/** A raw client of the trading stream: every frame it got after the handshake, in order. */
interface Listener {
  ws: WebSocket;
  account: string;
  frames: { stream?: string; data?: Record<string, unknown> }[];
}

const updates = (l: Listener): [string, string][] =>
  l.frames
    .filter((f) => f.stream === 'trade_updates')
    .map((f) => {
      const u = f.data as unknown as Update;
      return [u.event, u.order.id];
    });

/** The next frame `l` gets that passes `match` (frames before it stay in l.frames). */
function nextFrame(l: Listener, match: (f: Listener['frames'][number]) => boolean): Promise<unknown> {
  const from = l.frames.length;
  return eventually(async () => l.frames.slice(from).find(match), 10_000);
}

function listen(url: string, account: string, key: Record<string, string>): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/stream`);
    const l: Listener = { ws, account, frames: [] };
    let state: 'auth' | 'listen' | 'listening' = 'auth';
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          action: 'authenticate',
          data: { key_id: key['apca-api-key-id'], secret_key: key['apca-api-secret-key'] },
        }),
      ),
    );
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString('utf8')) as Listener['frames'][number];
      if (state === 'listening') l.frames.push(m);
      else if (state === 'auth' && m.stream === 'authorization' && m.data?.status === 'authorized') {
        state = 'listen';
        ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
      } else if (state === 'listen' && m.stream === 'listening') {
        expect(m.data).toEqual({ streams: ['trade_updates'] });
        state = 'listening';
        resolve(l);
      } else reject(new Error(`trade stream handshake: ${JSON.stringify(m)}`));
    });
    ws.on('close', () => {
      if (state !== 'listening') reject(new Error('trade stream: closed before listening'));
    });
    ws.on('error', () => {});
  });
}

forEachBus('trade stream: one bus subscription fanned out to many sockets', (makeBus) => {
  const makeDb = scoped(makePgliteDb);
  let bus: Bus;
  let stack: Stack;
  let url: string;
  let users: TestUser[];
  const keys = new Map<string, Record<string, string>>();
  const sockets: Listener[] = [];
  /** the NATS server's consumers on the bus's stream; undefined on the in-process bus */
  const consumers = async (): Promise<number | undefined> => {
    const stream = natsStream(bus);
    return stream === undefined ? undefined : countConsumers(serviceUrl('nats'), stream);
  };

  beforeAll(async () => {
    bus = await makeBus();
    stack = await startStack(await makeDb(), { bus });
    url = await stack.gateway.app.listen({ port: 0, host: '127.0.0.1' });
    await stack.list(SYMBOL, 10_000);
    users = [];
    for (let k = 0; k < ACCOUNTS; k++) {
      const user = await stack.user();
      await stack.fund(user.id, 100_000);
      keys.set(user.id, await stack.apiKey(user));
      users.push(user);
    }
  });

  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await stack?.close();
  });

  /** A resting buy (a `new` event, no trade) of `user`; its id. */
  async function rest(user: TestUser): Promise<string> {
    const res = await stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: user.auth,
      payload: {
        symbol: SYMBOL,
        qty: '1',
        side: 'buy',
        type: 'limit',
        time_in_force: 'day',
        limit_price: '90.00',
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { id: string }).id;
  }

  async function cancel(user: TestUser, id: string): Promise<void> {
    const res = await stack.req({ method: 'DELETE', url: `/v2/orders/${id}`, headers: user.auth });
    expect(res.statusCode, res.body).toBe(204);
  }

  /**
   * Each account, all at once: three resting orders and the first one canceled, one after the
   * other; the events each account's sockets must get, in order. The cancel is last: once it has
   * arrived, every earlier event of the account has (the stream keeps the account's order).
   */
  async function trade(): Promise<Map<string, [string, string][]>> {
    const expected = new Map<string, [string, string][]>();
    await Promise.all(
      users.map(async (user) => {
        const ids = [await rest(user), await rest(user), await rest(user)];
        await cancel(user, ids[0]!);
        expected.set(user.id, [
          ['new', ids[0]!],
          ['new', ids[1]!],
          ['new', ids[2]!],
          ['canceled', ids[0]!],
        ]);
      }),
    );
    return expected;
  }

  const received = (l: Listener, expected: Map<string, [string, string][]>) =>
    eventually(async () => {
      const last = expected.get(l.account)!.at(-1)!;
      return updates(l).some(([e, id]) => e === last[0] && id === last[1]) || undefined;
    }, 20_000);

  it('many sockets of several accounts: each gets exactly its own events, once, in order; one bus subscription', async () => {
    const baseline = await consumers();
    // one socket first, then all the others at once
    sockets.push(await listen(url, users[0]!.id, keys.get(users[0]!.id)!));
    const withOne = await consumers();
    const rest = await Promise.all(
      Array.from({ length: ACCOUNTS * SOCKETS_PER_ACCOUNT - 1 }, (_, k) => {
        const user = users[(k + 1) % ACCOUNTS]!;
        return listen(url, user.id, keys.get(user.id)!);
      }),
    );
    sockets.push(...rest);
    if (baseline !== undefined) {
      // the gateway's one subscription: a single consumer on the server for all its sockets
      expect(withOne).toBe(baseline + 1);
      expect(await consumers()).toBe(withOne);
    }

    const expected = await trade();
    await Promise.all(sockets.map((s) => received(s, expected)));
    for (const s of sockets) {
      expect(updates(s), `socket of ${s.account}`).toEqual(expected.get(s.account));
      expect(s.frames.filter((f) => f.stream !== 'trade_updates')).toEqual([]);
    }
  });

  it('sockets that leave or stop listening get nothing more, the others go on; the subscription ends with the last', async () => {
    const baseline = await consumers();
    // of each account: one socket closes, one stops listening (and is told it listens to nothing)
    const closed = new Set<Listener>();
    const quiet = new Set<Listener>();
    for (const user of users) {
      const own = sockets.filter((s) => s.account === user.id);
      closed.add(own[0]!);
      quiet.add(own[1]!);
    }
    for (const s of closed) s.ws.close();
    await Promise.all(
      [...quiet].map((s) => {
        const reply = nextFrame(s, (f) => f.stream === 'listening');
        s.ws.send(JSON.stringify({ action: 'listen', data: { streams: [] } }));
        return reply;
      }),
    );
    for (const s of quiet) expect(s.frames.at(-1)).toEqual({ stream: 'listening', data: { streams: [] } });
    // one of the quiet ones listens again: from its reply on, it gets its events again, once
    const again = [...quiet][0]!;
    const reply = nextFrame(again, (f) => f.stream === 'listening');
    again.ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
    await reply;
    quiet.delete(again);
    if (baseline !== undefined) expect(await consumers()).toBe(baseline);

    const before = new Map(sockets.map((s) => [s, updates(s).length]));
    const expected = await trade();
    const listening = sockets.filter((s) => !closed.has(s) && !quiet.has(s));
    await Promise.all(listening.map((s) => received(s, expected)));
    for (const s of listening)
      expect(updates(s).slice(before.get(s)), `socket of ${s.account}`).toEqual(expected.get(s.account));
    // the quiet ones got nothing (their accounts' other sockets have had everything by now)
    for (const s of quiet) expect(updates(s).length).toBe(before.get(s));

    // the last socket gone, the subscription goes too
    for (const s of sockets) s.ws.close();
    if (baseline !== undefined)
      await eventually(async () => ((await consumers()) === baseline - 1 ? true : undefined), 10_000);
  });
});
