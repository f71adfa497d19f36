/**
 * Live market data for the terminal: the stream (`/v1/market-data/stream`) when the gateway has
 * it, and `GET /market-data` polled every second in any case (it carries the book depth and is
 * the fallback while the stream is missing or down). Updates land in plain objects and the
 * screen is told once per animation frame (frame.ts). A lost connection is shown and the
 * subscriptions are sent again on reconnect.
 */
import { ApiError, accessToken, api, wsUrl } from './api.ts';
import { frameStore, listen } from './lib/frame.ts';
import { toCents } from './lib/money.ts';
import type { Bar, NewsItem, Snapshot } from './types.ts';

export interface Quote {
  symbol: string;
  lastCents: number | null;
  /** reference for the change column: the previous daily close, else the first price seen */
  refCents: number | null;
  refKind: 'close' | 'session' | null;
  bidCents: number | null;
  askCents: number | null;
  bidSize: number;
  askSize: number;
  bids: [number, number][];
  asks: [number, number][];
  tick: 'up' | 'down' | null;
  lastTradeId: number | null;
  ts: string | null;
}

export interface TapeTrade {
  id: string;
  symbol: string;
  priceCents: number;
  size: number;
  ts: string;
  side: 'up' | 'down' | null;
}

export type ConnState = 'connecting' | 'live' | 'polling' | 'lost';

export interface MarketState {
  quotes: Map<string, Quote>;
  tape: Map<string, TapeTrade[]>;
  conn: ConnState;
  streamAvailable: boolean | null;
  lastError: string | null;
}

const TAPE_MAX = 60;
const POLL_MS = 1_000;

export const store = frameStore();
export const state: MarketState = {
  quotes: new Map(),
  tape: new Map(),
  conn: 'connecting',
  streamAvailable: null,
  lastError: null,
};

type BarListener = (symbol: string, timeframe: string, bar: Bar) => void;
type NewsListener = (item: NewsItem & { symbol?: string }) => void;
type OrderListener = (event: Record<string, unknown>) => void;
const barListeners = new Set<BarListener>();
const newsListeners = new Set<NewsListener>();
const orderListeners = new Set<OrderListener>();
export const onBar = (l: BarListener) => listen(barListeners, l);
export const onNews = (l: NewsListener) => listen(newsListeners, l);
export const onOrderEvent = (l: OrderListener) => listen(orderListeners, l);

let symbols: string[] = [];
let focus: string | null = null;
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let running = false;
let socket: WebSocket | null = null;
let socketReady = false;
let wsRetry: ReturnType<typeof setTimeout> | undefined;
let wsBackoff = 1_000;

function quoteOf(symbol: string): Quote {
  let q = state.quotes.get(symbol);
  if (!q) {
    q = {
      symbol,
      lastCents: null,
      refCents: null,
      refKind: null,
      bidCents: null,
      askCents: null,
      bidSize: 0,
      askSize: 0,
      bids: [],
      asks: [],
      tick: null,
      lastTradeId: null,
      ts: null,
    };
    state.quotes.set(symbol, q);
  }
  return q;
}

function applyTrade(symbol: string, priceCents: number, size: number, ts: string, id: string): void {
  const q = quoteOf(symbol);
  const prev = q.lastCents;
  q.tick = prev === null || prev === priceCents ? q.tick : priceCents > prev ? 'up' : 'down';
  q.lastCents = priceCents;
  if (q.refCents === null) {
    q.refCents = priceCents;
    q.refKind = 'session';
  }
  q.ts = ts;
  const tape = state.tape.get(symbol) ?? [];
  tape.unshift({
    id,
    symbol,
    priceCents,
    size,
    ts,
    side: prev === null ? null : priceCents >= prev ? 'up' : 'down',
  });
  if (tape.length > TAPE_MAX) tape.length = TAPE_MAX;
  state.tape.set(symbol, tape);
  for (const l of tradeListeners) l(symbol, priceCents, size, ts);
}

type TradeListener = (symbol: string, priceCents: number, size: number, ts: string) => void;
const tradeListeners = new Set<TradeListener>();
export const onTrade = (l: TradeListener) => listen(tradeListeners, l);

function levels(l: { price: string; size: string }[]): [number, number][] {
  return l.map((x) => [toCents(x.price) ?? 0, Number(x.size)]);
}

function applySnapshot(s: Snapshot): void {
  const q = quoteOf(s.symbol);
  const t = s.latest_trade;
  // with the stream up, trades come from it (the poll would repeat them on the tape)
  if (t && t.trade_id !== q.lastTradeId && !socketReady) {
    const price = toCents(t.price);
    if (price !== null) applyTrade(s.symbol, price, Number(t.size), t.timestamp, `p${t.trade_id}`);
    q.lastTradeId = t.trade_id;
  }
  q.bidCents = toCents(s.latest_quote.bid_price);
  q.askCents = toCents(s.latest_quote.ask_price);
  q.bidSize = Number(s.latest_quote.bid_size);
  q.askSize = Number(s.latest_quote.ask_size);
  q.bids = levels(s.book.bids);
  q.asks = levels(s.book.asks);
}

