/**
 * The typed client of the market-data service: the public reads, in the shapes of its HTTP API
 * (Alpaca's for /v2/stocks, prices as numbers in dollars, times RFC 3339). Two implementations
 * behave the same: in-process (`createMarketDataService(...).client`) and HTTP
 * (`httpMarketDataClient`), which sends the internal token and a forwarded identity. Failures are
 * MarketDataApiError carrying the RFC 9457 problem.
 *
 * Other services may import this file (and events.ts) from the market-data folder, nothing else.
 */
import { deadline } from '../../platform/http/deadline.ts';
import { type ForwardedIdentity, identityHeaders } from '../../platform/http/forwarded-identity.ts';
import type { FieldError } from '../../platform/http/problem.ts';

/** Alpaca's real-time stream paths (alpaca-stream.ts), one per Alpaca feed name; the gateway pipes them */
export const ALPACA_STREAM_PATHS = ['/v2/iex', '/v2/sip', '/v2/test', '/v2/delayed_sip'] as const;
/** Alpaca's news stream: the same path as the REST news, an upgrade there is the stream */
export const ALPACA_NEWS_STREAM_PATH = '/v1beta1/news';
/** Alpaca's crypto and option stream paths: accepted, answered with Alpaca's error, closed */
export const ALPACA_UNSUPPORTED_STREAMS: readonly (readonly [string, string])[] = [
  ...['us', 'us-1', 'eu-1'].map(
    (loc) => [`/v1beta3/crypto/${loc}`, 'crypto market data (stocks only)'] as const,
  ),
  ...['indicative', 'opra'].map((feed) => [`/v1beta1/${feed}`, 'options market data (stocks only)'] as const),
];

export type AlpacaTimeframe = '1Min' | '5Min' | '15Min' | '1Hour' | '1Day';

export interface AlpacaBar {
  t: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw: number | null;
  n: number;
}

export interface AlpacaTrade {
  t: string;
  p: number;
  s: number;
  /** the feed it came from */
  x: string;
}

export interface AlpacaQuote {
  t: string;
  bp: number;
  bs: number;
  ap: number;
  as: number;
  x: string;
}

export interface BarsQuery {
  timeframe: AlpacaTimeframe;
  /** RFC 3339 (or a date); default: `limit` bars back from `end` */
  start?: string;
  /** exclusive; default now */
  end?: string;
  /** 1..10000, default 1000 */
  limit?: number;
  page_token?: string;
}

export interface BarsResponse {
  symbol: string;
  bars: AlpacaBar[];
  next_page_token: string | null;
}

export interface LatestTradeResponse {
  symbol: string;
  trade: AlpacaTrade;
}
export interface LatestQuoteResponse {
  symbol: string;
  quote: AlpacaQuote;
}
export interface TradesResponse {
  symbol: string;
  /** newest first */
  trades: AlpacaTrade[];
  next_page_token: null;
}

export interface Snapshot {
  latestTrade: AlpacaTrade | null;
  latestQuote: AlpacaQuote | null;
  minuteBar: AlpacaBar | null;
  dailyBar: AlpacaBar | null;
  prevDailyBar: AlpacaBar | null;
}
export type SnapshotsResponse = Record<string, Snapshot>;

export interface InstrumentView {
  symbol: string;
  /** 'exchange' for symbols listed on our exchange, the feed id that quotes it, or 'import' (history only) */
  source: string;
  tradable: boolean;
  tick_size: number;
  lot_size: number;
  halted: boolean;
  last_price: number | null;
}
export interface InstrumentsResponse {
  instruments: InstrumentView[];
}

export interface DepthResponse {
  symbol: string;
  bids: { price: number; qty: number }[];
  asks: { price: number; qty: number }[];
  ts: string;
  source: string;
}

export interface NewsView {
  id: number;
  headline: string;
  summary: string | null;
  url: string | null;
  symbols: string[];
  created_at: string;
  source: string;
}
export interface NewsResponse {
  news: NewsView[];
}

export interface IndicatorsResponse {
  symbol: string;
  timeframe: AlpacaTimeframe;
  bars: AlpacaBar[];
  /** by canonical name ('sma:20', 'macd:12:26:9'): one entry per bar, null while warming up */
  indicators: Record<string, (Record<string, number> | null)[]>;
}

