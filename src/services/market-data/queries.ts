/**
 * The read side of the API, shared by the routes and the in-process client: every function
 * returns exactly the JSON body of its route. Prices are dollars, times RFC 3339.
 */
import {
  IndicatorSpecError,
  indicatorSeries,
  parseIndicatorList,
  specName,
  warmUpBars,
} from '../../domain/analytics/indicators.ts';
import { OrdersApiError } from '../orders/client.ts';
import { type DailyStat, movers, unusualVolume } from './analytics.ts';
import { readBars, readCandleSymbols, readLastBars } from './candles/store.ts';
import type * as T from './client.ts';
import type { MarketDataContext } from './context.ts';
import { listNews } from './feeds/news-store.ts';
import { type Bar, TIMEFRAME_MS, type Timeframe } from './model.ts';
import { invalidField, notFound } from './problems.ts';

export const ALPACA_TIMEFRAMES: Record<T.AlpacaTimeframe, Timeframe> = {
  '1Min': '1m',
  '5Min': '5m',
  '15Min': '15m',
  '1Hour': '1h',
  '1Day': '1d',
};

const iso = (ms: number): string => new Date(ms).toISOString();

export const alpacaBar = (b: Bar): T.AlpacaBar => ({
  t: iso(b.t),
  o: b.o,
  h: b.h,
  l: b.l,
  c: b.c,
  v: b.v,
  vw: b.vw,
  n: b.n,
});

function parseTime(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalidField('querystring', field, 'must be an RFC 3339 date-time or date');
  return ms;
}

const encodeToken = (t: number): string => Buffer.from(String(t)).toString('base64url');
function decodeToken(token: string): number {
  const text = Buffer.from(token, 'base64url').toString();
  if (!/^\d{1,16}$/.test(text)) throw invalidField('querystring', 'page_token', 'is not a valid page token');
  return Number(text);
}

/** Candles in [start, end), from the database and the not-yet-written ones in memory. */
async function barsBetween(
  ctx: MarketDataContext,
  symbol: string,
  tf: Timeframe,
  start: number,
  end: number,
  limit: number,
): Promise<{ bars: Bar[]; more: boolean }> {
  const stored = await readBars(ctx.db, { symbol, timeframe: tf, start, end, limit: limit + 1 });
  const byT = new Map(stored.map((b) => [b.t, b]));
  for (const b of ctx.candles.unflushed(symbol, tf)) if (b.t >= start && b.t < end) byT.set(b.t, b);
  const all = [...byT.values()].sort((a, b) => a.t - b.t);
  return { bars: all.slice(0, limit), more: all.length > limit };
}

/** The newest `limit` candles before `end`, oldest first, however far back they are. */
async function barsBefore(
  ctx: MarketDataContext,
  symbol: string,
  tf: Timeframe,
  end: number,
  limit: number,
): Promise<Bar[]> {
  const stored = await readLastBars(ctx.db, { symbol, timeframe: tf, before: end, limit });
  const byT = new Map(stored.map((b) => [b.t, b]));
  for (const b of ctx.candles.unflushed(symbol, tf)) if (b.t < end) byT.set(b.t, b);
  return [...byT.values()].sort((a, b) => a.t - b.t).slice(-limit);
}

/**
 * Without `start`, the newest `limit` candles before `end` (default: now), so a chart shows an
 * imported file that ended years ago, and pages back in time by asking again with `end` = its
 * oldest candle. With `start`, the candles in [start, end), paged forward by `next_page_token`.
 */
export async function getBars(
  ctx: MarketDataContext,
  symbol: string,
  q: T.BarsQuery,
): Promise<T.BarsResponse> {
  const tf = ALPACA_TIMEFRAMES[q.timeframe];
  const limit = q.limit ?? 1000;
  const end = parseTime('end', q.end) ?? ctx.clock.now() + 1;
  if (q.start === undefined && q.page_token === undefined) {
    const bars = await barsBefore(ctx, symbol, tf, end, limit);
    return { symbol, bars: bars.map(alpacaBar), next_page_token: null };
  }
  let start = parseTime('start', q.start) ?? end - limit * TIMEFRAME_MS[tf];
  if (q.page_token !== undefined) start = Math.max(start, decodeToken(q.page_token));
  if (start > end) throw invalidField('querystring', 'start', 'must not be after end');
  const { bars, more } = await barsBetween(ctx, symbol, tf, start, end, limit);
  const last = bars[bars.length - 1];
  return {
    symbol,
    bars: bars.map(alpacaBar),
    next_page_token: more && last ? encodeToken(last.t + 1) : null,
  };
}

async function latestTradeOf(ctx: MarketDataContext, symbol: string): Promise<T.AlpacaTrade | null> {
  const t = ctx.consolidator.lastTrade(symbol);
  if (t) return { t: iso(t.ts), p: t.price, s: t.size, x: t.source };
  const tape = await fromExchange(() => ctx.orders.symbolTrades(symbol, { limit: 1 }));
  const e = tape?.items[0];
  return e ? { t: iso(e.ts), p: e.price / 100, s: e.qty, x: 'exchange' } : null;
}

