/**
 * Alpaca Market Data v2's multi-symbol and single-symbol read routes, built on the single-symbol
 * queries (queries.ts). Quotes come from the quote history (md_quotes, quote-history.ts: the
 * quotes streamed in the last 7 days). Trades come from the in-memory tape (or the exchange's tape),
 * so `start`/`end` filter what is recent; `sort=desc` reverses the order.
 *
 * Paging as Alpaca pages: `limit` items per answer (across all symbols of a multi-symbol request,
 * symbol by symbol), and a `next_page_token` while more remain. The token is a keyset cursor, not
 * an offset: `<symbol index>_<time ms>_<items at that time already given>`, so trades arriving
 * between two pages do not shift them. News pages the same way by (time, id).
 */
import { ProblemError } from '../../platform/http/problem.ts';
import type * as T from './client.ts';
import type { MarketDataContext } from './context.ts';
import { listNews } from './feeds/news-store.ts';
import { invalidField } from './problems.ts';
import * as q from './queries.ts';

export interface RangeQuery {
  start?: string;
  end?: string;
  limit?: number;
  page_token?: string;
  sort?: 'asc' | 'desc';
}

function parseTime(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalidField('querystring', field, 'must be an RFC 3339 date-time or date');
  return ms;
}

function inRange<X extends { t: string }>(items: X[], r: RangeQuery): X[] {
  const start = parseTime('start', r.start) ?? Number.NEGATIVE_INFINITY;
  const end = parseTime('end', r.end) ?? Number.POSITIVE_INFINITY;
  if (start > end) throw invalidField('querystring', 'start', 'must not be after end');
  const kept = items.filter((x) => {
    const t = Date.parse(x.t);
    return t >= start && t < end;
  });
  kept.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  if (r.sort === 'desc') kept.reverse();
  return kept;
}

const DEFAULT_LIMIT = 1000;
const TOKEN = /^(\d{1,3})_(\d{1,15})_(\d{1,6})$/;

/** the cursor at the start of symbol `i`: nothing of it given yet */
const startOf = (i: number, r: RangeQuery): string =>
  r.sort === 'desc' ? `${i}_999999999999999_0` : `${i}_0_0`;
const msOf = (x: { t: string }) => Date.parse(x.t);

/**
 * One page of `[symbol, items in range]` lists (in that order), after `page_token`, at most
 * `limit` items in all, and the token of the next page (null when this is the last).
 */
function pageOf<X extends { t: string }>(
  lists: readonly (readonly [string, X[]])[],
  r: RangeQuery,
): { page: [string, X[]][]; next_page_token: string | null } {
  let cursor: { sym: number; ms: number; k: number } | undefined;
  if (r.page_token !== undefined) {
    const m = TOKEN.exec(r.page_token);
    if (!m) throw invalidField('querystring', 'page_token', 'is not a next_page_token of this request');
    cursor = { sym: Number(m[1]), ms: Number(m[2]), k: Number(m[3]) };
  }
  const before = (ms: number, at: number) => (r.sort === 'desc' ? ms > at : ms < at);
  let room = r.limit ?? DEFAULT_LIMIT;
  const page: [string, X[]][] = [];
  for (let i = cursor?.sym ?? 0; i < lists.length; i++) {
    const [symbol, items] = lists[i]!;
    let from = 0;
    if (cursor && i === cursor.sym) {
      // earlier pages gave the items before the cursor's time, and k of those at its time
      while (from < items.length && before(msOf(items[from]!), cursor.ms)) from++;
      for (
        let skipped = 0;
        from < items.length && skipped < cursor.k && msOf(items[from]!) === cursor.ms;
        skipped++
      )
        from++;
    }
    if (from >= items.length) continue;
    if (room === 0) return { page, next_page_token: startOf(i, r) };
    const taken = items.slice(from, from + room);
    room -= taken.length;
    page.push([symbol, taken]);
    const end = from + taken.length;
    if (end < items.length) {
      const last = msOf(items[end - 1]!);
      let k = 0;
      for (let j = end - 1; j >= 0 && msOf(items[j]!) === last; j--) k++;
      return { page, next_page_token: `${i}_${last}_${k}` };
    }
  }
  return { page, next_page_token: null };
}

async function inRangeOf<X extends { t: string }>(
  symbols: readonly string[],
  one: (symbol: string) => Promise<X[]>,
  r: RangeQuery,
): Promise<(readonly [string, X[]])[]> {
  const lists: (readonly [string, X[]])[] = [];
  for (const symbol of symbols) {
    const items = await one(symbol).catch((err: unknown) => {
      if (err instanceof ProblemError && err.status === 404) return [] as X[];
      throw err;
    });
    lists.push([symbol, inRange(items, r)]);
  }
  return lists;
}

const recent = async (ctx: MarketDataContext, symbol: string) =>
  (await q.recentTrades(ctx, symbol, { limit: 1000 })).trades;

/** GET /v2/stocks/{symbol}/trades */
export async function tradesOf(ctx: MarketDataContext, symbol: string, r: RangeQuery) {
  const { page, next_page_token } = pageOf(await inRangeOf([symbol], (s) => recent(ctx, s), r), r);
  return { trades: page[0]?.[1] ?? [], next_page_token };
}

/** GET /v2/stocks/trades: `{ trades: { [symbol]: [...] } }` */
export async function tradesBySymbol(ctx: MarketDataContext, symbols: readonly string[], r: RangeQuery) {
  const { page, next_page_token } = pageOf(await inRangeOf(symbols, (s) => recent(ctx, s), r), r);
  return { trades: Object.fromEntries(page), next_page_token };
}

