/**
 * `GET /v1/market-data/stream`: live market data over a WebSocket.
 *
 * Auth: `Authorization: Bearer <access token>` (or Alpaca's `APCA-API-KEY-ID` /
 * `APCA-API-SECRET-KEY` headers) on the upgrade (bad ones are refused with 401 before the
 * upgrade), or, for browsers, a first message `{"action":"auth","token":"..."}`
 * within 10 s. Failure closes with 4401 (4408 when no auth message came in time; 4429 past
 * maxSocketsPerUser streams of one user).
 *
 * Client → server: `{"action":"subscribe"|"unsubscribe","trades":[..],"quotes":[..],"books":[..],
 * "bars":[..],"news":[..],"orders":true}` (symbols, or "*" for all) → `{"type":"subscribed",
 * "trades":[..],...,"orders":bool}` with the current sets.
 * Server → client: `ready`, `subscribed`, `trade`, `quote`, `book`, `bar`, `news`, `order`,
 * `error {code, message}`, one JSON object per frame — except trades, which are gathered for one
 * stream interval (25 ms) and sent as one frame: a single object, or an array of them when there
 * were several. Clients must accept both.
 *
 * Slow consumers never slow the others: every message is serialised once for all its receivers,
 * and a socket whose unsent bytes (ws bufferedAmount) exceed `softBufferBytes` gets no new quote
 * or book at once: the latest one per symbol waits and replaces older ones (conflation). Past
 * `maxBufferBytes` the socket is closed with 4008 'slow consumer'.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { orderUuid } from '../../domain/alpaca-ids.ts';
import type { Bus, Unsubscribe } from '../../platform/bus/types.ts';
import type { Logger } from '../../platform/logger.ts';
import { type ExecMessage, subjects as ordersSubjects } from '../orders/events.ts';
import type { UsersClient, VerifiedIdentity } from '../users/client.ts';
import type { Bar, BookView, NewsItemView, Quote, Trade } from './model.ts';
import { sendProblem, unauthorized } from './problems.ts';

export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_AUTH_TIMEOUT = 4408;
export const CLOSE_TOO_MANY = 4429;

export interface StreamConfig {
  softBufferBytes: number;
  maxBufferBytes: number;
  authTimeoutMs: number;
  /** most symbols per channel per socket */
  maxSymbols: number;
  /** most open streams per user */
  maxSocketsPerUser: number;
  bookLevels: number;
}

export const DEFAULT_STREAM_CONFIG: StreamConfig = {
  softBufferBytes: 256 * 1024,
  maxBufferBytes: 4 * 1024 * 1024,
  authTimeoutMs: 10_000,
  maxSymbols: 1000,
  maxSocketsPerUser: 20,
  bookLevels: 10,
};

const CHANNELS = ['trades', 'quotes', 'books', 'bars', 'news'] as const;
type Channel = (typeof CHANNELS)[number];
const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;

interface Client {
  socket: WebSocket;
  identity: VerifiedIdentity;
  subs: Record<Channel, Set<string>>;
  orders: boolean;
  /** conflated messages waiting for the socket to drain, by 'q:SYM' / 'b:SYM' */
  pending: Map<string, string>;
  /** trades since the last flush, sent together as one frame (a JSON array when more than one) */
  trades: string[];
  closed: boolean;
}

