/** The MarketDataClient in-process: the same query functions the routes call, same errors. */
import { MarketDataApiError, type MarketDataClient } from './client.ts';
import type { MarketDataContext } from './context.ts';
import { invalidField, ProblemError } from './problems.ts';
import * as q from './queries.ts';

const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;

function checkSymbol(symbol: string, field = 'symbol'): void {
  if (!SYMBOL.test(symbol)) {
    throw new MarketDataApiError(
      invalidField('params', field, `must match pattern "${SYMBOL.source}"`).problem,
    );
  }
}

async function wrap<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProblemError) throw new MarketDataApiError(err.problem);
    throw err;
  }
}

export function createInProcessClient(ctx: MarketDataContext): MarketDataClient {
  /** checks the symbol as the route's schema would, then runs the query */
  const bySymbol =
    <A extends unknown[], R>(fn: (symbol: string, ...args: A) => Promise<R>) =>
    (symbol: string, ...args: A): Promise<R> =>
      wrap(async () => {
        checkSymbol(symbol);
        return fn(symbol, ...args);
      });
  return {
    bars: bySymbol((symbol, query) => q.getBars(ctx, symbol, query)),
    latestTrade: bySymbol((symbol) => q.latestTrade(ctx, symbol)),
    latestQuote: bySymbol((symbol) => q.latestQuote(ctx, symbol)),
    trades: bySymbol((symbol, query: { limit?: number } = {}) => q.recentTrades(ctx, symbol, query)),
    snapshots: (symbols) =>
      wrap(async () => {
        for (const s of symbols) checkSymbol(s, 'symbols');
        return q.snapshots(ctx, symbols);
      }),
    instruments: () => wrap(() => q.instruments(ctx)),
    depth: bySymbol((symbol, levels: number | undefined) => q.depth(ctx, symbol, levels ?? 10)),
    news: (query = {}) =>
      wrap(() =>
        q.news(ctx, { symbols: query.symbols ? [...query.symbols] : undefined, limit: query.limit }),
      ),
    indicators: bySymbol((symbol, query) => q.indicators(ctx, symbol, query)),
    movers: (query = {}) => wrap(() => q.getMovers(ctx, query)),
    alerts: (query = {}) => wrap(() => q.getAlerts(ctx, query)),
  };
}
