/**
 * One interface for every feed. A feed turns its source into Ticks (trades and quotes, dollars)
 * handed to `sink.tick`, and may keep an order book per symbol. Its health is what the adapter
 * knows (connected, stopped, error); silence (stale) and message counts are measured by the
 * consolidator, which sees every tick.
 */
import type { Bus } from '../../../platform/bus/types.ts';
import type { Clock } from '../../../platform/clock.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { OrdersClient } from '../../orders/client.ts';
import type { BookView, FeedDefinition, FeedKind, Tick } from '../model.ts';

export interface FeedSink {
  tick(tick: Tick): void;
  /** the feed's book of `symbol` changed (books are read lazily through `Feed.book`) */
  bookChanged(source: string, symbol: string): void;
  /** the feed is alive though it has no data (a quiet market is not a dead feed) */
  heartbeat(source: string): void;
}

export interface FeedDeps {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  orders: OrdersClient;
  sink: FeedSink;
  fetch: typeof fetch;
  /**
   * The services' own HTTP address (`http://127.0.0.1:<port>`), resolved once they listen. A news
   * feed whose URL is a path (the demo wire) is fetched there, asked at every poll: the internal
   * port changes with every start, so it is never stored.
   */
  localUrl?: (() => Promise<string>) | undefined;
  /** run the feeds' own schedules (heartbeats, polls); false in tests, which step by hand */
  timers: boolean;
  /** this instance's stable name: the exchange feed's trades then come through its own durable consumer */
  instanceId?: string | undefined;
}

export interface AdapterHealth {
  state: 'connected' | 'stopped' | 'error';
  lastError: string | null;
}

export interface Feed {
  readonly id: string;
  readonly kind: FeedKind;
  readonly definition: FeedDefinition;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): AdapterHealth;
  /** Clock-driven feeds produce what is due by now (the service calls it on a timer; tests by hand). */
  step?(): void | Promise<void>;
  /** top `levels` of the feed's book, best first */
  book?(symbol: string, levels: number): BookView | null;
  /** symbols the feed quotes (simulated feeds) */
  symbols?(): string[];
  /**
   * A tick of this feed produced elsewhere (the market-data leader's simulator): a standing
   * simulator takes its prices, sequences and time, so it continues from there if it takes over.
   */
  observe?(tick: Tick): void;
}
