/**
 * Our own exchange: the orders service's public bus events (md.trade.*, md.book.*), integer
 * cents turned into dollars.
 *
 * Order and duplicates: a trade's sequence is its tradeId (engine-wide, increasing); a book
 * message's is the journal seq of its commit. Book messages at or below the book's seq are
 * already in it and are not applied (the consolidator counts them as duplicates / out of order).
 *
 * Resynchronisation: the journal seq is global (most commands touch no given symbol), so a lost
 * book message cannot be seen as a gap in numbers. The book is therefore (re)built from a
 * snapshot, `orders.depth()`, which reports the seq it reflects: on start, on the first message
 * of a symbol, and whenever applying changes leaves the book crossed or a level negative (a sign
 * a message was lost). Messages arriving during the snapshot are buffered and those above its seq
 * applied after it.
 */
import { type BookMessage, subjects, type TradeMessage } from '../../orders/events.ts';
import type { FeedDefinition, Tick } from '../model.ts';
import type { AdapterHealth, Feed, FeedDeps } from './types.ts';

interface Book {
  bids: Map<number, number>;
  asks: Map<number, number>;
  seq: number;
  ts: number;
  bestBid: number;
  bestAsk: number;
  ready: boolean;
  syncing: boolean;
  pending: BookMessage[];
}

const SNAPSHOT_LEVELS = 1000;

function best(levels: Map<number, number>, bids: boolean): number {
  let b = bids ? 0 : Number.POSITIVE_INFINITY;
  for (const price of levels.keys()) if (bids ? price > b : price < b) b = price;
  return b;
}

