/**
 * Alpaca's real-time market-data protocol (`/v2/iex`, `/v2/sip`, `/v2/test`), so Alpaca stream
 * clients connect unchanged. The same live data as /v1/market-data/stream (stream.ts), in Alpaca's
 * words:
 *
 * - on connect `[{"T":"success","msg":"connected"}]`; then `{"action":"auth","key","secret"}` (an
 *   API key) → `[{"T":"success","msg":"authenticated"}]`, or `[{"T":"error","code":402,...}]` and
 *   the socket closes. Nothing else is read before authentication (401).
 * - `{"action":"subscribe"|"unsubscribe","trades":[..],"quotes":[..],"bars":[..],"news":[..]}`
 *   (symbols or "*") → `[{"T":"subscription",...}]` with the current sets. Channels Bourse has no
 *   data for (updatedBars, dailyBars, statuses, lulds...) are answered as empty sets.
 * - records: trades `T:"t"`, quotes `T:"q"`, minute bars `T:"b"`, news `T:"n"`, each message an
 *   array of them. MessagePack instead of JSON when the upgrade says `Content-Type:
 *   application/msgpack` (Alpaca's SDKs do); timestamps are then MessagePack timestamps.
 *
 * The same protocol serves the news stream at `/v1beta1/news` (an upgrade there; a plain GET is the
 * REST news). A socket whose unsent bytes pass `maxBufferBytes` is closed (4008), as on the other
 * stream.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { UsersClient } from '../users/client.ts';
import { ALPACA_STREAM_PATHS, ALPACA_UNSUPPORTED_STREAMS } from './client.ts';
import type { Bar, BookView, NewsItemView, Quote, Trade } from './model.ts';
import { CLOSE_SLOW_CONSUMER, type StreamConfig, type StreamHub } from './stream.ts';

const CHANNELS = ['trades', 'quotes', 'bars', 'news'] as const;
type Channel = (typeof CHANNELS)[number];
/** Alpaca channels with no data here: accepted, always empty */
const EMPTY_CHANNELS = [
  'updatedBars',
  'dailyBars',
  'statuses',
  'lulds',
  'corrections',
  'cancelErrors',
  'imbalances',
];
const SYMBOL = /^(\*|[A-Z][A-Z0-9._-]{0,15})$/;

interface Client {
  socket: WebSocket;
  msgpack: boolean;
  authenticated: boolean;
  subs: Record<Channel, Set<string>>;
}

type Frame = Record<string, unknown>;

