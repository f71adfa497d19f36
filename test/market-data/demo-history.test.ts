/**
 * The demo's seeded history: deterministic, ending at the demo's starting prices, every timeframe
 * built from the same minutes, only complete buckets; written once, and read back by the bars API
 * like any other candles. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_HISTORY_SOURCE, demoHistory, seedDemoHistory } from '../../src/cli/demo/history.ts';
import { type DemoSymbol, demoSymbols } from '../../src/cli/demo/market-maker.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { readBars, upsertBars } from '../../src/services/market-data/candles/store.ts';
import { type Bar, TIMEFRAME_MS, TIMEFRAMES } from '../../src/services/market-data/model.ts';
import { forEachDb } from '../support/db.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const NOW = Date.parse('2026-12-06T10:17:42Z');
const SYMBOLS: DemoSymbol[] = demoSymbols.slice(0, 2);
const cents = (x: number) => Math.round(x * 100);

describe('demo history', () => {
  const bars = demoHistory({ symbols: SYMBOLS, seed: 11, now: NOW, days: 2 });
  const of = (symbol: string, tf: string) => bars.filter((b) => b.symbol === symbol && b.timeframe === tf);

  it('is the same for the same seed, and another for another seed', () => {
    expect(demoHistory({ symbols: SYMBOLS, seed: 11, now: NOW, days: 2 })).toEqual(bars);
    const other = demoHistory({ symbols: SYMBOLS, seed: 12, now: NOW, days: 2 });
    expect(other.map((b) => b.c)).not.toEqual(bars.map((b) => b.c));
  });

  it('has every minute of the last day, five-minute and longer candles of all the days, complete buckets only, and ends at the starting price', () => {
    const end = NOW - (NOW % 60_000);
    for (const s of SYMBOLS) {
      const minutes = of(s.symbol, '1m');
      expect(minutes).toHaveLength(1440);
      expect(minutes.map((b) => b.t)).toEqual(minutes.map((_, i) => end - (1440 - i) * 60_000));
      const fives = of(s.symbol, '5m');
      const start = end - 2 * 86_400_000;
      expect(fives[0]!.t).toBe(start - (start % 300_000));
      expect(cents(minutes.at(-1)!.c)).toBe(s.price);
      for (const tf of TIMEFRAMES) {
        const list = of(s.symbol, tf);
        expect(list.length, tf).toBeGreaterThan(0);
        for (const b of list) {
          expect(b.t % TIMEFRAME_MS[tf]).toBe(0);
          expect(b.t + TIMEFRAME_MS[tf]).toBeLessThanOrEqual(end);
          expect(b.source).toBe(DEMO_HISTORY_SOURCE);
        }
      }
      // today's candle is still open: the live market's to build
      expect(of(s.symbol, '1d').map((b) => new Date(b.t).toISOString().slice(0, 10))).toEqual([
        '2026-12-04',
        '2026-12-05',
      ]);
    }
  });

  it('looks like a market: prices on the cent grid, OHLC consistent, moving, and the timeframes agree', () => {
    for (const s of SYMBOLS) {
      const minutes = of(s.symbol, '1m');
      for (const b of minutes) {
        for (const p of [b.o, b.h, b.l, b.c]) expect(cents(p) / 100).toBe(p);
        expect(b.l).toBeLessThanOrEqual(Math.min(b.o, b.c));
        expect(b.h).toBeGreaterThanOrEqual(Math.max(b.o, b.c));
        expect(b.v).toBeGreaterThan(0);
      }
      // each bar opens at the previous close: one continuous walk
      for (let i = 1; i < minutes.length; i++) expect(minutes[i]!.o).toBe(minutes[i - 1]!.c);
      expect(new Set(minutes.map((b) => b.c)).size).toBeGreaterThan(100);
      // an hour is its minutes (the hours of the last day)
      for (const hour of of(s.symbol, '1h').filter((h) => h.t >= minutes[0]!.t)) {
        const inside = minutes.filter((m) => m.t >= hour.t && m.t < hour.t + 3_600_000);
        expect(hour).toMatchObject({
          o: inside[0]!.o,
          c: inside.at(-1)!.c,
          h: Math.max(...inside.map((m) => m.h)),
          l: Math.min(...inside.map((m) => m.l)),
          v: inside.reduce((n, m) => n + m.v, 0),
        });
      }
    }
  });
});

forEachDb('demo history in the database', (makeDb) => {
  let db: Db;
  beforeAll(async () => {
    db = await makeDb();
  });
  afterAll(async () => db?.close());

  const stored = (symbol: string) =>
    readBars(db, { symbol, timeframe: '1m', start: 0, end: NOW + 1, limit: 100_000 });

  it('is written for the demo symbols without candles, once, leaving others alone', async () => {
    // MSFT already has a candle (a demo that ran before): it keeps its own
    const own: Bar = {
      symbol: 'MSFT',
      timeframe: '1m',
      t: NOW - 120_000,
      o: 1,
      h: 1,
      l: 1,
      c: 1,
      v: 1,
      vw: null,
      n: 1,
      source: 'exchange',
    };
    await upsertBars(db, [own]);
    expect(await seedDemoHistory(db, { symbols: SYMBOLS, seed: 11, now: NOW, days: 2 })).toEqual(['AAPL']);
    const aapl = await stored('AAPL');
    expect(aapl).toEqual(
      demoHistory({ symbols: SYMBOLS, seed: 11, now: NOW, days: 2 }).filter(
        (b) => b.symbol === 'AAPL' && b.timeframe === '1m',
      ),
    );
    expect(await stored('MSFT')).toEqual([own]);
    // a restart: nothing to write
    expect(await seedDemoHistory(db, { symbols: SYMBOLS, seed: 11, now: NOW + 60_000, days: 2 })).toEqual([]);
    expect(await stored('AAPL')).toHaveLength(aapl.length);
  });
});
