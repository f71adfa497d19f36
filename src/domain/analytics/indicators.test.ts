import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Bar,
  type IndicatorSpec,
  IndicatorSpecError,
  indicatorSeries,
  parseIndicatorList,
  warmUpBars,
} from './indicators.ts';

const DAY = 86_400_000;

function close(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

function expectSeries(
  actual: (Record<string, number> | null)[],
  expected: (Record<string, number> | null)[],
) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (e === null || a === null) {
      expect({ i, a }).toEqual({ i, a: e });
      return;
    }
    expect(Object.keys(a).sort()).toEqual(Object.keys(e).sort());
    for (const k of Object.keys(e)) {
      if (!close(a[k]!, e[k]!)) expect({ i, k, actual: a[k] }).toEqual({ i, k, actual: e[k] });
    }
  });
}

const closes = (cs: number[]): Bar[] => cs.map((c, i) => ({ t: i * 60_000, o: c, h: c, l: c, c, v: 1 }));
const values = (bars: Bar[], spec: IndicatorSpec) => indicatorSeries(bars, spec).map((p) => p.values);

// ---- brute-force references, written from the definitions in indicators.ts --------------------

function refSma(c: number[], n: number) {
  return c.map((_, i) =>
    i < n - 1 ? null : { value: c.slice(i - n + 1, i + 1).reduce((s, x) => s + x, 0) / n },
  );
}

function emaAll(xs: number[], n: number): number[] {
  const k = 2 / (n + 1);
  const out: number[] = [];
  for (const [i, x] of xs.entries()) out.push(i === 0 ? x : x * k + out[i - 1]! * (1 - k));
  return out;
}

function refEma(c: number[], n: number) {
  const e = emaAll(c, n);
  return c.map((_, i) => (i < n - 1 ? null : { value: e[i]! }));
}

function refRsi(c: number[], n: number) {
  const out: (Record<string, number> | null)[] = [null];
  let g = 0;
  let l = 0;
  for (let i = 1; i < c.length; i++) {
    const d = c[i]! - c[i - 1]!;
    const gain = Math.max(d, 0);
    const loss = d > 0 ? 0 : -d;
    if (i <= n) {
      g += gain / n;
      l += loss / n;
    } else {
      g = (g * (n - 1) + gain) / n;
      l = (l * (n - 1) + loss) / n;
    }
    out.push(i < n ? null : { value: l === 0 ? 100 : 100 - 100 / (1 + g / l) });
  }
  return out.slice(0, c.length);
}

function refMacd(c: number[], fast: number, slow: number, signal: number) {
  const ef = emaAll(c, fast);
  const es = emaAll(c, slow);
  const m = c.map((_, i) => ef[i]! - es[i]!);
  const s = emaAll(m.slice(slow - 1), signal);
  return c.map((_, i) => {
    if (i < slow + signal - 2) return null;
    const sig = s[i - (slow - 1)]!;
    return { macd: m[i]!, signal: sig, histogram: m[i]! - sig };
  });
}

function refBbands(c: number[], n: number, k: number) {
  return c.map((_, i) => {
    if (i < n - 1) return null;
    const w = c.slice(i - n + 1, i + 1);
    const mid = w.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(w.reduce((s, x) => s + (x - mid) ** 2, 0) / n);
    return { upper: mid + k * sd, middle: mid, lower: mid - k * sd };
  });
}

function refAtr(bars: Bar[], n: number) {
  const tr = bars.map((b, i) =>
    i === 0 ? b.h - b.l : Math.max(b.h - b.l, Math.abs(b.h - bars[i - 1]!.c), Math.abs(b.l - bars[i - 1]!.c)),
  );
  let atr = 0;
  return bars.map((_, i) => {
    if (i < n - 1) return null;
    atr = i === n - 1 ? tr.slice(0, n).reduce((s, x) => s + x, 0) / n : (atr * (n - 1) + tr[i]!) / n;
    return { value: atr };
  });
}

function refVwap(bars: Bar[]) {
  return bars.map((b, i) => {
    const day = bars.slice(0, i + 1).filter((x) => Math.floor(x.t / DAY) === Math.floor(b.t / DAY));
    const vol = day.reduce((s, x) => s + x.v, 0);
    const pv = day.reduce((s, x) => s + ((x.h + x.l + x.c) / 3) * x.v, 0);
    return vol > 0 ? { value: pv / vol } : null;
  });
}