export function createAlpacaStreamHub(config: StreamConfig): StreamHub & {
  attach(socket: WebSocket, msgpack: boolean, users: UsersClient): void;
} {
  const clients = new Set<Client>();
  let slowClosed = 0;
  let maxBuffered = 0;

  function send(c: Client, json: () => string, packed: () => Uint8Array): void {
    if (c.socket.readyState !== c.socket.OPEN) return;
    const buffered = c.socket.bufferedAmount;
    if (buffered > maxBuffered) maxBuffered = buffered;
    if (buffered > config.maxBufferBytes) {
      slowClosed++;
      clients.delete(c);
      c.socket.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
      return;
    }
    c.socket.send(c.msgpack ? packed() : json());
  }
  /** one message for every receiver: each encoding made once, when first needed */
  function broadcast(channel: Channel, symbols: readonly string[], frame: (binary: boolean) => Frame): void {
    let text: string | undefined;
    let bin: Uint8Array | undefined;
    for (const c of clients) {
      if (!c.authenticated) continue;
      const subs = c.subs[channel];
      if (!subs.has('*') && !symbols.some((s) => subs.has(s))) continue;
      send(
        c,
        () => (text ??= JSON.stringify([frame(false)])),
        () => (bin ??= encode([frame(true)])),
      );
    }
  }
  const reply = (c: Client, frames: Frame[]) =>
    send(
      c,
      () => JSON.stringify(frames),
      () => encode(frames),
    );
  const error = (c: Client, code: number, msg: string) => reply(c, [{ T: 'error', code, msg }]);
  const time = (ms: number, binary: boolean) => (binary ? new Date(ms) : new Date(ms).toISOString());

  function subscription(c: Client): Frame {
    const out: Frame = { T: 'subscription' };
    for (const ch of CHANNELS) out[ch] = [...c.subs[ch]];
    for (const ch of EMPTY_CHANNELS) out[ch] = [];
    return out;
  }

  function onMessage(c: Client, data: unknown, users: UsersClient): void {
    let m: Record<string, unknown>;
    try {
      const raw = data as Buffer;
      const parsed = c.msgpack ? decode(raw) : JSON.parse(raw.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      m = parsed as Record<string, unknown>;
    } catch {
      error(c, 400, 'invalid syntax');
      return;
    }
    if (m.action === 'auth') {
      if (c.authenticated) {
        error(c, 403, 'already authenticated');
        return;
      }
      if (typeof m.key !== 'string' || typeof m.secret !== 'string') {
        error(c, 400, 'invalid syntax');
        return;
      }
      void users
        .verifyApiKey(m.key, m.secret)
        .catch(() => null)
        .then((who) => {
          if (c.socket.readyState !== c.socket.OPEN) return;
          if (!who) {
            error(c, 402, 'auth failed');
            c.socket.close(1008, 'auth failed');
            return;
          }
          c.authenticated = true;
          reply(c, [{ T: 'success', msg: 'authenticated' }]);
        });
      return;
    }
    if (!c.authenticated) {
      error(c, 401, 'not authenticated');
      return;
    }
    if (m.action !== 'subscribe' && m.action !== 'unsubscribe') {
      error(c, 400, 'invalid syntax');
      return;
    }
    const lists: [Channel, string[]][] = [];
    for (const ch of [...CHANNELS, ...EMPTY_CHANNELS]) {
      const v = m[ch];
      if (v === undefined) continue;
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && SYMBOL.test(s))) {
        error(c, 400, 'invalid syntax');
        return;
      }
      if ((CHANNELS as readonly string[]).includes(ch)) lists.push([ch as Channel, v as string[]]);
    }
    for (const [ch, symbols] of lists) {
      const set = c.subs[ch];
      for (const s of symbols) {
        if (m.action === 'unsubscribe') set.delete(s);
        else if (set.size < config.maxSymbols) set.add(s);
        else {
          error(c, 405, 'symbol limit exceeded');
          return;
        }
      }
    }
    reply(c, [subscription(c)]);
  }

  return {
    attach(socket, msgpack, users) {
      const c: Client = {
        socket,
        msgpack,
        authenticated: false,
        subs: { trades: new Set(), quotes: new Set(), bars: new Set(), news: new Set() },
      };
      clients.add(c);
      const timer = setTimeout(() => {
        if (!c.authenticated && socket.readyState === socket.OPEN) {
          error(c, 404, 'auth timeout');
          socket.close(1008, 'auth timeout');
        }
      }, config.authTimeoutMs);
      timer.unref();
      socket.on('message', (data) => onMessage(c, data, users));
      socket.on('close', () => {
        clearTimeout(timer);
        clients.delete(c);
      });
      socket.on('error', () => clients.delete(c));
      reply(c, [{ T: 'success', msg: 'connected' }]);
    },
    trade(t: Trade) {
      broadcast('trades', [t.symbol], (b) => ({
        T: 't',
        S: t.symbol,
        i: 0,
        x: 'V',
        p: t.price,
        s: t.size,
        c: ['@'],
        z: 'C',
        t: time(t.ts, b),
      }));
    },
    quote(q: Quote) {
      broadcast('quotes', [q.symbol], (b) => ({
        T: 'q',
        S: q.symbol,
        bx: 'V',
        bp: q.bid,
        bs: q.bidSize,
        ax: 'V',
        ap: q.ask,
        as: q.askSize,
        c: ['R'],
        z: 'C',
        t: time(q.ts, b),
      }));
    },
    wantsBook: () => false,
    book(_b: BookView) {},
    bar(bar: Bar) {
      // Alpaca's `bars` channel carries minute bars
      if (bar.timeframe !== '1m') return;
      broadcast('bars', [bar.symbol], (b) => ({
        T: 'b',
        S: bar.symbol,
        o: bar.o,
        h: bar.h,
        l: bar.l,
        c: bar.c,
        v: bar.v,
        t: time(bar.t, b),
        n: bar.n,
        vw: bar.vw,
      }));
    },
    news(n: NewsItemView) {
      broadcast('news', n.symbols.length > 0 ? n.symbols : [''], (b) => ({
        T: 'n',
        id: n.id,
        headline: n.title,
        summary: n.summary,
        author: '',
        created_at: time(n.publishedAt, b),
        updated_at: time(n.publishedAt, b),
        url: n.url,
        content: '',
        symbols: n.symbols,
        source: n.feedId,
      }));
    },
    flush() {},
    stats: () => ({ sockets: clients.size, slowConsumerClosed: slowClosed, maxBufferedBytes: maxBuffered }),
    async closeAll(code, reason) {
      for (const c of clients) c.socket.close(code, reason);
      clients.clear();
    },
  };
}