export function createExchangeFeed(
  def: FeedDefinition,
  deps: FeedDeps,
): Feed & {
  /** resynchronise a symbol's book from the orders service now */
  resync(symbol: string): Promise<void>;
  resyncs(): number;
} {
  const { bus, orders, sink, logger } = deps;
  const books = new Map<string, Book>();
  let unsubscribe: (() => Promise<void>)[] = [];
  let health: AdapterHealth = { state: 'stopped', lastError: null };
  let resyncCount = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  const tick: Tick = {
    type: 'trade',
    source: def.id,
    symbol: '',
    ts: 0,
    seq: 0,
    price: 0,
    size: 0,
    bid: 0,
    bidSize: 0,
    ask: 0,
    askSize: 0,
  };

  function bookOf(symbol: string): Book {
    let b = books.get(symbol);
    if (!b) {
      b = {
        bids: new Map(),
        asks: new Map(),
        seq: 0,
        ts: 0,
        bestBid: 0,
        bestAsk: Number.POSITIVE_INFINITY,
        ready: false,
        syncing: false,
        pending: [],
      };
      books.set(symbol, b);
    }
    return b;
  }

  function emitQuote(symbol: string, b: Book, seq: number): void {
    tick.type = 'quote';
    tick.symbol = symbol;
    tick.ts = b.ts;
    tick.seq = seq;
    tick.bid = b.bestBid > 0 ? b.bestBid / 100 : 0;
    tick.bidSize = b.bestBid > 0 ? (b.bids.get(b.bestBid) ?? 0) : 0;
    tick.ask = Number.isFinite(b.bestAsk) ? b.bestAsk / 100 : 0;
    tick.askSize = Number.isFinite(b.bestAsk) ? (b.asks.get(b.bestAsk) ?? 0) : 0;
    sink.tick(tick);
  }

  /** false when the result is inconsistent (crossed): the caller resynchronises */
  function apply(b: Book, m: BookMessage): boolean {
    for (const l of m.levels) {
      const side = l.side === 'buy' ? b.bids : b.asks;
      if (l.qty > 0) side.set(l.price, l.qty);
      else side.delete(l.price);
    }
    b.seq = m.seq;
    b.ts = m.ts;
    b.bestBid = best(b.bids, true);
    b.bestAsk = best(b.asks, false);
    return b.bestBid === 0 || !Number.isFinite(b.bestAsk) || b.bestBid < b.bestAsk;
  }

  async function resync(symbol: string): Promise<void> {
    const b = bookOf(symbol);
    if (b.syncing) return;
    b.syncing = true;
    b.ready = false;
    resyncCount++;
    try {
      const depth = await orders.depth(symbol, SNAPSHOT_LEVELS);
      b.bids = new Map(depth.bids.map((l) => [l.price, l.qty]));
      b.asks = new Map(depth.asks.map((l) => [l.price, l.qty]));
      b.seq = depth.seq;
      b.ts = Math.max(b.ts, deps.clock.now());
      b.bestBid = best(b.bids, true);
      b.bestAsk = best(b.asks, false);
      b.ready = true;
      const pending = b.pending;
      b.pending = [];
      for (const m of pending) if (m.seq > b.seq) apply(b, m);
      if (health.state === 'error') health = { state: 'connected', lastError: health.lastError };
      // sequence 0: ordered by time (b.ts never goes back), as the snapshot's seq may not be
      // above the last quote's, and the rebuilt book must replace it all the same
      emitQuote(symbol, b, 0);
      sink.bookChanged(def.id, symbol);
    } catch (err) {
      health = { state: 'error', lastError: `depth ${symbol}: ${(err as Error).message}` };
      logger.warn({ err, symbol }, 'market-data: exchange book resync failed');
    } finally {
      b.syncing = false;
    }
  }

  function onBook(m: BookMessage): void {
    if (typeof m?.symbol !== 'string' || !Array.isArray(m.levels) || !Number.isSafeInteger(m.seq)) return;
    const b = bookOf(m.symbol);
    if (!b.ready) {
      b.pending.push(m);
      void resync(m.symbol);
      return;
    }
    if (m.seq <= b.seq) {
      // already in the book: let the consolidator count it
      emitQuote(m.symbol, b, m.seq);
      return;
    }
    if (!apply(b, m)) {
      logger.warn({ symbol: m.symbol, seq: m.seq }, 'market-data: exchange book crossed; resynchronising');
      b.pending = [];
      void resync(m.symbol);
      return;
    }
    emitQuote(m.symbol, b, m.seq);
    sink.bookChanged(def.id, m.symbol);
  }

  function onTrade(m: TradeMessage): void {
    if (
      typeof m?.symbol !== 'string' ||
      !(Number.isSafeInteger(m.tradeId) && m.tradeId >= 1) ||
      !Number.isSafeInteger(m.price)
    )
      return;
    tick.type = 'trade';
    tick.symbol = m.symbol;
    tick.ts = m.ts;
    tick.seq = m.tradeId;
    tick.price = m.price / 100;
    tick.size = m.qty;
    sink.tick(tick);
  }

  return {
    id: def.id,
    kind: 'exchange',
    definition: def,
    async start() {
      unsubscribe = await Promise.all([
        // trades per instance and durable when it has a stable name (a restarted instance catches
        // up; the consolidator drops repeats by tradeId); books live: a start resyncs them anyway
        bus.subscribe<TradeMessage>(
          subjects.allTrades,
          (msg) => onTrade(msg.data),
          deps.instanceId ? { durable: `market-data-trades-${deps.instanceId}-${def.id}` } : {},
        ),
        bus.subscribe<BookMessage>(subjects.allBooks, (msg) => onBook(msg.data)),
      ]);
      health = { state: 'connected', lastError: null };
      if (deps.timers) {
        // the orders service publishes nothing while nobody trades: ask it whether it is alive,
        // so that a quiet market does not make the feed stale (a dead service still does)
        heartbeat = setInterval(
          () => {
            orders.exchangeStatus().then(
              () => {
                if (health.state === 'error') health = { state: 'connected', lastError: health.lastError };
                sink.heartbeat(def.id);
              },
              (err: unknown) => {
                health = { state: 'error', lastError: `heartbeat: ${(err as Error).message}` };
              },
            );
          },
          Math.max(100, Math.min(10_000, Math.floor(def.staleAfterMs / 3))),
        );
        heartbeat.unref();
      }
      try {
        const instruments = await orders.instruments();
        await Promise.all(instruments.map((i) => resync(i.symbol)));
      } catch (err) {
        health = { state: 'error', lastError: `instruments: ${(err as Error).message}` };
      }
    },
    async stop() {
      clearInterval(heartbeat);
      const u = unsubscribe;
      unsubscribe = [];
      await Promise.all(u.map((f) => f()));
      health = { state: 'stopped', lastError: health.lastError };
    },
    health: () => health,
    book(symbol, levels) {
      const b = books.get(symbol);
      if (!b?.ready) return null;
      const side = (m: Map<number, number>, desc: boolean) =>
        [...m.entries()]
          .sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0]))
          .slice(0, levels)
          .map(([price, qty]) => ({ price: price / 100, qty }));
      return { symbol, bids: side(b.bids, true), asks: side(b.asks, false), ts: b.ts, source: def.id };
    },
    resync,
    resyncs: () => resyncCount,
  };
}