async function latestQuoteOf(ctx: MarketDataContext, symbol: string): Promise<T.AlpacaQuote | null> {
  const q = ctx.consolidator.quote(symbol);
  if (q) return { t: iso(q.ts), bp: q.bid, bs: q.bidSize, ap: q.ask, as: q.askSize, x: q.source };
  return null;
}

/** The orders service's answer, or null when it does not know the symbol or is unreachable. */
async function fromExchange<R>(call: () => Promise<R>): Promise<R | null> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof OrdersApiError) return null;
    throw err;
  }
}

export async function latestTrade(ctx: MarketDataContext, symbol: string): Promise<T.LatestTradeResponse> {
  const trade = await latestTradeOf(ctx, symbol);
  if (!trade) throw notFound(`no trade for ${symbol}`);
  return { symbol, trade };
}

export async function latestQuote(ctx: MarketDataContext, symbol: string): Promise<T.LatestQuoteResponse> {
  const quote = await latestQuoteOf(ctx, symbol);
  if (!quote) throw notFound(`no quote for ${symbol}`);
  return { symbol, quote };
}

export async function recentTrades(
  ctx: MarketDataContext,
  symbol: string,
  q: { limit?: number },
): Promise<T.TradesResponse> {
  const limit = q.limit ?? 100;
  let trades = ctx.tape
    .recent(symbol, limit)
    .map((t) => ({ t: iso(t.ts), p: t.price, s: t.size, x: t.source }));
  if (trades.length === 0) {
    const page = await fromExchange(() => ctx.orders.symbolTrades(symbol, { limit: Math.min(limit, 500) }));
    trades = (page?.items ?? []).map((e) => ({ t: iso(e.ts), p: e.price / 100, s: e.qty, x: 'exchange' }));
  }
  return { symbol, trades, next_page_token: null };
}

async function lastBar(
  ctx: MarketDataContext,
  symbol: string,
  tf: Timeframe,
  before?: number,
): Promise<Bar | null> {
  const open = ctx.candles.current(symbol, tf);
  if (open && (before === undefined || open.t < before)) return open;
  const [b] = await readLastBars(ctx.db, {
    symbol,
    timeframe: tf,
    before: before ?? ctx.clock.now() + 1,
    limit: 1,
  });
  return b ?? null;
}

export async function snapshots(
  ctx: MarketDataContext,
  symbols: readonly string[],
): Promise<T.SnapshotsResponse> {
  const out: T.SnapshotsResponse = {};
  for (const symbol of symbols) {
    const [trade, quote, minute, daily] = await Promise.all([
      latestTradeOf(ctx, symbol),
      latestQuoteOf(ctx, symbol),
      lastBar(ctx, symbol, '1m'),
      lastBar(ctx, symbol, '1d'),
    ]);
    const prev = daily ? await lastBar(ctx, symbol, '1d', daily.t) : null;
    out[symbol] = {
      latestTrade: trade,
      latestQuote: quote,
      minuteBar: minute ? alpacaBar(minute) : null,
      dailyBar: daily ? alpacaBar(daily) : null,
      prevDailyBar: prev ? alpacaBar(prev) : null,
    };
  }
  return out;
}

export async function instruments(ctx: MarketDataContext): Promise<T.InstrumentsResponse> {
  const listed = (await fromExchange(() => ctx.orders.instruments())) ?? [];
  const out: T.InstrumentView[] = listed.map((i) => ({
    symbol: i.symbol,
    source: 'exchange',
    tradable: true,
    tick_size: i.tickSize / 100,
    lot_size: i.lotSize,
    halted: i.halted,
    last_price:
      ctx.consolidator.lastTrade(i.symbol)?.price ??
      (i.lastTradePrice === null ? null : i.lastTradePrice / 100),
  }));
  const seen = new Set(out.map((i) => i.symbol));
  for (const feed of ctx.feeds.running()) {
    for (const symbol of feed.symbols?.() ?? []) {
      if (seen.has(symbol)) continue;
      seen.add(symbol);
      out.push({
        symbol,
        source: feed.id,
        tradable: false,
        tick_size: 0.01,
        lot_size: 1,
        halted: false,
        last_price: ctx.consolidator.lastTrade(symbol)?.price ?? null,
      });
    }
  }
  // history without a live source (an imported file): chartable, not tradable
  for (const symbol of await readCandleSymbols(ctx.db)) {
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    out.push({
      symbol,
      source: 'import',
      tradable: false,
      tick_size: 0.01,
      lot_size: 1,
      halted: false,
      last_price: null,
    });
  }
  return { instruments: out.sort((a, b) => (a.symbol < b.symbol ? -1 : 1)) };
}

