/**
 * Client-side indicators, used when the market-data service's indicator route is unavailable or
 * more bars are loaded than it was asked for. RSI, MACD and ATR with trading-signals, set up as
 * the service sets it up (src/domain/analytics/indicators.ts), so both draw the same lines.
 */
import { ATR, EMA, MACD, RSI } from 'trading-signals';
import type { Bar } from '../types.ts';

export type Series = { time: number; value: number }[];

export const timeOf = (b: Bar): number => Math.floor(Date.parse(b.t) / 1000);

export function sma(bars: Bar[], n: number): Series {
  const out: Series = [];
  let sum = 0;
  bars.forEach((b, i) => {
    sum += b.c;
    if (i >= n) sum -= bars[i - n]!.c;
    if (i >= n - 1) out.push({ time: timeOf(b), value: sum / n });
  });
  return out;
}

export function ema(bars: Bar[], n: number): Series {
  const out: Series = [];
  const k = 2 / (n + 1);
  let e: number | null = null;
  bars.forEach((b, i) => {
    e = e === null ? b.c : b.c * k + e * (1 - k);
    if (i >= n - 1) out.push({ time: timeOf(b), value: e });
  });
  return out;
}

export function bbands(bars: Bar[], n: number, mult = 2): { upper: Series; lower: Series } {
  const upper: Series = [];
  const lower: Series = [];
  for (let i = n - 1; i < bars.length; i++) {
    const w = bars.slice(i - n + 1, i + 1).map((b) => b.c);
    const mean = w.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const time = timeOf(bars[i]!);
    upper.push({ time, value: mean + mult * sd });
    lower.push({ time, value: mean - mult * sd });
  }
  return { upper, lower };
}

export function vwap(bars: Bar[]): Series {
  let pv = 0;
  let v = 0;
  return bars.map((b) => {
    pv += ((b.h + b.l + b.c) / 3) * b.v;
    v += b.v;
    return { time: timeOf(b), value: v === 0 ? b.c : pv / v };
  });
}

export const TIMEFRAMES = { '1Min': 60, '5Min': 300, '15Min': 900, '1Hour': 3600, '1Day': 86400 } as const;
export type Timeframe = keyof typeof TIMEFRAMES;

/** Folds a trade into candles of `seconds` (live candles when no bars route exists). */
export function foldTrade(
  bars: Bar[],
  seconds: number,
  priceDollars: number,
  size: number,
  ts: string,
): Bar[] {
  const at = Math.floor(Date.parse(ts) / 1000);
  const start = at - (at % seconds);
  const t = new Date(start * 1000).toISOString();
  const last = bars[bars.length - 1];
  if (last && last.t === t) {
    last.h = Math.max(last.h, priceDollars);
    last.l = Math.min(last.l, priceDollars);
    last.c = priceDollars;
    last.v += size;
    return bars;
  }
  if (last && Date.parse(last.t) > start * 1000) return bars; // late trade: ignore
  bars.push({ t, o: priceDollars, h: priceDollars, l: priceDollars, c: priceDollars, v: size });
  return bars;
}

export function rsi(bars: Bar[], n = 14): Series {
  const r = new RSI(n);
  const out: Series = [];
  for (const b of bars) {
    const v = r.update(b.c, false);
    if (v !== null) out.push({ time: timeOf(b), value: v });
  }
  return out;
}

export function macd(bars: Bar[]): { macd: Series; signal: Series; histogram: Series } {
  const m = new MACD(new EMA(12), new EMA(26), new EMA(9));
  const out = { macd: [] as Series, signal: [] as Series, histogram: [] as Series };
  for (const b of bars) {
    const r = m.update(b.c, false);
    // the library answers once the slow EMA is full, with a signal line of one value: wait for it
    if (r === null || !m.signal.isStable) continue;
    const time = timeOf(b);
    out.macd.push({ time, value: r.macd });
    out.signal.push({ time, value: r.signal });
    out.histogram.push({ time, value: r.histogram });
  }
  return out;
}

export function atr(bars: Bar[], n = 14): Series {
  const a = new ATR(n);
  const out: Series = [];
  for (const b of bars) {
    const v = a.update({ high: b.h, low: b.l, close: b.c }, false);
    if (v !== null) out.push({ time: timeOf(b), value: v });
  }
  return out;
}