export interface StreamHub {
  trade(t: Trade): void;
  quote(q: Quote): void;
  /** whether any socket wants this symbol's book (books are costly to build) */
  wantsBook(symbol: string): boolean;
  book(b: BookView): void;
  bar(b: Bar): void;
  news(n: NewsItemView): void;
  /** sends conflated messages held back from sockets that have drained since */
  flush(): void;
  /** maxBufferedBytes: the most bytes ever left unsent on one socket (ws bufferedAmount) */
  stats(): { sockets: number; slowConsumerClosed: number; maxBufferedBytes: number };
  closeAll(code: number, reason: string): Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_TRADES_PER_FRAME = 500;

export function createStreamHub(deps: { bus: Bus; logger: Logger; config: StreamConfig }): StreamHub & {
  attach(socket: WebSocket, identity: VerifiedIdentity): void;
} {
  const { bus, logger, config } = deps;
  const clients = new Set<Client>();
  const index: Record<Channel, Map<string, Set<Client>>> = {
    trades: new Map(),
    quotes: new Map(),
    books: new Map(),
    bars: new Map(),
    news: new Map(),
  };
  /** per account: the bus subscription and its sockets */
  const orderSubs = new Map<string, { clients: Set<Client>; unsubscribe: Promise<Unsubscribe> }>();
  let slowClosed = 0;
  let maxBuffered = 0;

  function receivers(channel: Channel, symbol: string, fn: (c: Client) => void): void {
    const exact = index[channel].get(symbol);
    if (exact) for (const c of exact) fn(c);
    const all = index[channel].get('*');
    if (all) for (const c of all) if (!exact?.has(c)) fn(c);
  }

  function drop(c: Client, code: number, reason: string): void {
    if (c.closed) return;
    c.closed = true;
    c.pending.clear();
    c.trades.length = 0;
    try {
      c.socket.close(code, reason);
    } catch {
      c.socket.terminate();
    }
  }

  /**
   * Trades wait for the next flush (every stream interval, 25 ms by default) and leave as one
   * frame: a frame per trade per socket costs more than the trade itself at a thousand sockets.
   * Anything else sent to the socket first sends the trades before it, so the order holds.
   */
  function queueTrade(c: Client, json: string): void {
    if (c.closed) return;
    c.trades.push(json);
    if (c.trades.length >= MAX_TRADES_PER_FRAME) sendTrades(c);
  }

  function sendTrades(c: Client): void {
    if (c.trades.length === 0) return;
    const frame = c.trades.length === 1 ? c.trades[0]! : `[${c.trades.join(',')}]`;
    c.trades.length = 0;
    sendNow(c, frame);
  }

  function send(c: Client, json: string): void {
    sendTrades(c);
    sendNow(c, json);
  }

  function sendNow(c: Client, json: string): void {
    if (c.closed) return;
    if (c.socket.bufferedAmount > config.maxBufferBytes) {
      slowClosed++;
      logger.info({ user: c.identity.userId }, 'market-data stream: slow consumer disconnected');
      drop(c, CLOSE_SLOW_CONSUMER, 'slow consumer');
      return;
    }
    c.socket.send(json);
    // bounded by maxBufferBytes plus one frame: the check above runs before every send
    if (c.socket.bufferedAmount > maxBuffered) maxBuffered = c.socket.bufferedAmount;
  }

  function sendConflated(c: Client, key: string, json: string): void {
    if (c.closed) return;
    if (c.pending.size > 0 || c.socket.bufferedAmount > config.softBufferBytes) {
      c.pending.delete(key); // re-inserted last: pending keeps arrival order of the latest values
      c.pending.set(key, json);
      return;
    }
    send(c, json);
  }

  const json = (m: unknown): string => JSON.stringify(m);
  const error = (c: Client, code: string, message: string) => send(c, json({ type: 'error', code, message }));

  function subscribeOrders(c: Client): void {
    const account = c.identity.userId;
    let entry = orderSubs.get(account);
    if (!entry) {
      const clientsOf = new Set<Client>();
      entry = {
        clients: clientsOf,
        unsubscribe: bus.subscribe<ExecMessage>(ordersSubjects.exec(account), (msg) => {
          const text = orderMessage(msg.data);
          if (text) for (const x of clientsOf) send(x, text);
        }),
      };
      entry.unsubscribe.catch((err: unknown) => logger.warn({ err }, 'market-data stream: orders subscribe'));
      orderSubs.set(account, entry);
    }
    entry.clients.add(c);
  }

  function unsubscribeOrders(c: Client): void {
    const account = c.identity.userId;
    const entry = orderSubs.get(account);
    if (!entry) return;
    entry.clients.delete(c);
    if (entry.clients.size === 0) {
      orderSubs.delete(account);
      entry.unsubscribe.then((u) => u()).catch(() => {});
    }
  }

  function onMessage(c: Client, data: unknown): void {
    let m: Record<string, unknown>;
    try {
      const parsed = JSON.parse(String(data)) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      m = parsed as Record<string, unknown>;
    } catch {
      error(c, 'invalid-message', 'messages are JSON objects');
      return;
    }
    const action = m.action;
    if (action !== 'subscribe' && action !== 'unsubscribe') {
      error(c, 'invalid-action', 'action must be subscribe or unsubscribe');
      return;
    }
    for (const key of Object.keys(m)) {
      if (key !== 'action' && key !== 'orders' && !(CHANNELS as readonly string[]).includes(key)) {
        error(c, 'invalid-field', `unknown field ${key}`);
        return;
      }
    }
    if (m.orders !== undefined && typeof m.orders !== 'boolean') {
      error(c, 'invalid-field', 'orders must be true or false');
      return;
    }
    for (const ch of CHANNELS) {
      const list = m[ch];
      if (list === undefined) continue;
      if (
        !Array.isArray(list) ||
        !list.every((s) => typeof s === 'string' && (s === '*' || SYMBOL.test(s)))
      ) {
        error(c, 'invalid-field', `${ch} must be a list of symbols or "*"`);
        return;
      }
    }
    const adding = action === 'subscribe';
    for (const ch of CHANNELS) {
      const list = m[ch] as string[] | undefined;
      if (!list) continue;
      if (adding && c.subs[ch].size + list.length > config.maxSymbols) {
        error(c, 'too-many-symbols', `at most ${config.maxSymbols} ${ch} per connection`);
        return;
      }
    }
    for (const ch of CHANNELS) {
      const list = m[ch] as string[] | undefined;
      if (!list) continue;
      for (const symbol of list) {
        if (adding) {
          c.subs[ch].add(symbol);
          let set = index[ch].get(symbol);
          if (!set) index[ch].set(symbol, (set = new Set()));
          set.add(c);
        } else {
          c.subs[ch].delete(symbol);
          const set = index[ch].get(symbol);
          set?.delete(c);
          if (set?.size === 0) index[ch].delete(symbol);
        }
      }
    }
    if (m.orders === true && adding && !c.orders) {
      c.orders = true;
      subscribeOrders(c);
    } else if (m.orders !== undefined && c.orders && (!adding || m.orders === false)) {
      c.orders = false;
      unsubscribeOrders(c);
    }
    send(
      c,
      json({
        type: 'subscribed',
        trades: [...c.subs.trades],
        quotes: [...c.subs.quotes],
        books: [...c.subs.books],
        bars: [...c.subs.bars],
        news: [...c.subs.news],
        orders: c.orders,
      }),
    );
  }

  function detach(c: Client): void {
    c.closed = true;
    clients.delete(c);
    for (const ch of CHANNELS) {
      for (const symbol of c.subs[ch]) {
        const set = index[ch].get(symbol);
        set?.delete(c);
        if (set?.size === 0) index[ch].delete(symbol);
      }
    }
    if (c.orders) unsubscribeOrders(c);
  }

  return {
    attach(socket, identity) {
      let mine = 0;
      for (const other of clients) if (other.identity.userId === identity.userId) mine++;
      if (mine >= config.maxSocketsPerUser) {
        socket.close(CLOSE_TOO_MANY, 'too many streams');
        return;
      }
      const c: Client = {
        socket,
        identity,
        subs: { trades: new Set(), quotes: new Set(), books: new Set(), bars: new Set(), news: new Set() },
        orders: false,
        pending: new Map(),
        trades: [],
        closed: false,
      };
      clients.add(c);
      socket.on('message', (data) => onMessage(c, data));
      socket.on('close', () => detach(c));
      socket.on('error', () => detach(c));
      send(c, json({ type: 'ready' }));
    },
    trade(t) {
      if (index.trades.size === 0) return;
      let text: string | undefined;
      receivers('trades', t.symbol, (c) => {
        text ??= json({ type: 'trade', symbol: t.symbol, price: t.price, size: t.size, ts: iso(t.ts) });
        queueTrade(c, text);
      });
    },
    quote(q) {
      let text: string | undefined;
      receivers('quotes', q.symbol, (c) => {
        text ??= json({
          type: 'quote',
          symbol: q.symbol,
          bid: q.bid,
          bidSize: q.bidSize,
          ask: q.ask,
          askSize: q.askSize,
          ts: iso(q.ts),
        });
        sendConflated(c, `q:${q.symbol}`, text);
      });
    },
    wantsBook: (symbol) => index.books.has(symbol) || index.books.has('*'),
    book(b) {
      let text: string | undefined;
      receivers('books', b.symbol, (c) => {
        text ??= json({
          type: 'book',
          symbol: b.symbol,
          bids: b.bids.slice(0, config.bookLevels).map((l) => [l.price, l.qty]),
          asks: b.asks.slice(0, config.bookLevels).map((l) => [l.price, l.qty]),
          ts: iso(b.ts),
        });
        sendConflated(c, `b:${b.symbol}`, text);
      });
    },
    bar(b) {
      let text: string | undefined;
      receivers('bars', b.symbol, (c) => {
        text ??= json({
          type: 'bar',
          symbol: b.symbol,
          timeframe: b.timeframe,
          t: iso(b.t),
          o: b.o,
          h: b.h,
          l: b.l,
          c: b.c,
          v: b.v,
        });
        send(c, text);
      });
    },
    news(n) {
      const text = json({
        type: 'news',
        id: n.id,
        headline: n.title,
        summary: n.summary,
        url: n.url,
        symbols: n.symbols,
        created_at: iso(n.publishedAt),
        source: n.feedId,
      });
      const sent = new Set<Client>();
      for (const symbol of n.symbols.length > 0 ? n.symbols : ['']) {
        receivers('news', symbol, (c) => {
          if (sent.has(c)) return;
          sent.add(c);
          send(c, text);
        });
      }
    },
    flush() {
      for (const c of clients) sendTrades(c);
      for (const c of clients) {
        if (c.pending.size === 0 || c.closed || c.socket.bufferedAmount > config.softBufferBytes) continue;
        const pending = [...c.pending.values()];
        c.pending.clear();
        for (const text of pending) send(c, text);
      }
    },
    stats: () => ({ sockets: clients.size, slowConsumerClosed: slowClosed, maxBufferedBytes: maxBuffered }),
    async closeAll(code, reason) {
      for (const c of clients) drop(c, code, reason);
      const subs = [...orderSubs.values()];
      orderSubs.clear();
      await Promise.all(subs.map((s) => s.unsubscribe.then((u) => u()).catch(() => {})));
    },
  };
}

function orderMessage(m: ExecMessage): string | null {
  const o = m?.order;
  if (!o) return null;
  const avg = o.filledQty > 0 ? o.filledNotional / o.filledQty / 100 : null;
  return JSON.stringify({
    type: 'order',
    kind: m.kind,
    order_id: orderUuid(o.id),
    client_order_id: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    order_type: o.orderType,
    time_in_force: o.tif,
    status: o.status,
    qty: o.qty,
    filled_qty: o.filledQty,
    filled_avg_price: avg,
    limit_price: o.price > 0 ? o.price / 100 : null,
    stop_price: o.stopPrice > 0 ? o.stopPrice / 100 : null,
    ...(m.fill ? { fill: { price: m.fill.price / 100, qty: m.fill.qty, liquidity: m.fill.liquidity } } : {}),
    ...(m.reason ? { reason: m.reason } : {}),
    ts: iso(m.ts),
  });
}

function parseAuth(data: unknown): string | null {
  try {
    const m = JSON.parse(String(data)) as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) return null;
    return m.action === 'auth' && typeof m.token === 'string' && m.token.length <= 4096 ? m.token : null;
  } catch {
    return null;
  }
}

