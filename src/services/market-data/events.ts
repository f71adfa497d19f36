/**
 * What the market-data service publishes on the bus. Other services may import this file (and
 * client.ts) from the market-data folder, nothing else.
 *
 *   md.quote.<SYMBOL>  QuoteMessage  the consolidated quote, conflated (at most one per symbol per
 *                                    stream flush, ~25 ms)
 *   md.bar.<SYMBOL>    BarMessage    a candle that closed (every timeframe), once per instance
 *                                    that built it: consumers key by (symbol, timeframe, t)
 *   news.item          NewsMessage   a news item stored for the first time (announced once
 *                                    across instances: the database decides who stored it)
 *
 * Prices are numbers in dollars; times epoch milliseconds.
 * (md.trade.* and md.book.* belong to the orders service: see src/services/orders/events.ts.)
 */
import type { Bar } from './model.ts';

export const mdSubjects = {
  quote: (symbol: string): string => `md.quote.${symbol}`,
  bar: (symbol: string): string => `md.bar.${symbol}`,
  news: 'news.item',
  /** an admin changed the feeds: every instance reloads them from md_feeds */
  feedsChanged: 'md.feeds.changed',
  allQuotes: 'md.quote.*',
  allBars: 'md.bar.*',
  /** the leader's simulated ticks (Tick), for the other instances (once-per-cluster simulation) */
  sim: (symbol: string): string => `md.sim.${symbol}`,
  allSim: 'md.sim.*',
} as const;

export interface QuoteMessage {
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  ts: number;
  /** the feed id it came from */
  source: string;
}

/** A closed candle, as the service keeps it (model.ts). */
export type BarMessage = Bar;

export interface NewsMessage {
  id: number;
  feedId: string;
  guid: string;
  url: string | null;
  title: string;
  summary: string | null;
  publishedAt: number;
  symbols: string[];
}

export interface FeedsChangedMessage {
  /** the instance that changed them (it has already reloaded) */
  origin: string;
  ts: number;
}
