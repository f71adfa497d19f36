/**
 * The market-data service's own data. Prices are JSON numbers in currency units (dollars);
 * sizes and volumes are whole shares; times are epoch milliseconds inside the service and
 * RFC 3339 strings on the HTTP API.
 */

export type FeedKind = 'exchange' | 'simulated' | 'news';
export type FeedState = 'connected' | 'stale' | 'stopped' | 'error';

export interface FeedHealth {
  state: FeedState;
  /** now − timestamp of the newest message, at the last message (ms) */
  lagMs: number | null;
  msgsPerSec: number;
  lastMessageAt: number | null;
  lastError: string | null;
  /** messages dropped as already seen (same sequence) */
  duplicates: number;
  /** messages dropped as older than one already seen */
  outOfOrder: number;
}

export interface SimulatedSymbol {
  symbol: string;
  /** starting price, dollars */
  price: number;
}

export interface SimulatedFeedConfig {
  symbols: SimulatedSymbol[];
  /** ticks per second across all symbols */
  ratePerSec: number;
  seed: number;
  /** quoted spread, basis points of the price (default 5) */
  spreadBps?: number;
  /** annualised-looking volatility per tick, basis points (default 8) */
  volatilityBps?: number;
}

export interface NewsFeedConfig {
  url: string;
  /** how often to fetch, ms (default 60 s) */
  intervalMs?: number;
}

export type FeedSettings =
  | { kind: 'exchange'; config: Record<string, never> }
  | { kind: 'simulated'; config: SimulatedFeedConfig }
  | { kind: 'news'; config: NewsFeedConfig };

export type FeedDefinition = FeedSettings & {
  id: string;
  /** lower is preferred */
  priority: number;
  staleAfterMs: number;
  enabled: boolean;
};

export interface FeedView {
  id: string;
  kind: FeedKind;
  priority: number;
  staleAfterMs: number;
  enabled: boolean;
  config: Record<string, unknown>;
  health: FeedHealth;
}

/** One message from a feed, normalised. Plain mutable data so a feed may reuse one object. */
export interface Tick {
  type: 'trade' | 'quote';
  /** the feed id */
  source: string;
  symbol: string;
  /** event time, epoch ms */
  ts: number;
  /** per-source, per-symbol, per-type sequence; 0 when the feed has none (ts orders then) */
  seq: number;
  /** trade */
  price: number;
  size: number;
  /** quote */
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
}

export interface Trade {
  symbol: string;
  price: number;
  size: number;
  ts: number;
  source: string;
}

export interface Quote {
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  ts: number;
  source: string;
}

export type Timeframe = '1m' | '5m' | '15m' | '1h' | '1d';
export const TIMEFRAMES: readonly Timeframe[] = ['1m', '5m', '15m', '1h', '1d'];
export const TIMEFRAME_MS: Record<Timeframe, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

export interface Bar {
  symbol: string;
  timeframe: Timeframe;
  /** bucket start, epoch ms (UTC) */
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  /** volume-weighted average price; null when unknown (imported rows) */
  vw: number | null;
  n: number;
  source: string;
}

export interface BookLevel {
  price: number;
  qty: number;
}

export interface BookView {
  symbol: string;
  bids: BookLevel[];
  asks: BookLevel[];
  ts: number;
  source: string;
}

export interface NewsItemView {
  id: number;
  feedId: string;
  guid: string;
  url: string | null;
  title: string;
  summary: string | null;
  publishedAt: number;
  symbols: string[];
}