/**
 * When an access token (a JWT the users service has just verified) expires, in epoch ms; null for
 * an API key or an unreadable token. Read without verifying again: the signature was checked.
 */
export function accessTokenExpiry(token: string | null): number | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Attaches an authenticated socket, closed (4401 'token expired') when its access token expires:
 * the client reconnects with a fresh token, so a revoked session stops receiving within one token
 * lifetime, as on the users service's notification stream.
 */
function attachUntilExpiry(
  hub: ReturnType<typeof createStreamHub>,
  socket: WebSocket,
  who: VerifiedIdentity,
  token: string | null,
): void {
  hub.attach(socket, who);
  const expiresAt = accessTokenExpiry(token);
  if (expiresAt === null) return;
  const timer = setTimeout(
    () => {
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_UNAUTHORIZED, 'token expired');
    },
    Math.max(0, expiresAt - Date.now()),
  );
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

const bearer = (req: FastifyRequest): string | null =>
  /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;

declare module 'fastify' {
  interface FastifyRequest {
    mdStreamIdentity?: VerifiedIdentity;
  }
}

export function streamRoute(
  app: FastifyInstance,
  deps: { users: UsersClient; hub: ReturnType<typeof createStreamHub>; config: StreamConfig },
): void {
  const { users, hub, config } = deps;
  app.route({
    method: 'GET',
    url: '/v1/market-data/stream',
    // a bearer token on the upgrade is checked before upgrading: a bad one gets a plain 401
    onRequest: async (req, reply) => {
      const token = bearer(req);
      const keyId = req.headers['apca-api-key-id'];
      const secret = req.headers['apca-api-secret-key'];
      const hasKey = typeof keyId === 'string' && typeof secret === 'string';
      if (!token && !hasKey) return;
      const who = await (token
        ? users.verifyAccessToken(token)
        : users.verifyApiKey(keyId as string, secret as string)
      ).catch(() => null);
      if (!who) return sendProblem(reply, unauthorized().problem);
      req.mdStreamIdentity = who;
    },
    handler: async (_req, reply) =>
      reply.code(426).type('application/problem+json').send({
        type: 'https://bourse.dev/problems/upgrade-required',
        title: 'Upgrade required',
        status: 426,
        detail: 'Connect with a WebSocket',
      }),
    wsHandler: (socket, req) => {
      if (req.mdStreamIdentity) {
        attachUntilExpiry(hub, socket, req.mdStreamIdentity, bearer(req));
        return;
      }
      let done = false;
      const timer = setTimeout(() => {
        if (!done) socket.close(CLOSE_AUTH_TIMEOUT, 'authentication timeout');
      }, config.authTimeoutMs);
      timer.unref();
      socket.once('message', (data) => {
        done = true;
        clearTimeout(timer);
        const token = parseAuth(data);
        (token ? users.verifyAccessToken(token) : Promise.resolve(null))
          .catch(() => null)
          .then((who) => {
            if (socket.readyState !== socket.OPEN) return;
            if (!who) socket.close(CLOSE_UNAUTHORIZED, 'unauthorized');
            else attachUntilExpiry(hub, socket, who, token);
          });
      });
    },
  });
}
