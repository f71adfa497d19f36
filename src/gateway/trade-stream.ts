/**
 * Alpaca's trading stream (`wss://paper-api.alpaca.markets/stream`) at `/stream`: the account's
 * order updates (`trade_updates`), so Alpaca clients (the official SDK's `trading.stream()` and
 * `submitAndWait`) work unchanged. Built here at the gateway from the orders service's execution
 * events (`orders.exec.<account>` on the bus), for the authenticated account only: the caller's
 * own, never another's (no acting-for on a stream).
 *
 * Protocol, as Alpaca speaks it (JSON; the server's frames are binary, as paper-api sends them,
 * and the client's may be text or binary):
 *
 *   → {"action":"authenticate","data":{"key_id":"…","secret_key":"…"}}   (an API key; or Alpaca's
 *     older {"action":"auth","key":"…","secret":"…"})
 *   ← {"stream":"authorization","data":{"action":"authenticate","status":"authorized"}}
 *     or status "unauthorized", and the socket closes
 *   → {"action":"listen","data":{"streams":["trade_updates"]}}
 *   ← {"stream":"listening","data":{"streams":["trade_updates"]}}   (unknown streams are left out)
 *   ← {"stream":"trade_updates","data":{"event":"new"|"fill"|"partial_fill"|"canceled"|
 *      "expired"|"replaced"|"rejected"|…,"timestamp","order":{…},"execution_id","price","qty"}}
 *   ← {"action":"error","data":{"error_message":"…"}} for a message it cannot read
 *
 * A client that has not authenticated within `AUTH_TIMEOUT_MS` is closed.
 *
 * One bus subscription per gateway process, however many sockets listen (issue 13): on NATS a
 * live subscription is a JetStream consumer on the server, so one per socket made every socket
 * cost a consumer (its creation round trip, flow control, server memory). The feed, on every
 * account's events (`orders.exec.*`), is opened when the first socket listens and closed when the
 * last one stops: a gateway nobody listens to does not read every execution of the exchange. Each
 * event is mapped and serialised once, and the same frame goes to the account's sockets, each in
 * the feed's order. A socket that lets more than `MAX_BUFFERED_BYTES` wait unsent is cut off
 * (4008); sending never waits for a socket, so a slow one holds up no other.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Bus, Unsubscribe } from '../platform/bus/types.ts';
import type { Logger } from '../platform/logger.ts';
import { type ExecEvent, tradeUpdate } from './alpaca/mapping.ts';
import type { Credentials, Identity } from './auth/credentials.ts';

export const TRADE_STREAM_PATH = '/stream';

const AUTH_TIMEOUT_MS = 10_000;
const MAX_MESSAGE_BYTES = 16 * 1024;
/** a reader that lets this much wait unsent is cut off, as on the market-data streams */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const CLOSE_SLOW_CONSUMER = 4008;

export interface TradeStream {
  /** takes the upgrade if it is for `/stream` (true), else leaves it (false) */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  open(): number;
  closeAll(): void;
}

/** every account's execution events: the feed's one subscription */
const EXEC_SUBJECTS = 'orders.exec.*';
const EXEC_PREFIX = 'orders.exec.';

interface Client {
  ws: WebSocket;
  identity: Identity | null;
  authenticating: boolean;
  /** it asked for trade_updates (last listen), so it keeps the feed open */
  wants: boolean;
  /** the replies to its listen requests, one after the other, in the order they were asked */
  replies: Promise<void>;
}

/** The gateway's one bus subscription to the execution events, while any socket wants them. */
interface Feed {
  /** true once subscribed (or closed before it was), false if subscribing failed */
  ready: Promise<boolean>;
  unsubscribe?: Unsubscribe;
  closed: boolean;
}

