/** What the routes and the in-process client share (built by index.ts). */
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { InternalTokens } from '../../platform/http/forwarded-identity.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OrdersClient } from '../orders/client.ts';
import type { CandleAggregator } from './candles/aggregator.ts';
import type { Consolidator } from './consolidation/consolidator.ts';
import type { FeedManager } from './feeds/manager.ts';
import type { BookView } from './model.ts';
import type { QuoteHistory } from './quote-history.ts';
import type { TradeTape } from './trade-tape.ts';

export interface MarketDataContext {
  db: Db;
  /** md_quotes: the quotes this service has streamed */
  quoteHistory: QuoteHistory;
  clock: Clock;
  logger: Logger;
  orders: OrdersClient;
  consolidator: Consolidator;
  candles: CandleAggregator;
  tape: TradeTape;
  feeds: FeedManager;
  internalToken: InternalTokens;
  bookOf(symbol: string, levels: number): BookView | null;
  knownSymbols(): string[];
  refreshInstruments(): Promise<void>;
  /** after an admin changed md_feeds: reload here and tell the other instances */
  feedsChanged(): Promise<void>;
}
