import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bar } from './indicators.ts';
import { movers, ohlc, type Snapshot, unusualVolume, volumeProfile, vwap } from './market.ts';

function close(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

const prints = fc.array(
  fc.record({ price: fc.integer({ min: 1, max: 100_000 }), qty: fc.integer({ min: 0, max: 10_000 }) }),
  { maxLength: 50 },
);

describe('vwap', () => {
  it('hand-computed', () => {
    expect(
      vwap([
        { price: 100, qty: 10 },
        { price: 110, qty: 30 },
      ]),
    ).toBe(107.5); // 4300 / 40
    expect(vwap([])).toBeNull();
    expect(vwap([{ price: 100, qty: 0 }])).toBeNull();
    expect(() => vwap([{ price: 100, qty: -1 }])).toThrow(/qty/);
  });

  it('is the volume-weighted mean and lies within the traded prices', () => {
    fc.assert(
      fc.property(prints, (ts) => {
        const traded = ts.filter((t) => t.qty > 0);
        const v = vwap(ts);
        if (traded.length === 0) {
          expect(v).toBeNull();
          return;
        }
        const q = traded.reduce((s, t) => s + t.qty, 0);
        // integers: the brute-force sums are exact
        expect(v).toBe(traded.reduce((s, t) => s + t.price * t.qty, 0) / q);
        expect(v!).toBeGreaterThanOrEqual(Math.min(...traded.map((t) => t.price)));
        expect(v!).toBeLessThanOrEqual(Math.max(...traded.map((t) => t.price)));
      }),
    );
  });
});

describe('volumeProfile', () => {
  it('hand-computed: five buckets of width 2 between 10 and 20', () => {
    const trades = [
      { price: 10, qty: 1 },
      { price: 12, qty: 2 },
      { price: 14, qty: 3 },
      { price: 20, qty: 4 },
      { price: 13.9, qty: 5 },
    ];
    expect(volumeProfile(trades, 5)).toEqual([
      { low: 10, high: 12, volume: 1 },
      { low: 12, high: 14, volume: 7 },
      { low: 14, high: 16, volume: 3 },
      { low: 16, high: 18, volume: 0 },
      { low: 18, high: 20, volume: 4 }, // the top bucket includes the maximum
    ]);
  });

  it('bars count at their typical price; one price gives one bucket; nothing gives none', () => {
    const bars: Bar[] = [
      { t: 0, o: 10, h: 11, l: 9, c: 10, v: 100 }, // typical 10
      { t: 1, o: 30, h: 33, l: 27, c: 30, v: 50 }, // typical 30
    ];
    expect(volumeProfile(bars, 2)).toEqual([
      { low: 10, high: 20, volume: 100 },
      { low: 20, high: 30, volume: 50 },
    ]);
    expect(
      volumeProfile(
        [
          { price: 7, qty: 2 },
          { price: 7, qty: 3 },
        ],
        10,
      ),
    ).toEqual([{ low: 7, high: 7, volume: 5 }]);
    expect(volumeProfile([], 10)).toEqual([]);
    expect(() => volumeProfile([], 0)).toThrow(/buckets/);
  });

  it('puts each trade in the bucket whose bounds contain it and keeps all volume', () => {
    const print = fc.record({
      price: fc.double({ min: 1, max: 1000, noNaN: true }),
      qty: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.array(print, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (ts, n) => {
          const prof = volumeProfile(ts, n);
          const prices = ts.map((t) => t.price);
          const min = Math.min(...prices);
          const max = Math.max(...prices);
          if (min === max) {
            expect(prof).toHaveLength(1);
            return;
          }
          expect(prof).toHaveLength(n);
          expect(prof[0]!.low).toBe(min);
          expect(prof[n - 1]!.high).toBe(max);
          prof.forEach((b, i) => {
            if (i > 0) expect(b.low).toBe(prof[i - 1]!.high);
            const inside = ts.filter(
              (t) => t.price >= b.low && (t.price < b.high || (i === n - 1 && t.price <= b.high)),
            );
            expect(b.volume).toBe(inside.reduce((s, t) => s + t.qty, 0));
          });
          expect(prof.reduce((s, b) => s + b.volume, 0)).toBe(ts.reduce((s, t) => s + t.qty, 0));
        },
      ),
    );
  });
});

describe('ohlc', () => {
  const bars: Bar[] = [
    { t: 0, o: 10, h: 12, l: 9, c: 11, v: 100 },
    { t: 60, o: 11, h: 15, l: 10, c: 14, v: 200 },
    { t: 120, o: 14, h: 14, l: 8, c: 9, v: 50 },
    { t: 180, o: 9, h: 10, l: 9, c: 10, v: 10 },
  ];

  it('hand-computed, whole and ranged (from inclusive, to exclusive)', () => {
    expect(ohlc(bars)).toEqual({ t: 0, o: 10, h: 15, l: 8, c: 10, v: 360 });
    expect(ohlc(bars, { from: 60, to: 180 })).toEqual({ t: 60, o: 11, h: 15, l: 8, c: 9, v: 250 });
    expect(ohlc(bars, { from: 1000, to: 2000 })).toBeNull();
    expect(ohlc([])).toBeNull();
    expect(bars[0]).toEqual({ t: 0, o: 10, h: 12, l: 9, c: 11, v: 100 }); // input untouched
  });

  it('agrees with brute force', () => {
    const bar = fc.record({
      o: fc.integer({ min: 1, max: 1e6 }),
      h: fc.integer({ min: 1, max: 1e6 }),
      l: fc.integer({ min: 1, max: 1e6 }),
      c: fc.integer({ min: 1, max: 1e6 }),
      v: fc.integer({ min: 0, max: 1e6 }),
    });
    fc.assert(
      fc.property(
        fc.array(bar, { maxLength: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        (rows, a, b) => {
          const bs = rows.map((r, i) => ({ t: i, ...r }));
          const inR = bs.filter((x) => x.t >= a && x.t < b);
          const got = ohlc(bs, { from: a, to: b });
          if (inR.length === 0) {
            expect(got).toBeNull();
            return;
          }
          expect(got).toEqual({
            t: inR[0]!.t,
            o: inR[0]!.o,
            h: Math.max(...inR.map((x) => x.h)),
            l: Math.min(...inR.map((x) => x.l)),
            c: inR[inR.length - 1]!.c,
            v: inR.reduce((s, x) => s + x.v, 0),
          });
        },
      ),
    );
  });
});

describe('movers', () => {
  const snaps: Snapshot[] = [
    { symbol: 'AAA', last: 110, prevClose: 100, volume: 500 }, // +10 %
    { symbol: 'BBB', last: 90, prevClose: 100, volume: 900 }, // −10 %
    { symbol: 'CCC', last: 105, prevClose: 100, volume: 0 }, // +5 %
    { symbol: 'DDD', last: 100, prevClose: 100, volume: 900 }, // flat
    { symbol: 'EEE', last: 70, prevClose: 100, volume: 100 }, // −30 %
    { symbol: 'FFF', last: 50, prevClose: 0, volume: 10 }, // no previous close
  ];

  it('hand-computed', () => {
    const m = movers(snaps, 2);
    expect(m.gainers.map((x) => [x.symbol, x.change, x.changeRatio])).toEqual([
      ['AAA', 10, 0.1],
      ['CCC', 5, 0.05],
    ]);
    expect(m.losers.map((x) => [x.symbol, x.changeRatio])).toEqual([
      ['EEE', -0.3],
      ['BBB', -0.1],
    ]);
    // a volume tie breaks by symbol
    expect(m.mostActive.map((x) => x.symbol)).toEqual(['BBB', 'DDD']);
    expect(movers(snaps, 0)).toEqual({ gainers: [], losers: [], mostActive: [] });
    expect(movers(snaps, 10).mostActive.map((x) => x.symbol)).toEqual(['BBB', 'DDD', 'AAA', 'EEE', 'FFF']);
    expect(() => movers(snaps, -1)).toThrow(/n must/);
  });

  it('agrees with sorting everything by hand', () => {
    const snap = fc.record({
      symbol: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G'),
      last: fc.integer({ min: 0, max: 1000 }),
      prevClose: fc.integer({ min: 0, max: 1000 }),
      volume: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(snap, { maxLength: 30 }), fc.integer({ min: 0, max: 10 }), (ss, n) => {
        const m = movers(ss, n);
        const ratio = (s: Snapshot) => (s.last - s.prevClose) / s.prevClose;
        const key = (s: Snapshot) => `${s.symbol}/${s.last}/${s.prevClose}/${s.volume}`;
        const rank = (xs: Snapshot[], better: (a: Snapshot, b: Snapshot) => boolean) =>
          // selection by repeated maximum, ties to the smaller symbol
          xs.reduce<{ left: Snapshot[]; out: Snapshot[] }>(
            (acc) => {
              if (acc.out.length >= n || acc.left.length === 0) return acc;
              const best = acc.left.reduce((a, b) =>
                better(b, a) || (!better(a, b) && b.symbol < a.symbol) ? b : a,
              );
              return { left: acc.left.filter((x) => x !== best), out: [...acc.out, best] };
            },
            { left: xs, out: [] },
          ).out;
        const up = ss.filter((s) => s.prevClose > 0 && s.last > s.prevClose);
        const down = ss.filter((s) => s.prevClose > 0 && s.last < s.prevClose);
        const active = ss.filter((s) => s.volume > 0);
        const same = (got: Snapshot[], want: Snapshot[]) => expect(got.map(key)).toEqual(want.map(key));
        same(
          m.gainers,
          rank(up, (a, b) => ratio(a) > ratio(b)),
        );
        same(
          m.losers,
          rank(down, (a, b) => ratio(a) < ratio(b)),
        );
        same(
          m.mostActive,
          rank(active, (a, b) => a.volume > b.volume),
        );
      }),
    );
  });
});

describe('unusualVolume', () => {
  it('hand-computed', () => {
    // mean 100, sample sd √((0 + 100 + 100 + 0 + 0) / 4) = √50
    const h = [100, 110, 90, 100, 100];
    const r = unusualVolume(h, 300);
    expect(r.unusual).toBe(true);
    expect(r.ratio).toBe(3);
    expect(close(r.z!, 200 / Math.sqrt(50))).toBe(true);
    // far above in z but not twice the mean
    expect(unusualVolume(h, 150).unusual).toBe(false);
    // twice the mean but within 3 sd
    expect(unusualVolume([10, 190, 10, 190], 200).unusual).toBe(false);
    // only the last `lookback` values count: [100, 100] has no spread → z null, ratio 3
    expect(unusualVolume([1e9, 1e9, 100, 100], 300, { lookback: 2 })).toEqual({
      unusual: true,
      ratio: 3,
      z: null,
    });
    expect(unusualVolume([100, 100, 100], 100)).toEqual({ unusual: false, ratio: 1, z: null });
    // without spread the z test needs strictly more than the baseline, even when the ratio test passes
    expect(unusualVolume([100, 100, 100], 100, { minRatio: 1 }).unusual).toBe(false);
    expect(unusualVolume([100, 100, 100], 101, { minRatio: 1 }).unusual).toBe(true);
    // a silent baseline: any volume is unusual
    expect(unusualVolume([0, 0, 0], 10)).toEqual({ unusual: true, ratio: null, z: null });
    expect(unusualVolume([0, 0, 0], 0).unusual).toBe(false);
    // too little history to judge
    expect(unusualVolume([5], 1000)).toEqual({ unusual: false, ratio: 200, z: null });
    expect(unusualVolume([], 1000)).toEqual({ unusual: false, ratio: null, z: null });
    expect(() => unusualVolume(h, 1, { lookback: 0 })).toThrow(/lookback/);
  });

  it('agrees with brute force', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0.5, max: 5, noNaN: true }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        (history, current, lookback, zScore, minRatio) => {
          const base = history.slice(Math.max(0, history.length - lookback));
          const got = unusualVolume(history, current, { lookback, zScore, minRatio });
          if (base.length < 2) {
            expect(got.unusual).toBe(false);
            return;
          }
          const m = base.reduce((s, x) => s + x, 0) / base.length;
          const sd = Math.sqrt(base.reduce((s, x) => s + (x - m) ** 2, 0) / (base.length - 1));
          const spread = base.some((x) => x !== base[0]);
          if (m > 0) expect(close(got.ratio!, current / m)).toBe(true);
          else expect(got.ratio).toBeNull();
          if (spread) expect(close(got.z!, (current - m) / sd, 1e-7)).toBe(true);
          else expect(got.z).toBeNull();
          const ratioOk = m > 0 ? current / m >= minRatio : current > 0;
          const zOk = spread ? (current - m) / sd >= zScore : current > m;
          // skip knife-edge cases where the two float paths may round to opposite sides
          const edge =
            (m > 0 && close(current / m, minRatio, 1e-9)) ||
            (spread && close((current - m) / sd, zScore, 1e-7));
          if (!edge) expect(got.unusual).toBe(ratioOk && zOk);
        },
      ),
    );
  });
});
