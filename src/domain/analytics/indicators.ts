/**
 * Technical indicators over bars, one output point per input bar (null while warming up), so a
 * chart can zip them with the candles. SMA, EMA, RSI, MACD, Bollinger Bands and ATR come from
 * trading-signals (v8: `update(value, false)` appends a value, `true` would replace the last);
 * session VWAP is ours because it resets each UTC day.
 *
 * Conventions (those of trading-signals, pinned by the tests against brute-force versions):
 * - every indicator reads the close, except ATR (high, low, close) and VWAP (typical price
 *   (h + l + c) / 3, weighted by volume);
 * - single-valued indicators put their number under `value`; MACD under `macd`, `signal`,
 *   `histogram`; Bollinger Bands under `upper`, `middle`, `lower`;
 * - SMA(n): mean of the last n closes; first value at bar n − 1 (0-based);
 * - EMA(n): k = 2 / (n + 1), seeded with the first close (not with an SMA); reported from bar
 *   n − 1, once n closes have been seen;
 * - RSI(n), n ≥ 2: Wilder's smoothing of gains and losses (first average is the plain mean of the first
 *   n changes, then avg += (x − avg) / n); first value at bar n; 100 when the average loss is 0;
 * - MACD(fast, slow, signal): EMA(fast) − EMA(slow) as above, from bar slow − 1; the signal line
 *   is an EMA of that, and a point is reported only once the signal EMA has seen `signal`
 *   values, i.e. from bar slow + signal − 2 (bar 33 for 12/26/9);
 * - Bollinger Bands(n, k): SMA(n) ± k × population standard deviation of the same n closes;
 * - ATR(n): true range (the first bar's is h − l, having no previous close) smoothed with
 *   Wilder's method; first value at bar n − 1 (mean of the first n true ranges);
 * - VWAP: cumulative Σ(typical × v) / Σ v since the first bar of the bar's UTC day; null while
 *   the day's volume so far is 0.
 */
import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from 'trading-signals';