export interface Mover {
  symbol: string;
  price: number;
  change: number;
  percent_change: number;
  volume: number;
}
export interface MoversResponse {
  gainers: Mover[];
  losers: Mover[];
  most_active: Mover[];
  last_updated: string;
}
export interface AlertsResponse {
  alerts: { symbol: string; volume: number; average_volume: number; ratio: number; z_score: number | null }[];
  last_updated: string;
}

export interface MarketDataClient {
  bars(symbol: string, query: BarsQuery): Promise<BarsResponse>;
  latestTrade(symbol: string): Promise<LatestTradeResponse>;
  latestQuote(symbol: string): Promise<LatestQuoteResponse>;
  trades(symbol: string, query?: { limit?: number }): Promise<TradesResponse>;
  snapshots(symbols: readonly string[]): Promise<SnapshotsResponse>;
  instruments(): Promise<InstrumentsResponse>;
  depth(symbol: string, levels?: number): Promise<DepthResponse>;
  news(query?: { symbols?: readonly string[]; limit?: number }): Promise<NewsResponse>;
  indicators(
    symbol: string,
    query: { timeframe: AlpacaTimeframe; indicators: string; limit?: number },
  ): Promise<IndicatorsResponse>;
  movers(query?: { top?: number }): Promise<MoversResponse>;
  alerts(query?: { ratio?: number }): Promise<AlertsResponse>;
}

export interface MarketDataProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

export class MarketDataApiError extends Error {
  constructor(readonly problem: MarketDataProblem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'MarketDataApiError';
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface HttpMarketDataClientOptions {
  baseUrl: string;
  internalToken: string;
  /** who the calls are made for (default: a service identity, enough for every read) */
  identity?: ForwardedIdentity;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const SERVICE_IDENTITY: ForwardedIdentity = {
  userId: 'service',
  role: 'investor',
  brokerageId: null,
  username: 'service',
  accountId: 'service',
};

export function httpMarketDataClient(opts: HttpMarketDataClientOptions): MarketDataClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const headers = {
    accept: 'application/json',
    ...identityHeaders(opts.identity ?? SERVICE_IDENTITY, opts.internalToken),
  };
  const seg = encodeURIComponent;

  async function get<R>(path: string, query: Record<string, unknown> = {}): Promise<R> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    let res: Response;
    let text: string;
    const limit = deadline(timeoutMs);
    try {
      try {
        res = await doFetch(url, { headers, signal: limit.signal });
      } catch (err) {
        throw new MarketDataApiError({
          type: 'https://bourse.dev/problems/unavailable',
          title: 'Service unavailable',
          status: 503,
          detail: `market-data service unreachable: ${(err as Error).message}`,
        });
      }
      text = await res.text();
    } finally {
      limit.clear();
    }
    if (!res.ok) {
      let p: MarketDataProblem;
      try {
        p = JSON.parse(text) as MarketDataProblem;
      } catch {
        p = { type: 'https://bourse.dev/problems/http-error', title: res.statusText, status: res.status };
      }
      throw new MarketDataApiError(p);
    }
    return JSON.parse(text) as R;
  }

  return {
    bars: (symbol, q) => get(`/v2/stocks/${seg(symbol)}/bars`, { ...q }),
    latestTrade: (symbol) => get(`/v2/stocks/${seg(symbol)}/trades/latest`),
    latestQuote: (symbol) => get(`/v2/stocks/${seg(symbol)}/quotes/latest`),
    trades: (symbol, q = {}) => get(`/v2/stocks/${seg(symbol)}/trades`, { ...q }),
    snapshots: (symbols) => get('/v2/stocks/snapshots', { symbols: symbols.join(',') }),
    instruments: () => get('/v1/market-data/instruments'),
    depth: (symbol, levels) => get(`/v1/market-data/${seg(symbol)}/depth`, { levels }),
    news: (q = {}) => get('/v1/market-data/news', { symbols: q.symbols?.join(','), limit: q.limit }),
    indicators: (symbol, q) => get(`/v1/market-data/${seg(symbol)}/indicators`, { ...q }),
    movers: (q = {}) => get('/v1/market-data/movers', { ...q }),
    alerts: (q = {}) => get('/v1/market-data/alerts', { ...q }),
  };
}
