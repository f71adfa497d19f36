/**
 * Alpaca Market Data v2's multi-symbol and single-symbol read routes, built on the single-symbol
 * queries (queries.ts). Bourse keeps no quote history: a quotes request answers the latest quote
 * when it falls in the asked range. Trades come from the in-memory tape (or the exchange's tape),
 * so `start`/`end` filter what is recent; `sort=desc` reverses the order.
 */
import { ProblemError } from '../../platform/http/problem.ts';
import type * as T from './client.ts';
import type { MarketDataContext } from './context.ts';
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
  return kept.slice(0, r.limit ?? 1000);
}

export async function tradesOf(ctx: MarketDataContext, symbol: string, r: RangeQuery) {
  const { trades } = await q.recentTrades(ctx, symbol, { limit: 1000 });
  return inRange(trades, r);
}

export async function quotesOf(ctx: MarketDataContext, symbol: string, r: RangeQuery) {
  const latest = await q.latestQuote(ctx, symbol).catch(() => null);
  return latest ? inRange([latest.quote], r) : [];
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
