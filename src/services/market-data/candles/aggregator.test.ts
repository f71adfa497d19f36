import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bar, TIMEFRAME_MS, TIMEFRAMES } from '../model.ts';
import { createCandleAggregator } from './aggregator.ts';

interface T {
  symbol: string;
  price: number;
  size: number;
  ts: number;
}

/** The obvious way: group every trade by its bucket and fold. */
function reference(trades: readonly T[]): Map<string, Omit<Bar, 'source'>> {
  const out = new Map<string, Omit<Bar, 'source'>>();
  for (const tf of TIMEFRAMES) {
    const ms = TIMEFRAME_MS[tf];
    for (const t of trades) {
      const bucket = Math.floor(t.ts / ms) * ms;
      const k = `${t.symbol}|${tf}|${bucket}`;
      const b = out.get(k);
      if (!b) {
        out.set(k, {
          symbol: t.symbol,
          timeframe: tf,
          t: bucket,
          o: t.price,
          h: t.price,
          l: t.price,
          c: t.price,
          v: t.size,
          vw: t.price,
          n: 1,
        });
        continue;
      }
      b.h = Math.max(b.h, t.price);
      b.l = Math.min(b.l, t.price);
      b.c = t.price;
      b.vw = ((b.vw ?? 0) * b.v + t.price * t.size) / (b.v + t.size);
      b.v += t.size;
      b.n++;
    }
  }
  return out;
}

describe('candle aggregator', () => {
  it('builds OHLCV, VWAP and counts per UTC bucket', () => {
    const a = createCandleAggregator();
    const t0 = Date.UTC(2026, 0, 5, 14, 30, 0);
    a.add('AAA', 10, 100, t0 + 1_000, 'x');
    a.add('AAA', 12, 50, t0 + 20_000, 'x');
    a.add('AAA', 9, 50, t0 + 59_999, 'x');
    a.add('AAA', 11, 10, t0 + 60_000, 'x'); // next minute
    const bars = a.drain();
    const m1 = bars.filter((b) => b.timeframe === '1m');
    expect(m1).toEqual([
      {
        symbol: 'AAA',
        timeframe: '1m',
        t: t0,
        o: 10,
        h: 12,
        l: 9,
        c: 9,
        v: 200,
        vw: 10.25,
        n: 3,
        source: 'x',
      },
      {
        symbol: 'AAA',
        timeframe: '1m',
        t: t0 + 60_000,
        o: 11,
        h: 11,
        l: 11,
        c: 11,
        v: 10,
        vw: 11,
        n: 1,
        source: 'x',
      },
    ]);
    const d1 = bars.find((b) => b.timeframe === '1d')!;
    expect(d1).toMatchObject({ t: Date.UTC(2026, 0, 5), o: 10, h: 12, l: 9, c: 11, v: 210, n: 4 });
    expect(a.drain()).toEqual([]); // nothing changed since
  });

  it('leaves a late trade out of closed buckets and counts it', () => {
    const a = createCandleAggregator();
    a.add('AAA', 10, 1, 120_000, 'x');
    a.add('AAA', 99, 1, 60_000, 'x'); // an earlier minute: closed for 1m, same bucket for 5m and up
    expect(a.current('AAA', '1m')).toMatchObject({ t: 120_000, h: 10, n: 1 });
    expect(a.current('AAA', '5m')).toMatchObject({ t: 0, h: 99, n: 2 });
    expect(a.stats().late).toBe(1);
  });

  it('matches a brute-force reference on random trades in time order (fast-check)', () => {
    const trade = fc.record({
      symbol: fc.constantFrom('A', 'B'),
      price: fc.integer({ min: 1, max: 100_000 }).map((c) => c / 100),
      size: fc.integer({ min: 1, max: 1000 }),
      gap: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 7_200_000 })),
    });
    fc.assert(
      fc.property(
        fc.array(trade, { maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (raw, drainAt) => {
          let ts = Date.UTC(2026, 0, 1) - 3_600_000;
          const trades: T[] = raw.map((r) => ({
            symbol: r.symbol,
            price: r.price,
            size: r.size,
            ts: (ts += r.gap),
          }));
          const a = createCandleAggregator();
          const written = new Map<string, Bar>();
          const drain = () => {
            for (const b of a.drain()) written.set(`${b.symbol}|${b.timeframe}|${b.t}`, b);
          };
          const stops = new Set(drainAt.map((i) => i % Math.max(1, trades.length)));
          trades.forEach((t, i) => {
            a.add(t.symbol, t.price, t.size, t.ts, 'src');
            if (stops.has(i)) drain();
          });
          drain();
          const want = reference(trades);
          expect(written.size).toBe(want.size);
          for (const [k, w] of want) {
            const got = written.get(k)!;
            expect({ ...got, vw: null }).toEqual({ ...w, vw: null, source: 'src' });
            expect(got.vw).toBeCloseTo(w.vw!, 6);
          }
        },
      ),
    );
  });

  it('puts back a failed write and continues from a stored candle', () => {
    const a = createCandleAggregator();
    a.seed({
      symbol: 'AAA',
      timeframe: '1m',
      t: 60_000,
      o: 5,
      h: 6,
      l: 4,
      c: 5.5,
      v: 10,
      vw: 5,
      n: 2,
      source: 'x',
    });
    a.add('AAA', 7, 10, 61_000, 'x');
    const bars = a.drain().filter((b) => b.timeframe === '1m');
    expect(bars).toEqual([
      { symbol: 'AAA', timeframe: '1m', t: 60_000, o: 5, h: 7, l: 4, c: 7, v: 20, vw: 6, n: 3, source: 'x' },
    ]);
    a.requeue(bars);
    expect(a.drain().filter((b) => b.timeframe === '1m')).toEqual(bars);
  });
});