export function createTradeStream(deps: {
  credentials: Credentials;
  bus?: Bus | undefined;
  logger: Logger;
}): TradeStream {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const clients = new Set<Client>();
  /** the sockets the feed delivers to, by account: those whose `listening` reply has gone */
  const listeners = new Map<string, Set<Client>>();
  /** the sockets that asked for trade_updates: the feed is open while there is one */
  const wanting = new Set<Client>();
  let feed: Feed | null = null;

  const sendFrame = (c: Client, frame: Buffer): void => {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      c.ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
      return;
    }
    c.ws.send(frame, { binary: true });
  };
  const send = (c: Client, frame: unknown): void => sendFrame(c, Buffer.from(JSON.stringify(frame)));
  const error = (c: Client, message: string) =>
    send(c, { action: 'error', data: { error_message: message } });
  const authorization = (c: Client, authorized: boolean, action: string) =>
    send(c, {
      stream: 'authorization',
      data: { action, status: authorized ? 'authorized' : 'unauthorized' },
    });

  async function authenticate(c: Client, headers: Record<string, string>, action: string): Promise<void> {
    if (c.identity) {
      error(c, 'already authenticated');
      return;
    }
    if (c.authenticating) return;
    c.authenticating = true;
    const identity = await deps.credentials.authenticate(headers, 'trade-stream').catch(() => null);
    c.authenticating = false;
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (!identity) {
      authorization(c, false, action);
      c.ws.close(1008, 'unauthorized');
      return;
    }
    c.identity = identity;
    authorization(c, true, action);
  }

  /** One event to the sockets of its account: mapped and serialised once, the same frame to each. */
  function fanOut(subject: string, event: ExecEvent): void {
    const to = listeners.get(subject.slice(EXEC_PREFIX.length));
    if (!to) return;
    const data = tradeUpdate(event);
    if (!data) return;
    const frame = Buffer.from(JSON.stringify({ stream: 'trade_updates', data }));
    for (const c of to) sendFrame(c, frame);
  }

  function openFeed(bus: Bus): Feed {
    const f: Feed = { ready: Promise.resolve(false), closed: false };
    f.ready = bus
      // a closed feed's late deliveries go nowhere: its successor delivers from its own start
      .subscribe<ExecEvent>(EXEC_SUBJECTS, (msg) => {
        if (feed === f) fanOut(msg.subject, msg.data);
      })
      .then(
        (unsubscribe) => {
          if (f.closed) void unsubscribe().catch(() => {});
          else f.unsubscribe = unsubscribe;
          return true;
        },
        (err: unknown) => {
          if (f.closed) return true; // nobody waits for it any more
          deps.logger.warn({ err }, 'trade stream: subscribing to the execution events failed');
          if (feed === f) feed = null; // the next listen tries again
          return false;
        },
      );
    return f;
  }

  function closeFeed(): void {
    const f = feed;
    if (!f) return;
    feed = null;
    f.closed = true;
    void f.ready.then(() => f.unsubscribe?.()).catch(() => {});
  }

  function stopListening(c: Client): void {
    c.wants = false;
    wanting.delete(c);
    const account = c.identity?.userId;
    const own = account === undefined ? undefined : listeners.get(account);
    if (own?.delete(c) && own.size === 0) listeners.delete(account!);
    if (wanting.size === 0) closeFeed();
  }

  function listen(c: Client, streams: string[]): void {
    const wanted = streams.includes('trade_updates');
    let live: Promise<boolean> = Promise.resolve(true);
    if (wanted) {
      const bus = deps.bus;
      if (!bus) {
        error(c, 'trade_updates is not available: this gateway has no event bus');
        return;
      }
      c.wants = true;
      wanting.add(c);
      feed ??= openFeed(bus);
      live = feed.ready;
    } else stopListening(c);
    // answered once the feed is live, and only then delivered to: every event after the reply
    // reaches the socket, none before it
    c.replies = c.replies
      .then(() => live)
      .then((ok) => {
        if (!ok) {
          stopListening(c);
          error(c, 'trade_updates is not available right now');
          return;
        }
        if (wanted && c.wants && c.ws.readyState === WebSocket.OPEN) {
          const account = c.identity!.userId;
          let own = listeners.get(account);
          if (!own) listeners.set(account, (own = new Set()));
          own.add(c);
        }
        send(c, { stream: 'listening', data: { streams: wanted ? ['trade_updates'] : [] } });
      });
  }

  function onMessage(c: Client, raw: Buffer): void {
    let m: { action?: unknown; data?: unknown; key?: unknown; secret?: unknown };
    try {
      m = JSON.parse(raw.toString('utf8')) as typeof m;
      if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
    } catch {
      error(c, 'invalid syntax: send a JSON object');
      return;
    }
    const data = (m.data !== null && typeof m.data === 'object' ? m.data : {}) as Record<string, unknown>;
    if (m.action === 'authenticate' || m.action === 'auth') {
      const keyId = m.action === 'auth' ? m.key : data.key_id;
      const secret = m.action === 'auth' ? m.secret : data.secret_key;
      if (typeof keyId !== 'string' || typeof secret !== 'string') {
        error(c, 'invalid syntax: authenticate needs data.key_id and data.secret_key');
        return;
      }
      void authenticate(c, { 'apca-api-key-id': keyId, 'apca-api-secret-key': secret }, 'authenticate');
      return;
    }
    if (!c.identity) {
      error(c, 'not authenticated');
      return;
    }
    if (m.action === 'listen') {
      const streams = data.streams;
      if (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string')) {
        error(c, 'invalid syntax: listen needs data.streams, a list of stream names');
        return;
      }
      listen(c, streams as string[]);
      return;
    }
    error(c, `invalid syntax: unknown action ${JSON.stringify(String(m.action)).slice(0, 40)}`);
  }

  function attach(ws: WebSocket): void {
    const c: Client = { ws, identity: null, authenticating: false, wants: false, replies: Promise.resolve() };
    clients.add(c);
    const timer = setTimeout(() => {
      if (!c.identity && ws.readyState === WebSocket.OPEN) ws.close(1008, 'auth timeout');
    }, AUTH_TIMEOUT_MS);
    timer.unref();
    ws.on('message', (raw: Buffer) => onMessage(c, raw));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearTimeout(timer);
      clients.delete(c);
      stopListening(c);
    });
  }

  return {
    upgrade(req, socket, head) {
      if ((req.url ?? '').split('?')[0] !== TRADE_STREAM_PATH) return false;
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
      return true;
    },
    open: () => clients.size,
    closeAll() {
      for (const c of clients) c.ws.terminate();
      clients.clear();
      listeners.clear();
      wanting.clear();
      closeFeed();
    },
  };
}
