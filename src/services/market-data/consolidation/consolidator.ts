/**
 * Consolidation of many feeds into one view per symbol. Pure and clock-injected: no I/O, no
 * timers (the service calls `sweep` on a schedule, tests call it by hand).
 *
 * Rules (README.md):
 * - Sources are ranked by priority, lower first. The consolidated quote of a symbol is the latest
 *   quote of the best-ranked live source that has quoted it; the last trade likewise for trades.
 * - A source silent (no message at all) for longer than its staleAfterMs is stale: it drops out
 *   of every consolidated view until its next message, which restores it.
 * - Per source, symbol and message type, a message whose sequence is not above the last one is
 *   dropped: equal is a duplicate, lower is out of order. A source without sequences (seq 0) is
 *   ordered by timestamp: an older timestamp is out of order.
 * - Candles take the trades of the best-ranked live source that has traded the symbol, so that
 *   two feeds reporting the same market never count its volume twice. `ingest` says whether the
 *   trade is such a "primary" trade.
 *
 * The hot path allocates nothing per tick: per-source and per-symbol state is created once and
 * updated in place.
 */
import type { Quote, Tick, Trade } from '../model.ts';

export interface SourceInfo {
  id: string;
  /** lower is preferred */
  priority: number;
  staleAfterMs: number;
}

export const DROPPED_DUPLICATE = 0;
export const DROPPED_OUT_OF_ORDER = 1;
export const ACCEPTED = 2;
/** accepted, and the source is the symbol's primary one for this message type */
export const ACCEPTED_PRIMARY = 3;
export const DROPPED_UNKNOWN_SOURCE = 4;
export type IngestOutcome = 0 | 1 | 2 | 3 | 4;

export interface SourceStats {
  stale: boolean;
  lastMessageAt: number | null;
  /** at the last message: arrival time − event time */
  lagMs: number | null;
  messages: number;
  msgsPerSec: number;
  duplicates: number;
  outOfOrder: number;
}

interface SourceState extends SourceInfo {
  slot: number;
  registeredAt: number;
  stale: boolean;
  lastMessageAt: number | null;
  lagMs: number | null;
  messages: number;
  duplicates: number;
  outOfOrder: number;
  rateAt: number;
  rateCount: number;
  msgsPerSec: number;
}

interface PerSource {
  tradeSeq: number;
  tradeTs: number;
  hasTrade: boolean;
  price: number;
  size: number;
  quoteSeq: number;
  quoteTs: number;
  hasQuote: boolean;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
}

interface SymbolState {
  symbol: string;
  /** by source slot */
  bySlot: (PerSource | undefined)[];
  epoch: number;
  tradeSlot: number;
  quoteSlot: number;
}

export interface Consolidator {
  /** Replaces the set of sources; the state of those that stay is kept. */
  setSources(sources: readonly SourceInfo[]): void;
  ingest(tick: Tick): IngestOutcome;
  /** A sign of life without data (a feed's heartbeat): keeps the source live, restores it if stale. */
  touch(source: string): void;
  /** Marks silent sources stale; returns the ids whose state changed. */
  sweep(): string[];
  quote(symbol: string): Quote | null;
  lastTrade(symbol: string): Trade | null;
  /** the source whose book/quote is the symbol's consolidated one (best live with a quote) */
  primaryQuoteSource(symbol: string): string | null;
  isStale(source: string): boolean;
  stats(source: string): SourceStats | null;
  symbols(): string[];
}

const NONE = -1;

