/**
 * Candles (1m, 5m, 15m, 1h, 1d, UTC buckets) built in memory from trades, drained periodically
 * to the store. The hot path (`add`) updates five preallocated candles in place; an object is
 * made only when a bucket rolls over (one per symbol and timeframe per bucket).
 *
 * A trade older than a symbol's current bucket of some timeframe is not added to that timeframe
 * (its candle is closed, maybe already written); it is counted in `late`.
 */
import { type Bar, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../model.ts';

interface Slot {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  /** Σ price × size, for the VWAP */
  pv: number;
  n: number;
  source: string;
  /** changed since the last drain */
  dirty: boolean;
}

interface SymbolCandles {
  symbol: string;
  slots: Slot[];
  queued: boolean;
}

export interface CandleAggregator {
  add(symbol: string, price: number, size: number, ts: number, source: string): void;
  /** Candles changed since the last drain (closed ones first), each key once. */
  drain(): Bar[];
  /** Puts changed candles back after a failed write, unless newer data replaced them. */
  requeue(bars: readonly Bar[]): void;
  /** The symbol's current (open) candle of a timeframe. */
  current(symbol: string, timeframe: Timeframe): Bar | null;
  /** Continues from a stored candle (at start-up), if it is not older than what is in memory. */
  seed(bar: Bar): void;
  /** Undrained candles of a symbol and timeframe, oldest first (closed ones and the open one). */
  unflushed(symbol: string, timeframe: Timeframe): Bar[];
  stats(): { late: number; symbols: number };
}

const TF_COUNT = TIMEFRAMES.length;
const TF_MS = TIMEFRAMES.map((tf) => TIMEFRAME_MS[tf]);

function emptySlot(): Slot {
  return { t: -1, o: 0, h: 0, l: 0, c: 0, v: 0, pv: 0, n: 0, source: '', dirty: false };
}

function toBar(symbol: string, tf: number, s: Slot): Bar {
  return {
    symbol,
    timeframe: TIMEFRAMES[tf]!,
    t: s.t,
    o: s.o,
    h: s.h,
    l: s.l,
    c: s.c,
    v: s.v,
    vw: s.v > 0 ? s.pv / s.v : null,
    n: s.n,
    source: s.source,
  };
}

const keyOf = (b: Bar): string => `${b.symbol}|${b.timeframe}|${b.t}`;

export function createCandleAggregator(): CandleAggregator {
  const bySymbol = new Map<string, SymbolCandles>();
  let queue: SymbolCandles[] = [];
  /** closed candles not drained yet */
  let closed: Bar[] = [];
  let late = 0;

  function symbolOf(symbol: string): SymbolCandles {
    let s = bySymbol.get(symbol);
    if (!s) {
      s = { symbol, slots: Array.from({ length: TF_COUNT }, emptySlot), queued: false };
      bySymbol.set(symbol, s);
    }
    return s;
  }

  return {
    add(symbol, price, size, ts, source) {
      const sym = symbolOf(symbol);
      const slots = sym.slots;
      for (let i = 0; i < TF_COUNT; i++) {
        const ms = TF_MS[i]!;
        const bucket = ts - (((ts % ms) + ms) % ms);
        const s = slots[i]!;
        if (bucket !== s.t) {
          if (bucket < s.t) {
            late++;
            continue;
          }
          if (s.dirty) closed.push(toBar(symbol, i, s));
          s.t = bucket;
          s.o = s.h = s.l = price;
          s.v = 0;
          s.pv = 0;
          s.n = 0;
        } else {
          if (price > s.h) s.h = price;
          if (price < s.l) s.l = price;
        }
        s.c = price;
        s.v += size;
        s.pv += price * size;
        s.n++;
        s.source = source;
        s.dirty = true;
      }
      if (!sym.queued) {
        sym.queued = true;
        queue.push(sym);
      }
    },

    drain() {
      const out = closed;
      closed = [];
      const syms = queue;
      queue = [];
      for (const sym of syms) {
        sym.queued = false;
        for (let i = 0; i < TF_COUNT; i++) {
          const s = sym.slots[i]!;
          if (!s.dirty) continue;
          s.dirty = false;
          out.push(toBar(sym.symbol, i, s));
        }
      }
      // a failed write requeued a candle that may have changed again since: keep the last
      const seen = new Map<string, number>();
      const unique: Bar[] = [];
      for (const bar of out) {
        const k = keyOf(bar);
        const at = seen.get(k);
        if (at === undefined) {
          seen.set(k, unique.length);
          unique.push(bar);
        } else unique[at] = bar;
      }
      return unique;
    },

    requeue(bars) {
      for (const bar of bars) {
        const sym = bySymbol.get(bar.symbol);
        const i = TIMEFRAMES.indexOf(bar.timeframe);
        const s = sym?.slots[i];
        if (s && s.t === bar.t) {
          s.dirty = true;
          if (!sym!.queued) {
            sym!.queued = true;
            queue.push(sym!);
          }
        } else closed.push(bar);
      }
    },

    current(symbol, timeframe) {
      const s = bySymbol.get(symbol)?.slots[TIMEFRAMES.indexOf(timeframe)];
      return s && s.t >= 0 ? toBar(symbol, TIMEFRAMES.indexOf(timeframe), s) : null;
    },

    seed(bar) {
      const sym = symbolOf(bar.symbol);
      const s = sym.slots[TIMEFRAMES.indexOf(bar.timeframe)]!;
      if (s.t >= bar.t) return;
      s.t = bar.t;
      s.o = bar.o;
      s.h = bar.h;
      s.l = bar.l;
      s.c = bar.c;
      s.v = bar.v;
      s.pv = (bar.vw ?? bar.c) * bar.v;
      s.n = bar.n;
      s.source = bar.source;
      s.dirty = false;
    },

    unflushed(symbol, timeframe) {
      const out = closed.filter((b) => b.symbol === symbol && b.timeframe === timeframe);
      const i = TIMEFRAMES.indexOf(timeframe);
      const s = bySymbol.get(symbol)?.slots[i];
      if (s && s.t >= 0) out.push(toBar(symbol, i, s));
      return out;
    },

    stats: () => ({ late, symbols: bySymbol.size }),
  };
}