async function poll(): Promise<void> {
  if (!running) return;
  const wanted = [...new Set(focus ? [focus, ...symbols] : symbols)];
  try {
    if (wanted.length > 0 && accessToken()) {
      const { snapshots } = await api<{ snapshots: Record<string, Snapshot> }>('/market-data', {
        query: { symbols: wanted.join(','), depth: 10 },
      });
      for (const s of Object.values(snapshots)) applySnapshot(s);
    }
    if (state.conn === 'lost' || state.conn === 'connecting') state.conn = socketReady ? 'live' : 'polling';
    state.lastError = null;
  } catch (err) {
    state.conn = 'lost';
    state.lastError = err instanceof ApiError ? err.message : 'connection lost';
  }
  store.touch();
  // the stream carries trades and books when it is up: the poll only backs it up then
  const wait = state.conn === 'lost' ? POLL_MS * 3 : socketReady ? POLL_MS * 5 : POLL_MS;
  if (running) pollTimer = setTimeout(() => void poll(), wait);
}

function subscribeMessage(): string {
  const all = [...new Set(focus ? [focus, ...symbols] : symbols)];
  return JSON.stringify({
    action: 'subscribe',
    trades: all,
    quotes: all,
    books: focus ? [focus] : [],
    bars: focus ? [focus] : [],
    news: focus ? [focus] : [],
    orders: true,
  });
}

function connectStream(): void {
  if (!running || socket) return;
  const token = accessToken();
  if (!token) return;
  let ready = false;
  const ws = new WebSocket(wsUrl('/v1/market-data/stream'));
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ action: 'auth', token: accessToken() }));
  ws.onmessage = (ev) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    // trades come gathered: one frame may hold an array of messages
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    for (const m of messages) {
      handleStreamMessage(m, () => {
        ready = true;
        socketReady = true;
        wsBackoff = 1_000;
        state.streamAvailable = true;
        state.conn = 'live';
        ws.send(subscribeMessage());
      });
    }
  };
  ws.onclose = () => {
    socket = null;
    socketReady = false;
    if (!ready && state.streamAvailable !== true) state.streamAvailable = false;
    if (state.conn === 'live') state.conn = 'polling';
    store.touch();
    if (!running) return;
    // a gateway without the stream refuses the upgrade: try again rarely; a dropped stream soon
    const wait = ready ? wsBackoff : Math.max(wsBackoff, 30_000);
    wsBackoff = Math.min(wsBackoff * 2, 30_000);
    wsRetry = setTimeout(connectStream, wait);
  };
}

export function handleStreamMessage(m: Record<string, unknown>, onReady: () => void = () => {}): void {
  const symbol = typeof m.symbol === 'string' ? m.symbol : '';
  switch (m.type) {
    case 'ready':
      onReady();
      break;
    case 'trade': {
      const price = toCents(m.price as string | number);
      if (price !== null)
        applyTrade(
          symbol,
          price,
          Number(m.size),
          String(m.ts ?? new Date().toISOString()),
          `s${String(m.ts)}${Math.random()}`,
        );
      break;
    }
    case 'quote': {
      const q = quoteOf(symbol);
      q.bidCents = toCents(m.bid as string | number);
      q.askCents = toCents(m.ask as string | number);
      q.bidSize = Number(m.bidSize ?? 0);
      q.askSize = Number(m.askSize ?? 0);
      break;
    }
    case 'book': {
      const q = quoteOf(symbol);
      const side = (x: unknown) =>
        Array.isArray(x)
          ? x.map(
              (l) =>
                [toCents((l as [string, string])[0]) ?? 0, Number((l as [string, string])[1])] as [
                  number,
                  number,
                ],
            )
          : [];
      q.bids = side(m.bids);
      q.asks = side(m.asks);
      break;
    }
    case 'bar':
      for (const l of barListeners)
        l(symbol, String(m.timeframe ?? ''), {
          t: String(m.t),
          o: Number(m.o),
          h: Number(m.h),
          l: Number(m.l),
          c: Number(m.c),
          v: Number(m.v),
        });
      break;
    case 'news':
      for (const l of newsListeners) l(m as NewsItem & { symbol?: string });
      break;
    case 'order':
      for (const l of orderListeners) l(m);
      break;
    default:
      return;
  }
  store.touch();
}

export function setSymbols(list: string[], focused: string | null): void {
  const changed = list.join(',') !== symbols.join(',') || focused !== focus;
  symbols = list;
  focus = focused;
  if (changed && socket && socketReady) socket.send(subscribeMessage());
}

export function startMarket(): void {
  if (running) return;
  running = true;
  state.conn = 'connecting';
  void poll();
  connectStream();
}

export function stopMarket(): void {
  running = false;
  clearTimeout(pollTimer);
  clearTimeout(wsRetry);
  socket?.close();
  socket = null;
  socketReady = false;
}

/** A reconnect now (after a token refresh, or when the user asks) */
export function reconnectMarket(): void {
  clearTimeout(wsRetry);
  wsBackoff = 1_000;
  if (!socket) connectStream();
}

type Bar1 = { c?: number; o?: number } | null | undefined;

/** Previous closes for the change column (GET /v2/stocks/snapshots); without it, the session's first trade. */
export async function loadReferences(list: string[]): Promise<void> {
  if (list.length === 0) return;
  try {
    const snaps = await api<Record<string, { prevDailyBar?: Bar1; dailyBar?: Bar1 } | null>>(
      '/v2/stocks/snapshots',
      {
        query: { symbols: list.join(',') },
      },
    );
    for (const [symbol, s] of Object.entries(snaps ?? {})) {
      const close = s?.prevDailyBar?.c ?? s?.dailyBar?.o;
      if (typeof close !== 'number') continue;
      const q = quoteOf(symbol);
      q.refCents = Math.round(close * 100);
      q.refKind = 'close';
    }
    store.touch();
  } catch {
    // unavailable: the change column stays relative to the first trade seen
  }
}
