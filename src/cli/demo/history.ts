/**
 * A few days of made-up history for the demo symbols, so a newcomer's first chart looks like a
 * market rather than a handful of candles. A seeded random walk per symbol, generated backwards
 * from the demo's starting price (the live market continues where the history ends), played as
 * trades through the market-data candle aggregator (the one that builds live candles), so every
 * timeframe agrees with the others (1-minute candles for the last day only). Only complete buckets
 * are written: the open ones are the live market's. Written once: a symbol that already has candles is left alone.
 */
import { seededRng } from '../../domain/random.ts';
import type { Queryable } from '../../platform/db/types.ts';
import { createCandleAggregator } from '../../services/market-data/candles/aggregator.ts';
import { readLastBars, upsertBars } from '../../services/market-data/candles/store.ts';
import { type Bar, TIMEFRAME_MS } from '../../services/market-data/model.ts';
import type { DemoSymbol } from './market-maker.ts';

export const DEMO_HISTORY_DAYS = 3;
/** 1-minute candles for the last day only: a chart page of them is a few hours; half the rows */
const MINUTE_BARS_DAYS = 1;
export const DEMO_HISTORY_SOURCE = 'demo-history';
const MINUTE = 60_000;
/** trades per minute: open, two inside the minute, close */
const TRADES = 4;

/** The candles of `days` days before `now`, for every timeframe, oldest first per symbol. */
export function demoHistory(opts: {
  symbols: readonly DemoSymbol[];
  seed: number;
  now: number;
  days?: number;
}): Bar[] {
  const minutes = (opts.days ?? DEMO_HISTORY_DAYS) * 1440;
  const end = opts.now - (opts.now % MINUTE);
  const start = end - minutes * MINUTE;
  const out: Bar[] = [];
  opts.symbols.forEach((s, k) => {
    // one stream per symbol: adding a symbol does not change the others' history
    const rng = seededRng((opts.seed * 1_000_003 + k * 7919) >>> 0);
    const sigma = s.volatility / Math.sqrt(1440);
    // closes, newest first, walking back from the starting price (cents, on the tick grid)
    const closes = new Array<number>(minutes);
    let p = s.price;
    for (let i = minutes - 1; i >= 0; i--) {
      closes[i] = p;
      p = Math.max(1, Math.round(p * Math.exp(-sigma * rng.normal())));
    }
    const agg = createCandleAggregator();
    let open = p;
    for (let i = 0; i < minutes; i++) {
      const close = closes[i]!;
      const t = start + i * MINUTE;
      const wiggle = Math.max(1, Math.round((Math.abs(close - open) + s.price * sigma) / 2));
      const prices = [
        open,
        Math.max(1, Math.max(open, close) + rng.int(0, wiggle)),
        Math.max(1, Math.min(open, close) - rng.int(0, wiggle)),
        close,
      ];
      for (let j = 0; j < TRADES; j++) {
        const size = rng.int(1, 40) * 10;
        agg.add(s.symbol, prices[j]! / 100, size, t + Math.floor((j * MINUTE) / TRADES), DEMO_HISTORY_SOURCE);
      }
      open = close;
    }
    const minutesFrom = end - MINUTE_BARS_DAYS * 1440 * MINUTE;
    for (const b of agg.drain()) {
      if (b.timeframe === '1m' && b.t < minutesFrom) continue;
      // the VWAP at the six decimals the store keeps: what is written is what was generated
      if (b.t + TIMEFRAME_MS[b.timeframe] <= end)
        out.push({ ...b, vw: b.vw === null ? null : Number(b.vw.toFixed(6)) });
    }
  });
  return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.t - b.t));
}

/** Writes the history of the demo symbols that have no candles yet; returns the symbols seeded. */
export async function seedDemoHistory(
  db: Queryable,
  opts: { symbols: readonly DemoSymbol[]; seed: number; now: number; days?: number },
): Promise<string[]> {
  const bare: DemoSymbol[] = [];
  for (const s of opts.symbols) {
    const [any] = await readLastBars(db, {
      symbol: s.symbol,
      timeframe: '1m',
      before: opts.now + 1,
      limit: 1,
    });
    if (!any) bare.push(s);
  }
  if (bare.length === 0) return [];
  // the seed stream of each symbol depends on its place in the full list, not in `bare`
  const bars = demoHistory({ ...opts }).filter((b) => bare.some((s) => s.symbol === b.symbol));
  await upsertBars(db, bars);
  return bare.map((s) => s.symbol);
}
