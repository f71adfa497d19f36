/**
 * The market-data service: feeds (our exchange, simulators, news), consolidation, candles,
 * analytics and the live stream. README.md beside this file describes the rules and the API.
 *
 *   const md = await createMarketDataService({ db, bus, clock, logger, orders, users, internalToken });
 *   await md.register(app);   // public routes (/v2/stocks/..., /v1/market-data/...) and the stream
 *   md.client                 // the same reads in-process (client.ts)
 *   md.ingest(tick)           // push a tick as a feed would (benchmarks, tests)
 *   await md.close();         // stops feeds and timers, writes the last candles
 *
 * The database must be migrated (003_market_data.sql).
 */
import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Bus, Unsubscribe } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { InternalTokens } from '../../platform/http/forwarded-identity.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OrdersClient } from '../orders/client.ts';
import { subjects as ordersSubjects } from '../orders/events.ts';
import type { UsersClient } from '../users/client.ts';
import { alpacaSocketHandler, alpacaStreamRoute, createAlpacaStreamHub } from './alpaca-stream.ts';
import { createCandleAggregator } from './candles/aggregator.ts';
import { readOpenBars, upsertBars } from './candles/store.ts';
import type { MarketDataClient } from './client.ts';
import { ACCEPTED_PRIMARY, createConsolidator, type IngestOutcome } from './consolidation/consolidator.ts';
import type { MarketDataContext } from './context.ts';
import { type FeedsChangedMessage, mdSubjects, type NewsMessage } from './events.ts';
import { createFeedManager } from './feeds/manager.ts';
import type { NewsParsing } from './feeds/news.ts';
import { createInProcessClient } from './in-process-client.ts';
import {
  type MarketDataLeader,
  type MarketDataLeaderOptions,
  type MarketDataLeaderStatus,
  startMarketDataLeader,
} from './leader.ts';
import type { Bar, BookView, Tick } from './model.ts';
import { parseFeed, tagSymbols } from './news/index.ts';
import { createQuoteHistory } from './quote-history.ts';
import { marketDataRoutes } from './routes.ts';
import { createStreamHub, DEFAULT_STREAM_CONFIG, type StreamConfig, streamRoute } from './stream.ts';
import { createTradeTape } from './trade-tape.ts';

export type { MarketDataClient } from './client.ts';
export { httpMarketDataClient, MarketDataApiError } from './client.ts';
export type { Tick } from './model.ts';

export interface MarketDataConfig {
  /** run the schedules (feed steps, staleness sweeps, stream flushes, candle writes); default true */
  timers?: boolean;
  /** candle write interval, ms (default 1000) */
  flushIntervalMs?: number;
  /** conflated quote/book push and trade batch interval, ms (default 25) */
  streamIntervalMs?: number;
  /** staleness check interval, ms (default 250) */
  sweepIntervalMs?: number;
  /** simulated feed step interval, ms (default 100) */
  stepIntervalMs?: number;
  /** publish md.quote.* and md.bar.* on the bus (default true) */
  publish?: boolean;
  stream?: Partial<StreamConfig>;
  /** recent trades kept per symbol (default 1000) */
  tapeSize?: number;
  /** how news feeds fetch (tests) */
  fetch?: typeof fetch;
  /** the services' own address once they listen: news feeds whose URL is a path are fetched there */
  localUrl?: () => Promise<string>;
  /** the news parsing functions (default: ./news) */
  newsParsing?: NewsParsing;
  /**
   * BOURSE_INSTANCE_ID: this instance's stable name. With it, the exchange's trades (tape, candles)
   * come through a durable consumer of its own, so a restarted instance catches up on the trades
   * published while it was down; without it, a live subscription.
   */
  instanceId?: string;
  /**
   * Several instances on one PostgreSQL (`--role market-data`): elect the one that runs the
   * simulated feeds and writes and publishes bars and quotes (leader.ts). Absent: this instance
   * does all of it (PGlite, the all-in-one process, tests).
   */
  elect?: MarketDataLeaderOptions;
}

export interface MarketDataServiceDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  orders: OrdersClient;
  users: UsersClient;
  /** the shared token the gateway sends with forwarded identities (several while rotating) */
  internalToken: InternalTokens;
  config?: MarketDataConfig;
}