export async function depth(
  ctx: MarketDataContext,
  symbol: string,
  levels: number,
): Promise<T.DepthResponse> {
  const book = ctx.bookOf(symbol, levels);
  if (book) return { symbol, bids: book.bids, asks: book.asks, ts: iso(book.ts), source: book.source };
  const d = await fromExchange(() => ctx.orders.depth(symbol, levels));
  if (!d) throw notFound(`no book for ${symbol}`);
  const conv = (l: { price: number; qty: number }) => ({ price: l.price / 100, qty: l.qty });
  return {
    symbol,
    bids: d.bids.map(conv),
    asks: d.asks.map(conv),
    ts: iso(ctx.clock.now()),
    source: 'exchange',
  };
}

export async function news(
  ctx: MarketDataContext,
  q: { symbols?: string[]; limit?: number },
): Promise<T.NewsResponse> {
  const items = await listNews(ctx.db, { symbols: q.symbols, limit: q.limit ?? 50 });
  return {
    news: items.map((n) => ({
      id: n.id,
      headline: n.title,
      summary: n.summary,
      url: n.url,
      symbols: n.symbols,
      created_at: iso(n.publishedAt),
      source: n.feedId,
    })),
  };
}

export async function indicators(
  ctx: MarketDataContext,
  symbol: string,
  q: { timeframe: T.AlpacaTimeframe; indicators: string; limit?: number },
): Promise<T.IndicatorsResponse> {
  let specs: ReturnType<typeof parseIndicatorList>;
  try {
    specs = parseIndicatorList(q.indicators);
  } catch (err) {
    if (err instanceof IndicatorSpecError) throw invalidField('querystring', 'indicators', err.message);
    throw err;
  }
  if (specs.length === 0) throw invalidField('querystring', 'indicators', 'must name at least one indicator');
  const tf = ALPACA_TIMEFRAMES[q.timeframe];
  const limit = q.limit ?? 200;
  // enough history before the first returned bar for every indicator to warm up
  const warm = Math.max(...specs.map(warmUpBars));
  const end = ctx.clock.now() + 1;
  const stored = await readLastBars(ctx.db, { symbol, timeframe: tf, before: end, limit: limit + warm });
  const byT = new Map(stored.map((b) => [b.t, b]));
  for (const b of ctx.candles.unflushed(symbol, tf)) byT.set(b.t, b);
  const all = [...byT.values()].sort((a, b) => a.t - b.t).slice(-(limit + warm));
  const shown = all.slice(-limit);
  const series: Record<string, (Record<string, number> | null)[]> = {};
  for (const spec of specs) {
    series[specName(spec)] = indicatorSeries(all, spec)
      .slice(-limit)
      .map((p) => p.values);
  }
  return { symbol, timeframe: q.timeframe, bars: shown.map(alpacaBar), indicators: series };
}

async function dailyStats(ctx: MarketDataContext): Promise<DailyStat[]> {
  const now = ctx.clock.now();
  const today = now - (now % TIMEFRAME_MS['1d']);
  const symbols = ctx.knownSymbols();
  if (symbols.length === 0) return [];
  const { rows } = await ctx.db.query<{ symbol: string; bucket: Date; close: string; volume: number }>(
    `SELECT symbol, bucket, close, volume FROM md_candles
     WHERE timeframe = '1d' AND symbol = ANY($1::text[]) AND bucket >= $2 AND bucket < $3
     ORDER BY symbol, bucket DESC`,
    [symbols, new Date(today - 21 * TIMEFRAME_MS['1d']), new Date(today)],
  );
  const history = new Map<string, { close: number; volume: number }[]>();
  for (const r of rows) {
    let h = history.get(r.symbol);
    if (!h) history.set(r.symbol, (h = []));
    h.push({ close: Number(r.close), volume: r.volume });
  }
  const out: DailyStat[] = [];
  for (const symbol of symbols) {
    const day = ctx.candles.current(symbol, '1d');
    const todayBar = day && day.t === today ? day : null;
    const h = history.get(symbol) ?? [];
    const price = ctx.consolidator.lastTrade(symbol)?.price ?? todayBar?.c;
    if (price === undefined) continue;
    out.push({
      symbol,
      price,
      prevClose: h[0]?.close ?? null,
      volume: todayBar?.v ?? 0,
      history: h.map((x) => x.volume),
    });
  }
  return out;
}

export async function getMovers(ctx: MarketDataContext, q: { top?: number }): Promise<T.MoversResponse> {
  return { ...movers(await dailyStats(ctx), q.top ?? 10), last_updated: iso(ctx.clock.now()) };
}

export async function getAlerts(ctx: MarketDataContext, q: { ratio?: number }): Promise<T.AlertsResponse> {
  return { alerts: unusualVolume(await dailyStats(ctx), q.ratio ?? 2), last_updated: iso(ctx.clock.now()) };
}
