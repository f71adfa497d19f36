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
 * A client that has not authenticated within `AUTH_TIMEOUT_MS` is closed. One bus subscription
 * per listening socket, on its account's own subject; it ends with the socket.
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

interface Client {
  ws: WebSocket;
  identity: Identity | null;
  authenticating: boolean;
  unsubscribe?: Promise<Unsubscribe | undefined>;
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

  const send = (c: Client, frame: unknown): void => {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      c.ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
      return;
    }
    c.ws.send(Buffer.from(JSON.stringify(frame)), { binary: true });
  };
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

  function listen(c: Client, streams: string[]): void {
    const wanted = streams.includes('trade_updates');
    if (wanted && !c.unsubscribe) {
      const bus = deps.bus;
      if (!bus) {
        error(c, 'trade_updates is not available: this gateway has no event bus');
        return;
      }
      const account = c.identity!.userId;
      c.unsubscribe = bus
        .subscribe<ExecEvent>(`orders.exec.${account}`, (msg) => {
          const data = tradeUpdate(msg.data);
          if (data) send(c, { stream: 'trade_updates', data });
        })
        .catch((err: unknown) => {
          deps.logger.warn({ err }, 'trade stream: subscribing to the account events failed');
          error(c, 'trade_updates is not available right now');
          return undefined;
        });
      // the subscription is live once the bus has it: only then is the client told it listens
      void c.unsubscribe.then((u) => {
        if (u) send(c, { stream: 'listening', data: { streams: ['trade_updates'] } });
      });
      return;
    }
    if (!wanted && c.unsubscribe) {
      void c.unsubscribe.then((u) => u?.());
      delete c.unsubscribe;
    }
    send(c, { stream: 'listening', data: { streams: wanted ? ['trade_updates'] : [] } });
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
    const c: Client = { ws, identity: null, authenticating: false };
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
      void c.unsubscribe?.then((u) => u?.());
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
    },
  };
}