export interface MarketDataService {
  readonly client: MarketDataClient;
  register(app: FastifyInstance): Promise<void>;
  /** One tick as a feed would deliver it (from a known feed id); returns the consolidation outcome. */
  ingest(tick: Tick): IngestOutcome;
  /** Runs the schedules once by hand (config.timers false): feed steps and news polls, sweep, stream flush. */
  step(): Promise<void>;
  /** Writes the candles changed since the last write. */
  flush(): Promise<void>;
  /** Reloads the feeds from md_feeds. */
  reloadFeeds(): Promise<void>;
  stats(): {
    stream: { sockets: number; slowConsumerClosed: number; maxBufferedBytes: number };
    candles: { late: number; symbols: number };
  };
  /** the once-per-cluster work: does this instance lead it */
  leader(): MarketDataLeaderStatus;
  close(): Promise<void>;
}

export async function createMarketDataService(deps: MarketDataServiceDeps): Promise<MarketDataService> {
  const { db, bus, clock, orders, users } = deps;
  const logger = deps.logger.child({ service: 'market-data' });
  const config = deps.config ?? {};
  const timers = config.timers ?? true;
  const publish = config.publish ?? true;
  const streamConfig: StreamConfig = { ...DEFAULT_STREAM_CONFIG, ...config.stream };
  const instanceId = randomUUID();

  const consolidator = createConsolidator(clock);
  const candles = createCandleAggregator();
  const tape = createTradeTape(config.tapeSize ?? 1000);
  const hub = createStreamHub({ bus, logger, config: streamConfig });
  // the same live data in Alpaca's stream protocol (/v2/iex, /v2/sip)
  const alpacaHub = createAlpacaStreamHub(streamConfig);
  const dirtyQuotes = new Set<string>();
  const dirtyBooks = new Set<string>();
  let instrumentSymbols: string[] = [];

  for (const bar of await readOpenBars(db, clock.now())) candles.seed(bar);

  // Once per cluster: only the leader steps the simulated feeds (publishing each tick for the
  // others on md.sim.*), writes bars and publishes bars and quotes. Without election, this
  // instance is alone.
  const leader: MarketDataLeader | null = config.elect
    ? await startMarketDataLeader(db, logger, config.elect)
    : null;
  const leads = (): boolean => leader?.isLeader() ?? true;
  /** bars a follower drained without writing: requeued if it takes over, for a leader that died before writing them */
  let followerBars: { at: number; bars: Bar[] }[] = [];
  const FOLLOWER_BARS_MS = 30_000;

  const tradeOut = { symbol: '', price: 0, size: 0, ts: 0, source: '' };
  function ingest(tick: Tick): IngestOutcome {
    const outcome = consolidator.ingest(tick);
    if (outcome !== ACCEPTED_PRIMARY) return outcome;
    if (tick.type === 'trade') {
      candles.add(tick.symbol, tick.price, tick.size, tick.ts, tick.source);
      tape.push(tick.symbol, tick.price, tick.size, tick.ts, tick.source);
      tradeOut.symbol = tick.symbol;
      tradeOut.price = tick.price;
      tradeOut.size = tick.size;
      tradeOut.ts = tick.ts;
      tradeOut.source = tick.source;
      hub.trade(tradeOut);
      alpacaHub.trade(tradeOut);
    } else {
      dirtyQuotes.add(tick.symbol);
    }
    return outcome;
  }

  function bookOf(symbol: string, levels: number): BookView | null {
    const source = consolidator.primaryQuoteSource(symbol);
    const feed = source ? feeds.get(source) : undefined;
    return feed?.book?.(symbol, levels) ?? null;
  }

  const announce = (items: NewsMessage[]): void => {
    for (const item of items) {
      bus
        .publish(mdSubjects.news, item)
        .catch((err: unknown) => logger.warn({ err }, 'market-data: news publish'));
    }
  };

  const feeds = createFeedManager({
    db,
    bus,
    clock,
    logger,
    orders,
    fetch: config.fetch ?? fetch,
    localUrl: config.localUrl,
    instanceId: config.instanceId,
    consolidator,
    parsing: config.newsParsing ?? { parseFeed, tagSymbols },
    knownSymbols: () => knownSymbols(),
    onNews: announce,
    timers,
    sink: {
      tick(tick) {
        if (leader && feeds.get(tick.source)?.kind === 'simulated') {
          // a follower's own simulator does not count (it only stands ready); the leader's ticks
          // reach every instance through the bus
          if (!leader.isLeader()) return;
          bus
            .publish(mdSubjects.sim(tick.symbol), { ...tick })
            .catch((err: unknown) => logger.debug({ err }, 'md.sim publish'));
        }
        ingest(tick);
      },
      bookChanged(source, symbol) {
        if (consolidator.primaryQuoteSource(symbol) === source) dirtyBooks.add(symbol);
      },
      heartbeat(source) {
        const wasStale = consolidator.isStale(source);
        consolidator.touch(source);
        if (wasStale) for (const s of consolidator.symbols()) dirtyQuotes.add(s);
      },
    },
  });

  function knownSymbols(): string[] {
    const all = new Set(instrumentSymbols);
    for (const f of feeds.running()) for (const s of f.symbols?.() ?? []) all.add(s);
    for (const s of consolidator.symbols()) all.add(s);
    return [...all];
  }

  async function refreshInstruments(): Promise<void> {
    try {
      instrumentSymbols = (await orders.instruments()).map((i) => i.symbol);
    } catch (err) {
      logger.warn({ err }, 'market-data: instruments unavailable');
    }
  }

  const quoteHistory = createQuoteHistory(db, logger);

  function pushStream(): void {
    for (const symbol of dirtyQuotes) {
      const q = consolidator.quote(symbol);
      if (!q) continue;
      hub.quote(q);
      alpacaHub.quote(q);
      if (publish && leads()) {
        quoteHistory.record(q);
        bus
          .publish(mdSubjects.quote(symbol), q)
          .catch((err: unknown) => logger.debug({ err }, 'md.quote publish'));
      }
    }
    dirtyQuotes.clear();
    for (const symbol of dirtyBooks) {
      if (!hub.wantsBook(symbol)) continue;
      const b = bookOf(symbol, streamConfig.bookLevels);
      if (b) hub.book(b);
    }
    dirtyBooks.clear();
    hub.flush();
  }

  function sweep(): void {
    if (consolidator.sweep().length === 0) return;
    // the ranking changed: every symbol's consolidated view may have
    for (const s of consolidator.symbols()) {
      dirtyQuotes.add(s);
      dirtyBooks.add(s);
    }
  }

  /** simulated feeds only: news feeds poll on their own timers */
  async function stepFeeds(): Promise<void> {
    if (!leads()) return;
    for (const f of feeds.running()) if (f.kind === 'simulated') await f.step?.();
  }

  /** A follower's flush: its own clients get the closed bars; the leader writes and publishes them. */
  function followerFlush(bars: Bar[]): void {
    const now = clock.now();
    followerBars = followerBars.filter((b) => now - b.at < FOLLOWER_BARS_MS);
    followerBars.push({ at: now, bars });
    for (const b of bars) {
      const open = candles.current(b.symbol, b.timeframe);
      if (open !== null && open.t > b.t) {
        hub.bar(b);
        alpacaHub.bar(b);
      }
    }
  }

  async function flushOnce(): Promise<void> {
    const bars = candles.drain();
    if (bars.length === 0) return;
    if (!leads()) return followerFlush(bars);
    try {
      await upsertBars(db, bars);
    } catch (err) {
      candles.requeue(bars);
      logger.warn({ err, bars: bars.length }, 'market-data: candle write failed; will retry');
      return;
    }
    const closed: Bar[] = bars.filter((b) => {
      const open = candles.current(b.symbol, b.timeframe);
      return open !== null && open.t > b.t;
    });
    for (const b of closed) {
      hub.bar(b);
      alpacaHub.bar(b);
      if (publish)
        bus.publish(mdSubjects.bar(b.symbol), b).catch((err: unknown) => logger.debug({ err }, 'md.bar'));
    }
  }
  // one write at a time, in call order; a call during a write waits for it, then writes what is new
  let writes: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    writes = writes.then(flushOnce, flushOnce);
    return writes;
  };

  const ctx: MarketDataContext = {
    db,
    quoteHistory,
    clock,
    logger,
    orders,
    consolidator,
    candles,
    tape,
    feeds,
    internalToken: deps.internalToken,
    bookOf,
    knownSymbols,
    refreshInstruments,
    feedsChanged: async () => {
      await feeds.reload();
      await bus
        .publish(mdSubjects.feedsChanged, {
          origin: instanceId,
          ts: clock.now(),
        } satisfies FeedsChangedMessage)
        .catch((err: unknown) => logger.warn({ err }, 'market-data: feeds-changed publish'));
    },
  };

  await refreshInstruments();
  await feeds.reload();
  leader?.onChange((leading) => {
    if (!leading) return;
    // what the old leader may not have written: the bars this instance drained as a follower
    // (the store keeps the newest of each, and requeue keeps newer data in memory)
    candles.requeue(followerBars.flatMap((b) => b.bars));
    followerBars = [];
  });

  const unsubscribe: Unsubscribe[] = await Promise.all([
    bus.subscribe<NewsMessage>(mdSubjects.news, (msg) => {
      hub.news(msg.data);
      alpacaHub.news(msg.data);
    }),
    // a newly listed symbol is known at once (news tagging, instruments), not at the next minute's refresh
    bus.subscribe(ordersSubjects.instrument, () => void refreshInstruments()),
    // the leader's simulated ticks (a follower's simulators only stand ready)
    bus.subscribe<Tick>(mdSubjects.allSim, (msg) => {
      if (!leader || leader.isLeader()) return;
      const tick = msg.data;
      const feed = feeds.get(tick.source);
      if (feed?.kind !== 'simulated') return;
      // the standing simulator continues from here when it takes over (prices and sequences)
      feed.observe?.(tick);
      ingest(tick);
      if (tick.type === 'quote' && consolidator.primaryQuoteSource(tick.symbol) === tick.source)
        dirtyBooks.add(tick.symbol);
    }),
    bus.subscribe<FeedsChangedMessage>(mdSubjects.feedsChanged, (msg) => {
      if (msg.data?.origin === instanceId) return;
      feeds.reload().catch((err: unknown) => logger.warn({ err }, 'market-data: feed reload failed'));
    }),
  ]);

  const intervals: NodeJS.Timeout[] = [];
  if (timers) {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      intervals.push(t);
    };
    every(config.stepIntervalMs ?? 100, () => void stepFeeds());
    every(config.sweepIntervalMs ?? 250, sweep);
    every(config.streamIntervalMs ?? 25, pushStream);
    every(config.flushIntervalMs ?? 1000, () => {
      void flush();
      void quoteHistory.flush();
    });
    every(60_000, () => void refreshInstruments());
    every(3_600_000, () => {
      quoteHistory
        .prune(clock.now())
        .catch((err: unknown) => logger.warn({ err }, 'market-data: quote history prune failed'));
    });
  }

  let closed = false;
  return {
    client: createInProcessClient(ctx),
    async register(app) {
      if (!app.hasPlugin('@fastify/websocket')) {
        await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
      }
      // two sibling scopes: the stream authenticates by access token, not by forwarded identity
      await app.register(async (scope) =>
        marketDataRoutes(scope, ctx, alpacaSocketHandler({ users, hub: alpacaHub })),
      );
      await app.register(async (scope) => streamRoute(scope, { users, hub, config: streamConfig }));
      await app.register(async (scope) => alpacaStreamRoute(scope, { users, hub: alpacaHub }));
    },
    ingest,
    async step() {
      // by hand, news feeds poll too (with timers they keep their own interval); simulators only
      // on the leader
      for (const f of feeds.running()) if (f.kind !== 'simulated' || leads()) await f.step?.();
      sweep();
      pushStream();
    },
    flush,
    async reloadFeeds() {
      await refreshInstruments();
      await feeds.reload();
    },
    stats: () => ({ stream: hub.stats(), candles: candles.stats() }),
    leader: () => leader?.status() ?? { role: 'single', holder: null, epoch: 0 },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of intervals) clearInterval(t);
      await Promise.all(unsubscribe.map((u) => u().catch(() => {})));
      await feeds.stopAll();
      await hub.closeAll(1001, 'server shutting down');
      await alpacaHub.closeAll(1001, 'server shutting down');
      await flush();
      await quoteHistory.flush();
      await leader?.close();
      logger.info('market-data: closed');
    },
  };
}