export interface Bar {
  /** start of the bar, epoch milliseconds */
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

export type IndicatorSpec =
  | { kind: 'sma' | 'ema' | 'rsi'; period: number }
  | { kind: 'macd'; fast?: number; slow?: number; signal?: number }
  | { kind: 'bbands'; period?: number; stdDev?: number }
  | { kind: 'vwap' }
  | { kind: 'atr'; period?: number };

export type IndicatorKind = IndicatorSpec['kind'];

export interface IndicatorPoint {
  t: number;
  values: Record<string, number> | null;
}

export const INDICATOR_DEFAULTS = {
  macd: { fast: 12, slow: 26, signal: 9 },
  bbands: { period: 20, stdDev: 2 },
  atr: { period: 14 },
} as const;

const DAY_MS = 86_400_000;

/** Thrown for a spec or list item that cannot be computed; `item` names the offending part. */
export class IndicatorSpecError extends Error {
  override name = 'IndicatorSpecError';
  constructor(
    readonly item: string,
    reason: string,
  ) {
    super(`bad indicator "${item}": ${reason}`);
  }
}

export function indicatorSeries(bars: readonly Bar[], spec: IndicatorSpec): IndicatorPoint[] {
  validateIndicatorSpec(spec);
  for (let i = 1; i < bars.length; i++) {
    if (bars[i]!.t < bars[i - 1]!.t) throw new RangeError(`bars must be in time order (bar ${i})`);
  }
  const point = (t: number, values: Record<string, number> | null): IndicatorPoint => ({ t, values });
  switch (spec.kind) {
    case 'sma': {
      const sma = new SMA(spec.period);
      return bars.map((b) => {
        const v = sma.update(b.c, false);
        return point(b.t, v === null ? null : { value: v });
      });
    }
    case 'ema': {
      const ema = new EMA(spec.period);
      return bars.map((b) => {
        const v = ema.update(b.c, false);
        return point(b.t, ema.isStable ? { value: v } : null);
      });
    }
    case 'rsi': {
      const rsi = new RSI(spec.period);
      return bars.map((b) => {
        const v = rsi.update(b.c, false);
        return point(b.t, v === null ? null : { value: v });
      });
    }
    case 'macd': {
      const { fast, slow, signal } = { ...INDICATOR_DEFAULTS.macd, ...definedOnly(spec) };
      const macd = new MACD(new EMA(fast), new EMA(slow), new EMA(signal));
      return bars.map((b) => {
        const r = macd.update(b.c, false);
        // the library reports as soon as the slow EMA is full, with a signal line of one value
        return point(
          b.t,
          r !== null && macd.signal.isStable
            ? { macd: r.macd, signal: r.signal, histogram: r.histogram }
            : null,
        );
      });
    }
    case 'bbands': {
      const { period, stdDev } = { ...INDICATOR_DEFAULTS.bbands, ...definedOnly(spec) };
      const bb = new BollingerBands(period, stdDev);
      return bars.map((b) => {
        const r = bb.update(b.c, false);
        return point(b.t, r === null ? null : { upper: r.upper, middle: r.middle, lower: r.lower });
      });
    }
    case 'atr': {
      const { period } = { ...INDICATOR_DEFAULTS.atr, ...definedOnly(spec) };
      const atr = new ATR(period);
      return bars.map((b) => {
        const v = atr.update({ high: b.h, low: b.l, close: b.c }, false);
        return point(b.t, v === null ? null : { value: v });
      });
    }
    case 'vwap': {
      let day = Number.NaN;
      let pv = 0;
      let vol = 0;
      return bars.map((b) => {
        const d = Math.floor(b.t / DAY_MS);
        if (d !== day) {
          day = d;
          pv = 0;
          vol = 0;
        }
        pv += ((b.h + b.l + b.c) / 3) * b.v;
        vol += b.v;
        return point(b.t, vol > 0 ? { value: pv / vol } : null);
      });
    }
  }
}

/** The number of leading null points `indicatorSeries` gives for a spec (VWAP: 0, volume permitting). */
export function warmUpBars(spec: IndicatorSpec): number {
  switch (spec.kind) {
    case 'sma':
    case 'ema':
      return spec.period - 1;
    case 'rsi':
      return spec.period;
    case 'macd': {
      const { slow, signal } = { ...INDICATOR_DEFAULTS.macd, ...definedOnly(spec) };
      return slow + signal - 2;
    }
    case 'bbands':
      return (spec.period ?? INDICATOR_DEFAULTS.bbands.period) - 1;
    case 'atr':
      return (spec.period ?? INDICATOR_DEFAULTS.atr.period) - 1;
    case 'vwap':
      return 0;
  }
}

/** Throws IndicatorSpecError (naming `name`, by default the spec's list form) unless every parameter is usable. */
export function validateIndicatorSpec(spec: IndicatorSpec, name: string = specName(spec)): void {
  const posInt = (label: string, x: number | undefined) => {
    if (x !== undefined && !(Number.isSafeInteger(x) && x >= 1)) {
      throw new IndicatorSpecError(name, `${label} must be a positive integer, got ${x}`);
    }
  };
  switch (spec.kind) {
    case 'sma':
    case 'ema':
    case 'rsi':
      if (spec.period === undefined) throw new IndicatorSpecError(name, 'period is required');
      posInt('period', spec.period);
      // trading-signals' RSI keeps a window of `period` closes and needs two of them to see a change
      if (spec.kind === 'rsi' && spec.period < 2)
        throw new IndicatorSpecError(name, 'period must be at least 2');
      return;
    case 'macd': {
      posInt('fast', spec.fast);
      posInt('slow', spec.slow);
      posInt('signal', spec.signal);
      const { fast, slow } = { ...INDICATOR_DEFAULTS.macd, ...definedOnly(spec) };
      if (fast >= slow) throw new IndicatorSpecError(name, `fast (${fast}) must be below slow (${slow})`);
      return;
    }
    case 'bbands':
      posInt('period', spec.period);
      if (spec.stdDev !== undefined && !(Number.isFinite(spec.stdDev) && spec.stdDev > 0)) {
        throw new IndicatorSpecError(name, `stdDev must be a positive number, got ${spec.stdDev}`);
      }
      return;
    case 'atr':
      posInt('period', spec.period);
      return;
    case 'vwap':
      return;
    default:
      throw new IndicatorSpecError(name, 'unknown kind');
  }
}

const ARITY: Record<IndicatorKind, { min: number; max: number; params: string }> = {
  sma: { min: 1, max: 1, params: 'sma:<period>' },
  ema: { min: 1, max: 1, params: 'ema:<period>' },
  rsi: { min: 1, max: 1, params: 'rsi:<period>' },
  macd: { min: 0, max: 3, params: 'macd[:<fast>[:<slow>[:<signal>]]]' },
  bbands: { min: 0, max: 2, params: 'bbands[:<period>[:<stdDev>]]' },
  vwap: { min: 0, max: 0, params: 'vwap' },
  atr: { min: 0, max: 1, params: 'atr[:<period>]' },
};

/**
 * Parses `sma:20,ema:50,rsi:14,macd,bbands:20:2,vwap,atr:14` (as in a query string). Kinds are
 * case-insensitive, blanks around items are ignored; an empty string is an empty list. Throws
 * IndicatorSpecError naming the first bad item.
 */
export function parseIndicatorList(list: string): IndicatorSpec[] {
  if (list.trim() === '') return [];
  return list.split(',').map((raw) => {
    const item = raw.trim();
    if (item === '') throw new IndicatorSpecError(raw, 'empty item');
    const [kindText, ...params] = item.split(':');
    const kind = kindText!.toLowerCase();
    if (!Object.hasOwn(ARITY, kind)) {
      throw new IndicatorSpecError(item, `unknown kind, expected one of ${Object.keys(ARITY).join(', ')}`);
    }
    const arity = ARITY[kind as IndicatorKind];
    if (params.length < arity.min || params.length > arity.max) {
      throw new IndicatorSpecError(item, `expected ${arity.params}`);
    }
    const int = (label: string, text: string): number => {
      if (!/^\d+$/.test(text) || !(Number(text) >= 1) || !Number.isSafeInteger(Number(text))) {
        throw new IndicatorSpecError(item, `${label} must be a positive integer, got "${text}"`);
      }
      return Number(text);
    };
    let spec: IndicatorSpec;
    switch (kind as IndicatorKind) {
      case 'sma':
      case 'ema':
      case 'rsi':
        spec = { kind: kind as 'sma' | 'ema' | 'rsi', period: int('period', params[0]!) };
        break;
      case 'macd': {
        const [fast, slow, signal] = params;
        spec = { kind: 'macd' };
        if (fast !== undefined) spec.fast = int('fast', fast);
        if (slow !== undefined) spec.slow = int('slow', slow);
        if (signal !== undefined) spec.signal = int('signal', signal);
        break;
      }
      case 'bbands': {
        const [period, stdDev] = params;
        spec = { kind: 'bbands' };
        if (period !== undefined) spec.period = int('period', period);
        if (stdDev !== undefined) {
          if (!/^\d+(\.\d+)?$/.test(stdDev)) {
            throw new IndicatorSpecError(item, `stdDev must be a positive number, got "${stdDev}"`);
          }
          spec.stdDev = Number(stdDev);
        }
        break;
      }
      case 'atr':
        spec = { kind: 'atr' };
        if (params[0] !== undefined) spec.period = int('period', params[0]);
        break;
      case 'vwap':
        spec = { kind: 'vwap' };
        break;
    }
    validateIndicatorSpec(spec, item);
    return spec;
  });
}

/** `sma:20`, `macd:12:26:9`: the canonical list form of a spec, defaults filled in. */
export function specName(spec: IndicatorSpec): string {
  switch (spec.kind) {
    case 'sma':
    case 'ema':
    case 'rsi':
      return `${spec.kind}:${spec.period}`;
    case 'macd': {
      const m = { ...INDICATOR_DEFAULTS.macd, ...definedOnly(spec) };
      return `macd:${m.fast}:${m.slow}:${m.signal}`;
    }
    case 'bbands': {
      const b = { ...INDICATOR_DEFAULTS.bbands, ...definedOnly(spec) };
      return `bbands:${b.period}:${b.stdDev}`;
    }
    case 'atr':
      return `atr:${spec.period ?? INDICATOR_DEFAULTS.atr.period}`;
    case 'vwap':
      return 'vwap';
    default:
      return String((spec as { kind: unknown }).kind);
  }
}

/** Drops explicitly undefined keys so that spreading over defaults keeps the defaults. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
