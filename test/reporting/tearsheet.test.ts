/**
 * The reports as a person gets them: tear-sheet PDFs read back with pdf.js (cover metrics, page
 * numbers, no replacement glyphs, page counts), formatted display blocks, curves that start at
 * the first funding, benchmarks from imported candles or our own exchange's trades, and a
 * 20-year market report, on PGlite and PostgreSQL.
 *
 * Account F is funded on 2026-01-15 (10,000.00), buys 100 GLOB at 50.00 that day; GLOB then
 * trades at 55.00 (Feb 2) and 45.00 (Mar 2). SPY has 20 years of imported daily candles, rising
 * 0.01 a day from 100.00. Account N is funded on 2026-04-01, the day NEWB first trades (at 10.00,
 * then 11.00 on Apr 2), with no candles at all.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, expect, it, vi } from 'vitest';
import type { Db } from '../../src/platform/db/types.ts';
import { forEachDb } from '../support/db.ts';
import {
  as,
  type Body,
  ensureCandles,
  fakeUsers,
  get,
  getJson,
  insertCash,
  insertTrade,
  pdfPages,
  pdfText,
  reportingApp,
  user,
} from './support.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

async function fixture(db: Db): Promise<void> {
  await ensureCandles(db);
  await db.query(
    `INSERT INTO md_candles (symbol, timeframe, bucket, open, high, low, close, volume, vwap, trades, source)
     SELECT 'SPY', '1d', d, 100 + n * 0.01, 100.5 + n * 0.01, 99.5 + n * 0.01, 100 + n * 0.01, 1000000 + n, NULL, 0, 'import'
       FROM generate_series('2006-05-01'::timestamptz, '2026-04-30'::timestamptz, interval '1 day') WITH ORDINALITY AS g(d, n)`,
  );
  await insertCash(db, { ts: '2026-01-15T09:00:00Z', account: 'F', kind: 'deposit', amount: 1_000_000 });
  await insertTrade(db, {
    ts: '2026-01-15T12:00:00Z',
    symbol: 'GLOB',
    price: 5_000,
    qty: 100,
    buyer: 'F',
    seller: 'MM',
  });
  await insertTrade(db, {
    ts: '2026-02-02T12:00:00Z',
    symbol: 'GLOB',
    price: 5_500,
    qty: 1,
    buyer: 'X',
    seller: 'MM',
  });
  await insertTrade(db, {
    ts: '2026-03-02T12:00:00Z',
    symbol: 'GLOB',
    price: 4_500,
    qty: 1,
    buyer: 'X',
    seller: 'MM',
  });
  await insertCash(db, { ts: '2026-04-01T09:00:00Z', account: 'N', kind: 'deposit', amount: 500_000 });
  await insertTrade(db, {
    ts: '2026-04-01T10:00:00Z',
    symbol: 'NEWB',
    price: 1_000,
    qty: 10,
    buyer: 'N',
    seller: 'MM',
  });
  await insertTrade(db, {
    ts: '2026-04-02T10:00:00Z',
    symbol: 'NEWB',
    price: 1_100,
    qty: 1,
    buyer: 'X',
    seller: 'MM',
  });
}

forEachDb('reporting: tear sheets a person can read', (makeDb) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const db = await makeDb();
    await fixture(db);
    app = await reportingApp(db, fakeUsers([user('F'), user('N')]), {
      now: () => Date.parse('2026-04-30T12:00:00Z'),
    });
  });

  it('starts the curve and every metric at the first funding, not at the start of the period', async () => {
    const p = await getJson<Body>(
      app,
      '/v1/reports/performance?from=2025-06-01&to=2026-03-31&benchmark=SPY',
      as('F'),
    );
    expect(p.started).toBe('2026-01-15');
    expect(p.equity_curve[0]).toMatchObject({ day: '2026-01-15', equity: '10000.00', flow: '10000.00' });
    expect(p.equity_curve).toHaveLength(76);
    expect(p.opening_equity).toBe('0.00');
    // the portfolio ends at 10,000 − 5,000 + 100 × 45 = 9,500: −5 %
    expect(p.time_weighted_return).toBeCloseTo(-0.05, 9);
    expect(p.benchmark.available).toBe(true);
    // SPY over the same days (its close on Jan 14 to its close on Mar 31)
    const n = (d: string) => (Date.parse(d) - Date.parse('2006-05-01')) / 86_400_000 + 1;
    expect(p.benchmark.return).toBeCloseTo(
      (100 + n('2026-03-31') * 0.01) / (100 + n('2026-01-14') * 0.01) - 1,
      9,
    );
    expect(p.display).toMatchObject({
      time_weighted_return: '−5.00%',
      closing_equity: '$9,500.00',
      net_flows: '$10,000.00',
      profit: '−$500.00',
      max_drawdown: expect.stringMatching(/^−\d+\.\d\d%$/),
    });
    expect(p.summary.find((s: Body) => s.key === 'max_drawdown')).toMatchObject({
      label: 'Max drawdown',
      // the peak is the latest day at the high-water mark (GLOB stayed at 55.00 until Mar 1)
      note: '1 Mar 2026 → 2 Mar 2026, not recovered',
    });
    expect(p.monthly_returns.map((m: Body) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(p.monthly_returns.reduce((a: number, m: Body) => a * (1 + m.return), 1)).toBeCloseTo(0.95, 9);
    expect(p.drawdowns.at(-1)).toEqual({
      day: '2026-03-31',
      drawdown: expect.closeTo(-(1 - 9_500 / 10_000 / 1.05), 9),
    });
    expect(p.cumulative_returns[0]).toEqual({ day: '2026-01-14', portfolio: 0, benchmark: 0 });
    expect(p.rolling_volatility.window_days).toBe(21);
    expect(p.rolling_volatility.points[19].volatility).toBeNull();
    expect(p.rolling_volatility.points[20].volatility).toBeGreaterThan(0);
  });

  it('compares with a benchmark that first trades on our exchange the day the account is funded', async () => {
    const p = await getJson<Body>(
      app,
      '/v1/reports/performance?from=2026-03-01&to=2026-04-02&benchmark=NEWB',
      as('N'),
    );
    expect(p.started).toBe('2026-04-01');
    expect(p.benchmark).toMatchObject({
      symbol: 'NEWB',
      available: true,
      priced_from: '2026-04-01',
      unavailable_reason: null,
    });
    // from its first trade (10.00) to its last close (11.00)
    expect(p.benchmark.return).toBeCloseTo(0.1, 9);
    const missing = await getJson<Body>(
      app,
      '/v1/reports/performance?from=2026-03-01&to=2026-04-02&benchmark=NOPE_X',
      as('N'),
    );
    expect(missing.benchmark).toMatchObject({
      available: false,
      unavailable_reason: 'NOPE_X has no price (no daily candle and no trade) up to 2026-04-02',
    });
    expect(missing.summary.find((s: Body) => s.key === 'benchmark_return').note).toMatch(
      /NOPE_X has no price/,
    );
  });

  it('writes the performance tear sheet: a cover of key metrics, page numbers, every glyph readable', async () => {
    const res = await get(app, '/v1/reports/performance?from=2025-06-01&to=2026-03-31&format=pdf', as('F'));
    expect(res.statusCode).toBe(200);
    const pdf = res.rawPayload;
    const pages = await pdfText(pdf);
    expect(pages.length).toBe(pdfPages(pdf));
    expect(pages.length).toBeLessThanOrEqual(3);
    const cover = pages[0]!;
    for (const text of [
      'Performance tear sheet',
      'Time-weighted return',
      '−5.00%',
      'Closing equity',
      '$9,500.00',
      'Max drawdown',
      '1 Mar 2026 → 2 Mar 2026',
      'Sharpe ratio',
      'Cumulative return against SPY',
      'history from 15 Jan 2026 (first funding)',
    ]) {
      expect(cover).toContain(text);
    }
    const all = pages.join('\n');
    for (const text of ['Drawdown (underwater)', 'Rolling volatility', 'Monthly returns', 'Jan', 'Dec'])
      expect(all).toContain(text);
    for (const [i, page] of pages.entries()) expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
    expect(all).not.toMatch(/\uFFFD/);
    expect(all).not.toContain('Daily equity');
    const withDaily = await get(
      app,
      '/v1/reports/performance?from=2025-06-01&to=2026-03-31&format=pdf&include=daily',
      as('F'),
    );
    expect((await pdfText(withDaily.rawPayload)).join('\n')).toContain('Daily equity');
  });

  it('reports 20 years of daily bars; the candle table only when asked for', async () => {
    const m = await getJson<Body>(app, '/v1/reports/market/SPY?from=2006-05-01&to=2026-04-30', as('F'));
    expect(m.bars).toBe(7305);
    expect(m.price_decimals).toBe(2);
    expect(m.display).toMatchObject({ close: '173.05', volume: expect.stringMatching(/^\d{1,3}(,\d{3})+$/) });
    expect(m.cagr).toBeGreaterThan(0);
    expect(m.monthly_returns).toHaveLength(240);

    const short = await get(app, '/v1/reports/market/SPY?from=2006-05-01&to=2026-04-30&format=pdf', as('F'));
    const pages = await pdfText(short.rawPayload);
    const long = await get(
      app,
      '/v1/reports/market/SPY?from=2006-05-01&to=2026-04-30&format=pdf&include=candles',
      as('F'),
    );
    const longPages = pdfPages(long.rawPayload);
    console.log(
      `market report PDF, 20 years of daily SPY: ${pages.length} pages; with include=candles: ${longPages}`,
    );
    expect(pages.length).toBeLessThanOrEqual(3);
    expect(longPages).toBeGreaterThan(100);
    expect(pages[0]).toContain('Market report: SPY');
    expect(pages[0]).toContain('Last close');
    expect(pages[0]).toContain('173.05');
    expect(pages.join('\n')).not.toContain('Candles');
    const year = await get(
      app,
      '/v1/reports/market/SPY?from=2025-05-01&to=2026-04-30&format=pdf&include=candles',
      as('F'),
    );
    const candlePages = await pdfText(year.rawPayload);
    expect(candlePages.at(-1)).toContain(`Page ${candlePages.length} of ${candlePages.length}`);
    // dates as dates, prices at the tick, volumes with separators
    expect(candlePages[5]).toMatch(/\d{1,2} [A-Z][a-z]{2} 20\d\d/);
    expect(candlePages[5]).not.toMatch(/T00:00/);
    expect(candlePages[5]).toMatch(/1,00\d,\d{3}/);
    expect(candlePages.join('\n')).not.toMatch(/\uFFFD/);

    const csv = await get(app, '/v1/reports/market/SPY?from=2026-04-28&to=2026-04-30&format=csv', as('F'));
    expect(csv.body.split('\r\n')[1]).toMatch(/^2026-04-28,173\.03,173\.53,172\.53,173\.03,100730\d,,/);
  });

  it('bounds intraday ranges by bar count, not days', async () => {
    const res = await get(app, '/v1/reports/market/SPY?from=2026-01-01&to=2026-01-20&timeframe=1m', as('F'));
    expect(res.statusCode).toBe(400);
    expect((res.json() as Body).errors[0].field).toBe('timeframe');
    const ok = await get(app, '/v1/reports/market/SPY?from=2026-01-01&to=2026-01-10&timeframe=1m', as('F'));
    expect(ok.statusCode).toBe(200);
    expect((await get(app, '/v1/reports/market/SPY?include=trades', as('F'))).statusCode).toBe(400);
  });
});