// ---- generators -------------------------------------------------------------------------------

const price = fc.double({ min: 1, max: 1000, noNaN: true, noDefaultInfinity: true });
const arbBars = (maxLength: number) =>
  fc
    .array(
      fc.record({
        gap: fc.integer({ min: 0, max: 8 * 3600_000 }),
        c: price,
        up: fc.double({ min: 0, max: 20, noNaN: true }),
        down: fc.double({ min: 0, max: 20, noNaN: true }),
        v: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
      }),
      { maxLength },
    )
    .map((rows) => {
      let t = Date.UTC(2026, 0, 5, 14);
      return rows.map(({ gap, c, up, down, v }) => {
        t += gap;
        return { t, o: c, h: c + up, l: c - down, c, v };
      });
    });
const period = fc.integer({ min: 1, max: 30 });

describe('indicatorSeries: hand-computed', () => {
  it('SMA(3) of 1..5', () => {
    expectSeries(values(closes([1, 2, 3, 4, 5]), { kind: 'sma', period: 3 }), [
      null,
      null,
      { value: 2 },
      { value: 3 },
      { value: 4 },
    ]);
  });

  it('EMA(3) of 1..5, k = 0.5, seeded with the first close', () => {
    // 1, 1.5, 2.25, 3.125, 4.0625; reported from the 3rd close
    expectSeries(values(closes([1, 2, 3, 4, 5]), { kind: 'ema', period: 3 }), [
      null,
      null,
      { value: 2.25 },
      { value: 3.125 },
      { value: 4.0625 },
    ]);
  });

  it("RSI(2) with Wilder's smoothing", () => {
    // changes +1 −1 +1 +1: avg gain/loss 0.5/0.5 → 50; 0.75/0.25 → 75; 0.875/0.125 → 87.5
    expectSeries(values(closes([1, 2, 1, 2, 3]), { kind: 'rsi', period: 2 }), [
      null,
      null,
      { value: 50 },
      { value: 75 },
      { value: 87.5 },
    ]);
    // no losses at all: 100
    expect(values(closes([1, 2, 3]), { kind: 'rsi', period: 2 })[2]).toEqual({ value: 100 });
  });

  it('MACD(1, 2, 2) in thirds', () => {
    // EMA(1) = close; EMA(2) (k = 2/3): 1, 5/3, 23/9, 95/27; macd from bar 1: 1/3, 4/9, 13/27;
    // signal EMA(2) seeded at 1/3: 1/3, 11/27, 37/81; first reported at bar slow + signal − 2 = 2
    expectSeries(values(closes([1, 2, 3, 4]), { kind: 'macd', fast: 1, slow: 2, signal: 2 }), [
      null,
      null,
      { macd: 4 / 9, signal: 11 / 27, histogram: 1 / 27 },
      { macd: 13 / 27, signal: 37 / 81, histogram: 2 / 81 },
    ]);
  });

  it('MACD defaults 12/26/9 report from bar 33', () => {
    const pts = indicatorSeries(closes(Array.from({ length: 40 }, (_, i) => 100 + i)), { kind: 'macd' });
    expect(pts.findIndex((p) => p.values !== null)).toBe(33);
    expect(warmUpBars({ kind: 'macd' })).toBe(33);
  });

  it('Bollinger(8, 2) of the textbook 2,4,4,4,5,5,7,9 (mean 5, population sd 2)', () => {
    const v = values(closes([2, 4, 4, 4, 5, 5, 7, 9]), { kind: 'bbands', period: 8, stdDev: 2 });
    expect(v.slice(0, 7).every((x) => x === null)).toBe(true);
    expectSeries([v[7]!], [{ upper: 9, middle: 5, lower: 1 }]);
  });

  it('ATR(2): the first true range is h − l, a gap counts from the previous close', () => {
    const hlc: [number, number, number][] = [
      [10, 8, 9], // TR 2
      [13, 9, 12], // TR max(4, |13−9|, |9−9|) = 4 → ATR (2 + 4) / 2 = 3
      [12, 10, 11], // TR max(2, 0, 2) = 2 → (3 + 2) / 2 = 2.5
      [11, 7, 8], // TR max(4, 0, 4) = 4 → (2.5 + 4) / 2 = 3.25
      [20, 18, 19], // gap: TR max(2, 12, 10) = 12 → (3.25 + 12) / 2 = 7.625
    ];
    const bars = hlc.map(([h, l, c], i) => ({ t: i, o: c, h, l, c, v: 1 }));
    expectSeries(values(bars, { kind: 'atr', period: 2 }), [
      null,
      { value: 3 },
      { value: 2.5 },
      { value: 3.25 },
      { value: 7.625 },
    ]);
  });

  it('VWAP resets at UTC midnight and waits for volume', () => {
    const d1 = Date.UTC(2026, 2, 2, 14, 30);
    const d2 = Date.UTC(2026, 2, 3, 0, 0);
    const bars: Bar[] = [
      { t: d1, o: 10, h: 11, l: 9, c: 10, v: 100 }, // typical 10
      { t: d1 + 60_000, o: 12, h: 13, l: 11, c: 12, v: 300 }, // typical 12 → (1000 + 3600) / 400
      { t: d2, o: 20, h: 21, l: 19, c: 20, v: 0 }, // new day, no volume yet
      { t: d2 + 60_000, o: 20, h: 21, l: 19, c: 20, v: 50 },
    ];
    expectSeries(values(bars, { kind: 'vwap' }), [{ value: 10 }, { value: 11.5 }, null, { value: 20 }]);
  });

  it('keeps one point per bar with the bar times', () => {
    const bars = closes([5, 6, 7]);
    expect(indicatorSeries(bars, { kind: 'sma', period: 10 })).toEqual(
      bars.map((b) => ({ t: b.t, values: null })),
    );
    expect(indicatorSeries([], { kind: 'macd' })).toEqual([]);
  });

  it('refuses bad specs and unordered bars', () => {
    expect(() => indicatorSeries([], { kind: 'sma', period: 0 })).toThrow(IndicatorSpecError);
    expect(() => indicatorSeries([], { kind: 'rsi', period: 1 })).toThrow(/at least 2/);
    expect(() => indicatorSeries([], { kind: 'macd', fast: 26, slow: 12 })).toThrow(/fast/);
    expect(() => indicatorSeries([], { kind: 'bbands', stdDev: -1 })).toThrow(/stdDev/);
    expect(() => indicatorSeries(closes([1, 2]).reverse(), { kind: 'vwap' })).toThrow(/time order/);
  });
});