/**
 * Each symbol's quotes in range from md_quotes, read from the page token's cursor on, enough of
 * them to fill a page and tell whether more remain (pageOf then pages them like trades). A symbol
 * with no stored quote in range answers its latest quote if that falls in range.
 */
async function quoteLists(ctx: MarketDataContext, symbols: readonly string[], r: RangeQuery) {
  const start = parseTime('start', r.start);
  const end = parseTime('end', r.end);
  if (start !== undefined && end !== undefined && start > end)
    throw invalidField('querystring', 'start', 'must not be after end');
  const cursor = r.page_token === undefined ? undefined : TOKEN.exec(r.page_token);
  if (r.page_token !== undefined && !cursor)
    throw invalidField('querystring', 'page_token', 'is not a next_page_token of this request');
  const [sym, ms, k] = cursor ? [Number(cursor[1]), Number(cursor[2]), Number(cursor[3])] : [0, 0, 0];
  const limit = (r.limit ?? DEFAULT_LIMIT) + k + 1;
  await ctx.quoteHistory.flush();
  const lists: (readonly [string, T.AlpacaQuote[]])[] = [];
  for (const [i, symbol] of symbols.entries()) {
    if (i < sym) {
      lists.push([symbol, []]);
      continue;
    }
    const resume = cursor && i === sym;
    const from = resume && r.sort !== 'desc' ? Math.max(ms, start ?? 0) : start;
    const to = resume && r.sort === 'desc' ? Math.min(ms + 1, end ?? Number.POSITIVE_INFINITY) : end;
    let items = await ctx.quoteHistory.read(symbol, { from, to, sort: r.sort, limit });
    if (items.length === 0 && !resume) {
      const latest = await q.latestQuote(ctx, symbol).catch(() => null);
      items = latest ? inRange([latest.quote], r) : [];
    }
    lists.push([symbol, items]);
  }
  return lists;
}

/** GET /v2/stocks/{symbol}/quotes */
export async function quotesOf(ctx: MarketDataContext, symbol: string, r: RangeQuery) {
  const { page, next_page_token } = pageOf(await quoteLists(ctx, [symbol], r), r);
  return { quotes: page[0]?.[1] ?? [], next_page_token };
}

/** GET /v2/stocks/quotes */
export async function quotesBySymbol(ctx: MarketDataContext, symbols: readonly string[], r: RangeQuery) {
  const { page, next_page_token } = pageOf(await quoteLists(ctx, symbols, r), r);
  return { quotes: Object.fromEntries(page), next_page_token };
}

export interface NewsQuery extends RangeQuery {
  symbols?: string;
  include_content?: boolean;
  exclude_contentless?: boolean;
}

const NEWS_TOKEN = /^(\d{1,15})_(\d{1,15})$/;

/** GET /v1beta1/news: newest first by default, `limit` (default 10, at most 50) a page */
export async function newsPage(ctx: MarketDataContext, r: NewsQuery) {
  const from = parseTime('start', r.start);
  const to = parseTime('end', r.end);
  if (from !== undefined && to !== undefined && from > to)
    throw invalidField('querystring', 'start', 'must not be after end');
  let after: { publishedAt: number; id: number } | undefined;
  if (r.page_token !== undefined) {
    const m = NEWS_TOKEN.exec(r.page_token);
    if (!m) throw invalidField('querystring', 'page_token', 'is not a next_page_token of this request');
    after = { publishedAt: Number(m[1]), id: Number(m[2]) };
  }
  const limit = r.limit ?? 10;
  const items = await listNews(ctx.db, {
    symbols: r.symbols === undefined ? undefined : [...new Set(r.symbols.split(','))],
    limit: limit + 1,
    from,
    to,
    sort: r.sort ?? 'desc',
    after,
  });
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return {
    news: page.map((n) => ({
      id: n.id,
      headline: n.title,
      summary: n.summary ?? '',
      author: '',
      created_at: new Date(n.publishedAt).toISOString(),
      updated_at: new Date(n.publishedAt).toISOString(),
      url: n.url,
      content: '',
      symbols: n.symbols,
      source: n.feedId,
      images: [],
    })),
    next_page_token: items.length > limit && last ? `${last.publishedAt}_${last.id}` : null,
  };
}

export async function barsOf(ctx: MarketDataContext, symbol: string, r: RangeQuery & T.BarsQuery) {
  const { bars, next_page_token } = await q.getBars(ctx, symbol, r);
  return { bars: r.sort === 'desc' ? [...bars].reverse() : bars, next_page_token };
}

/** `{ [symbol]: X }` of the symbols that have one (Alpaca leaves the others out). */
export async function bySymbol<X>(
  symbols: readonly string[],
  one: (symbol: string) => Promise<X | null>,
): Promise<Record<string, X>> {
  const out: Record<string, X> = {};
  for (const symbol of symbols) {
    const x = await one(symbol).catch((err: unknown) => {
      if (err instanceof ProblemError && err.status === 404) return null;
      throw err;
    });
    if (x !== null && !(Array.isArray(x) && x.length === 0)) out[symbol] = x;
  }
  return out;
}

export async function latestBar(ctx: MarketDataContext, symbol: string): Promise<T.AlpacaBar | null> {
  const snap = (await q.snapshots(ctx, [symbol]))[symbol];
  return snap?.minuteBar ?? null;
}