export function createConsolidator(clock: { now(): number }): Consolidator {
  const sources = new Map<string, SourceState>();
  /** by slot; a removed source leaves a hole so slots stay stable */
  const bySlot: (SourceState | undefined)[] = [];
  const symbols = new Map<string, SymbolState>();
  // bumped whenever the ranking of live sources may have changed; symbols recompute lazily
  let epoch = 1;

  function perSource(sym: SymbolState, slot: number): PerSource {
    let p = sym.bySlot[slot];
    if (!p) {
      p = {
        tradeSeq: 0,
        tradeTs: Number.NEGATIVE_INFINITY,
        hasTrade: false,
        price: 0,
        size: 0,
        quoteSeq: 0,
        quoteTs: Number.NEGATIVE_INFINITY,
        hasQuote: false,
        bid: 0,
        bidSize: 0,
        ask: 0,
        askSize: 0,
      };
      sym.bySlot[slot] = p;
    }
    return p;
  }

  function rank(sym: SymbolState): void {
    if (sym.epoch === epoch) return;
    sym.epoch = epoch;
    let trade = NONE;
    let quote = NONE;
    let tradePri = Number.POSITIVE_INFINITY;
    let quotePri = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < sym.bySlot.length; slot++) {
      const p = sym.bySlot[slot];
      const src = bySlot[slot];
      if (!p || !src || src.stale) continue;
      if (p.hasTrade && src.priority < tradePri) {
        tradePri = src.priority;
        trade = slot;
      }
      if (p.hasQuote && src.priority < quotePri) {
        quotePri = src.priority;
        quote = slot;
      }
    }
    sym.tradeSlot = trade;
    sym.quoteSlot = quote;
  }

  function symbolOf(symbol: string): SymbolState {
    let sym = symbols.get(symbol);
    if (!sym) {
      sym = { symbol, bySlot: [], epoch: 0, tradeSlot: NONE, quoteSlot: NONE };
      symbols.set(symbol, sym);
    }
    return sym;
  }

  return {
    setSources(list) {
      const now = clock.now();
      const keep = new Set(list.map((s) => s.id));
      for (const [id, src] of sources) {
        if (!keep.has(id)) {
          sources.delete(id);
          bySlot[src.slot] = undefined;
          for (const sym of symbols.values()) sym.bySlot[src.slot] = undefined;
        }
      }
      for (const info of list) {
        const existing = sources.get(info.id);
        if (existing) {
          existing.priority = info.priority;
          existing.staleAfterMs = info.staleAfterMs;
          continue;
        }
        let slot = bySlot.indexOf(undefined);
        if (slot === NONE) slot = bySlot.length;
        const src: SourceState = {
          ...info,
          slot,
          registeredAt: now,
          stale: false,
          lastMessageAt: null,
          lagMs: null,
          messages: 0,
          duplicates: 0,
          outOfOrder: 0,
          rateAt: now,
          rateCount: 0,
          msgsPerSec: 0,
        };
        sources.set(info.id, src);
        bySlot[slot] = src;
      }
      epoch++;
    },

    ingest(tick) {
      const src = sources.get(tick.source);
      if (!src) return DROPPED_UNKNOWN_SOURCE;
      const now = clock.now();
      src.lastMessageAt = now;
      src.lagMs = now - tick.ts;
      src.messages++;
      src.rateCount++;
      if (src.stale) {
        src.stale = false;
        epoch++;
      }
      const sym = symbolOf(tick.symbol);
      const p = perSource(sym, src.slot);
      if (tick.type === 'trade') {
        if (tick.seq > 0 ? tick.seq <= p.tradeSeq : tick.ts < p.tradeTs) {
          const dup = tick.seq > 0 && tick.seq === p.tradeSeq;
          if (dup) src.duplicates++;
          else src.outOfOrder++;
          return dup ? DROPPED_DUPLICATE : DROPPED_OUT_OF_ORDER;
        }
        if (tick.seq > 0) p.tradeSeq = tick.seq;
        p.tradeTs = tick.ts;
        p.price = tick.price;
        p.size = tick.size;
        if (!p.hasTrade) {
          p.hasTrade = true;
          sym.epoch = 0;
        }
        rank(sym);
        return sym.tradeSlot === src.slot ? ACCEPTED_PRIMARY : ACCEPTED;
      }
      if (tick.seq > 0 ? tick.seq <= p.quoteSeq : tick.ts < p.quoteTs) {
        const dup = tick.seq > 0 && tick.seq === p.quoteSeq;
        if (dup) src.duplicates++;
        else src.outOfOrder++;
        return dup ? DROPPED_DUPLICATE : DROPPED_OUT_OF_ORDER;
      }
      if (tick.seq > 0) p.quoteSeq = tick.seq;
      p.quoteTs = tick.ts;
      p.bid = tick.bid;
      p.bidSize = tick.bidSize;
      p.ask = tick.ask;
      p.askSize = tick.askSize;
      if (!p.hasQuote) {
        p.hasQuote = true;
        sym.epoch = 0;
      }
      rank(sym);
      return sym.quoteSlot === src.slot ? ACCEPTED_PRIMARY : ACCEPTED;
    },

    touch(source) {
      const src = sources.get(source);
      if (!src) return;
      src.lastMessageAt = clock.now();
      if (src.stale) {
        src.stale = false;
        epoch++;
      }
    },

    sweep() {
      const now = clock.now();
      const changed: string[] = [];
      for (const src of sources.values()) {
        const elapsed = now - src.rateAt;
        if (elapsed >= 1000) {
          src.msgsPerSec = Math.round((src.rateCount * 1000) / elapsed);
          src.rateCount = 0;
          src.rateAt = now;
        }
        if (src.stale) continue;
        const since = src.lastMessageAt ?? src.registeredAt;
        if (now - since > src.staleAfterMs) {
          src.stale = true;
          changed.push(src.id);
        }
      }
      if (changed.length > 0) epoch++;
      return changed;
    },

    quote(symbol) {
      const sym = symbols.get(symbol);
      if (!sym) return null;
      rank(sym);
      if (sym.quoteSlot === NONE) return null;
      const p = sym.bySlot[sym.quoteSlot]!;
      return {
        symbol,
        bid: p.bid,
        bidSize: p.bidSize,
        ask: p.ask,
        askSize: p.askSize,
        ts: p.quoteTs,
        source: bySlot[sym.quoteSlot]!.id,
      };
    },

    lastTrade(symbol) {
      const sym = symbols.get(symbol);
      if (!sym) return null;
      rank(sym);
      if (sym.tradeSlot === NONE) return null;
      const p = sym.bySlot[sym.tradeSlot]!;
      return { symbol, price: p.price, size: p.size, ts: p.tradeTs, source: bySlot[sym.tradeSlot]!.id };
    },

    primaryQuoteSource(symbol) {
      const sym = symbols.get(symbol);
      if (!sym) return null;
      rank(sym);
      return sym.quoteSlot === NONE ? null : bySlot[sym.quoteSlot]!.id;
    },

    isStale: (source) => sources.get(source)?.stale ?? false,

    stats(source) {
      const s = sources.get(source);
      if (!s) return null;
      return {
        stale: s.stale,
        lastMessageAt: s.lastMessageAt,
        lagMs: s.lagMs,
        messages: s.messages,
        msgsPerSec: s.msgsPerSec,
        duplicates: s.duplicates,
        outOfOrder: s.outOfOrder,
      };
    },

    symbols: () => [...symbols.keys()],
  };
}