describe('indicatorSeries agrees with brute force', () => {
  const cs = (bars: Bar[]) => bars.map((b) => b.c);

  it('SMA, EMA, Bollinger', () => {
    fc.assert(
      fc.property(arbBars(80), period, fc.double({ min: 0.5, max: 4, noNaN: true }), (bars, n, k) => {
        expectSeries(values(bars, { kind: 'sma', period: n }), refSma(cs(bars), n));
        expectSeries(values(bars, { kind: 'ema', period: n }), refEma(cs(bars), n));
        expectSeries(values(bars, { kind: 'bbands', period: n, stdDev: k }), refBbands(cs(bars), n, k));
      }),
    );
  });

  it('RSI', () => {
    fc.assert(
      fc.property(arbBars(80), fc.integer({ min: 2, max: 30 }), (bars, n) => {
        expectSeries(values(bars, { kind: 'rsi', period: n }), refRsi(cs(bars), n));
      }),
    );
  });

  it('MACD', () => {
    fc.assert(
      fc.property(
        arbBars(80),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 15 }),
        period,
        (bars, fast, extra, signal) => {
          const slow = fast + extra;
          expectSeries(
            values(bars, { kind: 'macd', fast, slow, signal }),
            refMacd(cs(bars), fast, slow, signal),
          );
        },
      ),
    );
  });

  it('ATR and VWAP', () => {
    fc.assert(
      fc.property(arbBars(80), period, (bars, n) => {
        expectSeries(values(bars, { kind: 'atr', period: n }), refAtr(bars, n));
        expectSeries(values(bars, { kind: 'vwap' }), refVwap(bars));
      }),
    );
  });

  it('the warm-up is as documented', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<IndicatorSpec>(
          { kind: 'sma', period: 5 },
          { kind: 'ema', period: 7 },
          { kind: 'rsi', period: 14 },
          { kind: 'macd', fast: 3, slow: 8, signal: 4 },
          { kind: 'bbands' },
          { kind: 'atr' },
        ),
        fc.integer({ min: 0, max: 60 }),
        (spec, n) => {
          const pts = indicatorSeries(closes(Array.from({ length: n }, (_, i) => 50 + (i % 7))), spec);
          const firstValue = pts.findIndex((p) => p.values !== null);
          expect(firstValue).toBe(n > warmUpBars(spec) ? warmUpBars(spec) : -1);
          expect(pts.slice(firstValue === -1 ? n : firstValue).every((p) => p.values !== null)).toBe(true);
        },
      ),
    );
  });
});

