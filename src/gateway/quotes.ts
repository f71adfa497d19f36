/**
 * Hot reads, cached: per-symbol market snapshots (last trade, top of book, depth) built from the
 * orders service's committed book and tape, and the instrument list. Entries live in the shared
 * cache for a short TTL and are dropped as soon as the bus says they changed (`md.trade.<SYMBOL>`,
 * `md.book.<SYMBOL>`; the instrument list, which carries last trade prices, on any trade, listing or
 * halt). A read that raced an invalidation can put back a
 * snapshot one event old; the TTL bounds that. Concurrent misses for one key share one fetch.
 *
 * In front of the shared cache, each gateway keeps the snapshots it read for LOCAL_MS (the same
 * bus events drop them): a hot symbol read a thousand times a second is then parsed once, not once
 * per read (a JSON.parse, or a Redis round trip), and the route can reuse its encoding (same
 * object). A snapshot is kept only if no invalidation of its symbol came while it was fetched.
 */
import type { Bus, Unsubscribe } from '../platform/bus/types.ts';
import type { Cache } from '../platform/cache/types.ts';
import { type Instrument, OrdersApiError } from '../services/orders/client.ts';
import { formatCents, formatInt } from './alpaca/decimal.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { OrdersCall } from './services.ts';

export const MAX_DEPTH = 10;

export interface Level {
  price: string;
  size: string;
  orders: number;
}

export interface Snapshot {
  symbol: string;
  latest_trade: { price: string; size: string; timestamp: string; trade_id: number } | null;
  latest_quote: { bid_price: string | null; bid_size: string; ask_price: string | null; ask_size: string };
  book: { bids: Level[]; asks: Level[] };
  seq: number;
}

export interface Quotes {
  /** null for a symbol the exchange does not list */
  snapshot(symbol: string, requestId: string): Promise<Snapshot | null>;
  instruments(requestId: string): Promise<Instrument[]>;
  close(): Promise<void>;
}

const snapshotKey = (symbol: string) => `gw:md:${symbol}`;
/** how long this process reuses a snapshot without asking the shared cache (at most the TTL) */
const LOCAL_MS = 250;
const INSTRUMENTS_KEY = 'gw:instruments';
/** what a miss for an unknown symbol stores, so that unknown symbols are cheap too */
const UNKNOWN = { unknown: true } as const;

export async function createQuotes(deps: {
  cache: Cache;
  bus?: Bus | undefined;
  orders: OrdersCall;
  config: GatewayConfig;
  metrics: GatewayMetrics;
}): Promise<Quotes> {
  const { cache, orders, config, metrics } = deps;
  const inflight = new Map<string, Promise<unknown>>();

  async function cached<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    const hit = await cache.get<T>(key);
    if (hit !== undefined) {
      metrics.cache.inc({ result: 'hit' });
      return hit;
    }
    metrics.cache.inc({ result: 'miss' });
    let pending = inflight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = load()
        .then(async (value) => {
          await cache.set(key, value, ttlMs);
          return value;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  }

  async function loadSnapshot(symbol: string, requestId: string): Promise<Snapshot | typeof UNKNOWN> {
    try {
      const [depth, tape] = await orders(requestId, true, (c) =>
        Promise.all([c.depth(symbol, MAX_DEPTH), c.symbolTrades(symbol, { limit: 1 })]),
      );
      const level = (l: { price: number; qty: number; orders: number }): Level => ({
        price: formatCents(l.price),
        size: formatInt(l.qty),
        orders: l.orders,
      });
      const bid = depth.bids[0];
      const ask = depth.asks[0];
      const last = tape.items[0];
      return {
        symbol,
        latest_trade: last
          ? {
              price: formatCents(last.price),
              size: formatInt(last.qty),
              timestamp: new Date(last.ts).toISOString(),
              trade_id: last.tradeId,
            }
          : null,
        latest_quote: {
          bid_price: bid ? formatCents(bid.price) : null,
          bid_size: formatInt(bid?.qty ?? 0),
          ask_price: ask ? formatCents(ask.price) : null,
          ask_size: formatInt(ask?.qty ?? 0),
        },
        book: { bids: depth.bids.map(level), asks: depth.asks.map(level) },
        seq: depth.seq,
      };
    } catch (err) {
      if (err instanceof OrdersApiError && err.status === 404) return UNKNOWN;
      throw err;
    }
  }

  /** this process's recent snapshots (null: not listed), and a count of invalidations per symbol */
  const local = new Map<string, { value: Snapshot | null; until: number }>();
  const invalidations = new Map<string, number>();
  const localMs = Math.min(LOCAL_MS, config.quoteTtlMs);
  const forget = (symbol: string): void => {
    local.delete(symbol);
    invalidations.set(symbol, (invalidations.get(symbol) ?? 0) + 1);
  };

  const unsubscribe: Unsubscribe[] = [];
  if (deps.bus) {
    const drop = (prefix: string) => (msg: { subject: string }) => {
      const symbol = msg.subject.slice(prefix.length);
      forget(symbol);
      void cache.delete(snapshotKey(symbol));
    };
    unsubscribe.push(
      await deps.bus.subscribe('md.trade.*', (msg) => {
        metrics.trades.inc();
        drop('md.trade.')(msg);
        // instruments carry the last trade price, which values positions
        void cache.delete(INSTRUMENTS_KEY);
      }),
      await deps.bus.subscribe('md.book.*', drop('md.book.')),
      await deps.bus.subscribe('orders.instrument', () => void cache.delete(INSTRUMENTS_KEY)),
      await deps.bus.subscribe('orders.halt', () => void cache.delete(INSTRUMENTS_KEY)),
    );
  }

  return {
    async snapshot(symbol, requestId) {
      const now = Date.now();
      const mine = local.get(symbol);
      if (mine !== undefined && mine.until > now) {
        metrics.cache.inc({ result: 'hit' });
        return mine.value;
      }
      const before = invalidations.get(symbol) ?? 0;
      const fetched = await cached(snapshotKey(symbol), config.quoteTtlMs, () =>
        loadSnapshot(symbol, requestId),
      );
      const value = 'unknown' in fetched ? null : fetched;
      if ((invalidations.get(symbol) ?? 0) === before) {
        // bounded like the shared cache's memory: the symbols listed, plus a few unknown ones
        if (local.size >= 10_000) local.clear();
        local.set(symbol, { value, until: now + localMs });
      }
      return value;
    },
    instruments: (requestId) =>
      cached(INSTRUMENTS_KEY, config.instrumentsTtlMs, () => orders(requestId, true, (c) => c.instruments())),
    async close() {
      await Promise.all(unsubscribe.map((u) => u()));
    },
  };
}