/**
 * The WebSocket handler of Alpaca's stream protocol: MessagePack when the upgrade says so. Also
 * mounted on GET /v1beta1/news (routes.ts), where a plain GET is the REST news and an upgrade is
 * Alpaca's news stream, as on data.alpaca.markets.
 */
export function alpacaSocketHandler(deps: {
  users: UsersClient;
  hub: ReturnType<typeof createAlpacaStreamHub>;
}): (socket: WebSocket, req: FastifyRequest) => void {
  return (socket, req) => {
    const type = req.headers['content-type'] ?? '';
    deps.hub.attach(socket, type.startsWith('application/msgpack'), deps.users);
  };
}

/**
 * The crypto and option streams of Alpaca's SDKs: Bourse lists US-style equities only. The upgrade
 * is accepted, so the client reads why in Alpaca's own words, then the socket closes:
 * `[{"T":"success","msg":"connected"}]`, then `[{"T":"error","code":409,"msg":"insufficient
 * subscription: Bourse does not serve crypto market data ..."}]` (409 is Alpaca's code for a feed
 * the account cannot have).
 */
export function unsupportedStreamHandler(what: string): (socket: WebSocket, req: FastifyRequest) => void {
  return (socket, req) => {
    const msgpack = (req.headers['content-type'] ?? '').startsWith('application/msgpack');
    const frames = (f: Frame[]) => (msgpack ? encode(f) : JSON.stringify(f));
    socket.send(frames([{ T: 'success', msg: 'connected' }]));
    socket.send(
      frames([{ T: 'error', code: 409, msg: `insufficient subscription: Bourse does not serve ${what}` }]),
    );
    socket.close(1008, 'not supported');
  };
}

const upgradeRequired = async (_req: FastifyRequest, reply: FastifyReply) =>
  reply.code(426).type('application/problem+json').send({
    type: 'https://bourse.dev/problems/upgrade-required',
    title: 'Upgrade required',
    status: 426,
    detail: 'Connect with a WebSocket',
  });

export function alpacaStreamRoute(
  app: FastifyInstance,
  deps: { users: UsersClient; hub: ReturnType<typeof createAlpacaStreamHub> },
): void {
  const wsHandler = alpacaSocketHandler(deps);
  for (const url of ALPACA_STREAM_PATHS)
    app.route({ method: 'GET', url, handler: upgradeRequired, wsHandler });
  for (const [url, what] of ALPACA_UNSUPPORTED_STREAMS)
    app.route({ method: 'GET', url, handler: upgradeRequired, wsHandler: unsupportedStreamHandler(what) });
}