describe('parseIndicatorList', () => {
  it('parses the documented example', () => {
    expect(parseIndicatorList('sma:20,ema:50,rsi:14,macd,bbands:20:2,vwap,atr:14')).toEqual([
      { kind: 'sma', period: 20 },
      { kind: 'ema', period: 50 },
      { kind: 'rsi', period: 14 },
      { kind: 'macd' },
      { kind: 'bbands', period: 20, stdDev: 2 },
      { kind: 'vwap' },
      { kind: 'atr', period: 14 },
    ]);
  });

  it('takes optional parameters, blanks and case', () => {
    expect(parseIndicatorList(' MACD:5:35:5 , bbands:10:2.5, atr ,bbands')).toEqual([
      { kind: 'macd', fast: 5, slow: 35, signal: 5 },
      { kind: 'bbands', period: 10, stdDev: 2.5 },
      { kind: 'atr' },
      { kind: 'bbands' },
    ]);
    expect(parseIndicatorList('')).toEqual([]);
  });

  it.each([
    ['sma', 'sma', /sma:<period>/],
    ['sma:20,foo:3', 'foo:3', /unknown kind/],
    ['ema:0', 'ema:0', /positive integer/],
    ['rsi:1', 'rsi:1', /at least 2/],
    ['rsi:14.5', 'rsi:14.5', /positive integer/],
    ['sma:-3', 'sma:-3', /positive integer/],
    ['vwap:5', 'vwap:5', /expected vwap/],
    ['bbands:20:x', 'bbands:20:x', /stdDev/],
    ['bbands:20:0', 'bbands:20:0', /stdDev/],
    ['macd:26:12:9', 'macd:26:12:9', /fast/],
    ['sma:5,,ema:3', '', /empty/],
  ])('%s names the bad item', (list, item, reason) => {
    let error: unknown;
    try {
      parseIndicatorList(list);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IndicatorSpecError);
    expect((error as IndicatorSpecError).item).toBe(item);
    expect((error as Error).message).toMatch(reason);
  });

  it('round-trips any valid list', () => {
    const spec = fc.oneof(
      fc.record({
        kind: fc.constantFrom('sma' as const, 'ema' as const),
        period: fc.integer({ min: 1, max: 500 }),
      }),
      fc.record({ kind: fc.constant('rsi' as const), period: fc.integer({ min: 2, max: 500 }) }),
      fc.integer({ min: 1, max: 50 }).chain((fast) =>
        fc.record({
          kind: fc.constant('macd' as const),
          fast: fc.constant(fast),
          slow: fc.integer({ min: fast + 1, max: 100 }),
          signal: fc.integer({ min: 1, max: 50 }),
        }),
      ),
      fc.record({
        kind: fc.constant('bbands' as const),
        period: fc.integer({ min: 1, max: 100 }),
        stdDev: fc.integer({ min: 1, max: 5 }),
      }),
      fc.record({ kind: fc.constant('atr' as const), period: fc.integer({ min: 1, max: 100 }) }),
      fc.constant({ kind: 'vwap' as const }),
    );
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 8 }), (specs) => {
        const text = specs.map((s) => [s.kind, ...Object.values(s).slice(1)].join(':')).join(',');
        expect(parseIndicatorList(text)).toEqual(specs);
      }),
    );
  });
});
