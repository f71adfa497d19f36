/**
 * Performance and market reports on a hand-computed fixture (rows inserted as the orders and
 * market-data services write them), on PGlite and PostgreSQL.
 *
 * Account A, symbol XYZ, no fees, all in UTC:
 *   day 1  deposit 10,000.00; buy 100 @ 50.00                      equity 5,000 + 5,000 = 10,000
 *   day 2  others trade XYZ @ 55.00                                 5,000 + 5,500 = 10,500
 *   day 3  A sells 10 @ 49.50 (FIFO −5.00, a loss)                  5,495 + 90 × 49.50 = 9,950
 *   day 4  deposit 1,000.00; others trade @ 52.00                  6,495 + 90 × 52 = 11,175
 *   day 5  A sells 50 @ 54.00 (FIFO +200.00, a win)                 9,195 + 40 × 54 = 11,355
 * Daily returns (flows at the start of the day): 0, 10,500/10,000 − 1, 9,950/10,500 − 1,
 * 11,175/(9,950 + 1,000) − 1, 11,355/11,175 − 1. SPY closes 400 (day 0) … 420 (day 5).
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
  insertCandle,
  insertCash,
  insertShares,
  insertTrade,
  pdfPages,
  reportingApp,
  user,
} from './support.ts';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'];
const at = (d: number, time = '12:00:00') => `${days[d]}T${time}Z`;

async function fixture(db: Db): Promise<void> {
  await ensureCandles(db);
  await insertCash(db, { ts: at(1, '09:00:00'), account: 'A', kind: 'deposit', amount: 1_000_000 });
  await insertTrade(db, { ts: at(1), symbol: 'XYZ', price: 5_000, qty: 100, buyer: 'A', seller: 'MM' });
  await insertTrade(db, { ts: at(2), symbol: 'XYZ', price: 5_500, qty: 5, buyer: 'X', seller: 'MM' });
  await insertTrade(db, { ts: at(3), symbol: 'XYZ', price: 4_950, qty: 10, buyer: 'MM', seller: 'A' });
  await insertCash(db, { ts: at(4, '09:00:00'), account: 'A', kind: 'deposit', amount: 100_000 });
  await insertTrade(db, { ts: at(4), symbol: 'XYZ', price: 5_200, qty: 7, buyer: 'X', seller: 'MM' });
  await insertTrade(db, { ts: at(5), symbol: 'XYZ', price: 5_400, qty: 50, buyer: 'MM', seller: 'A' });
  const spy = [400, 404, 402, 410, 412, 420];
  for (let d = 0; d < days.length; d++) {
    const c = spy[d]!;
    await insertCandle(db, 'SPY', days[d]!, { o: c - 1, h: c + 2, l: c - 3, c, v: 1000 * (d + 1) });
  }
  // account T only receives 10 XYZ on day 2 (before that day's trade at 55.00): a flow of 10 × 50.00
  await insertShares(db, { ts: at(2, '09:00:00'), account: 'T', symbol: 'XYZ', qty: 10, cost: 400 });
  // a second symbol with candles, for movers: falls 10 % over the period
  await insertCandle(db, 'DOWN', days[1]!, { o: 100, h: 101, l: 95, c: 96, v: 50 });
  await insertCandle(db, 'DOWN', days[5]!, { o: 95, h: 96, l: 89, c: 90, v: 70 });
}

const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

forEachDb('reporting: performance and market reports on a hand-computed fixture', (makeDb) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const db = await makeDb();
    await fixture(db);
    app = await reportingApp(db, fakeUsers([user('A')]), { now: () => Date.parse('2026-03-10T00:00:00Z') });
  });

  it('computes the equity curve, TWR, drawdown, volatility, Sharpe, win rate, turnover and benchmark', async () => {
    const p = await getJson<Body>(
      app,
      `/v1/reports/performance?from=${days[1]}&to=${days[5]}&benchmark=SPY`,
      as('A'),
    );
    expect(p.equity_curve.map((c: { equity: string }) => c.equity)).toEqual([
      '10000.00',
      '10500.00',
      '9950.00',
      '11175.00',
      '11355.00',
    ]);
    expect(p.opening_equity).toBe('0.00');
    expect(p.net_flows).toBe('11000.00');
    const r = [0, 10_500 / 10_000 - 1, 9_950 / 10_500 - 1, 11_175 / 10_950 - 1, 11_355 / 11_175 - 1];
    const twr = r.reduce((a, x) => a * (1 + x), 1) - 1;
    expect(p.time_weighted_return).toBeCloseTo(twr, 9);
    // the TWR index peaks on day 2 (1.05) and bottoms on day 3 (1.05 × 9,950 / 10,500); never recovers
    expect(p.max_drawdown).toEqual({
      value: expect.closeTo(1 - 9_950 / 10_500, 9),
      peak: days[2],
      trough: days[3],
      recovered: null,
    });
    expect(p.annualised_volatility).toBeCloseTo(sd(r) * Math.sqrt(252), 8);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    expect(p.sharpe_ratio).toBeCloseTo((mean / sd(r)) * Math.sqrt(252), 8);
    expect(p.closed_trades).toBe(2);
    expect(p.win_rate).toBe(0.5);
    // buys 5,000 + sells 495 + 2,700 over the average daily equity
    expect(p.traded_notional).toBe('8195.00');
    expect(p.turnover).toBeCloseTo(8_195 / ((10_000 + 10_500 + 9_950 + 11_175 + 11_355) / 5), 9);
    expect(p.benchmark.symbol).toBe('SPY');
    expect(p.benchmark.available).toBe(true);
    expect(p.benchmark.return).toBeCloseTo(420 / 400 - 1, 9);
    expect(p.benchmark.excess_return).toBeCloseTo(twr - (420 / 400 - 1), 9);

    const rf = await getJson<Body>(
      app,
      `/v1/reports/performance?from=${days[1]}&to=${days[5]}&risk_free=0.05`,
      as('A'),
    );
    const daily = 1.05 ** (1 / 252) - 1;
    const ex = r.map((x) => x - daily);
    expect(rf.sharpe_ratio).toBeCloseTo(
      (ex.reduce((a, b) => a + b, 0) / ex.length / sd(ex)) * Math.sqrt(252),
      8,
    );

    const csv = await get(app, `/v1/reports/performance?from=${days[1]}&to=${days[5]}&format=csv`, as('A'));
    expect(csv.body.split('\r\n')[0]).toBe(
      'Date,Equity (USD),Cash (USD),Positions value (USD),Net deposits (USD),Daily return (%),Cumulative return (%)',
    );
    expect(csv.body.split('\r\n')[4]).toMatch(/^2026-03-05,11175\.00,6495\.00,4680\.00,1000\.00,/);
    const pdf = await get(app, `/v1/reports/performance?from=${days[1]}&to=${days[5]}&format=pdf`, as('A'));
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfPages(pdf.rawPayload)).toBeGreaterThanOrEqual(1);
  });

  it('counts shares transferred in as an external flow, not as a return', async () => {
    const t = await getJson<Body>(app, `/v1/reports/performance?from=${days[2]}&to=${days[3]}`, as('T'));
    expect(t.net_flows).toBe('500.00');
    expect(t.equity_curve.map((c: Body) => [c.equity, c.daily_return])).toEqual([
      ['550.00', expect.closeTo(550 / 500 - 1, 9)],
      ['495.00', expect.closeTo(495 / 550 - 1, 9)],
    ]);
    expect(t.time_weighted_return).toBeCloseTo(495 / 500 - 1, 9);
  });

  it('answers an account without activity and a symbol without data with zeros and nulls, not errors', async () => {
    const none = await getJson<Body>(
      app,
      `/v1/reports/performance?from=${days[1]}&to=${days[5]}`,
      as('nobody'),
    );
    expect(none).toMatchObject({
      closing_equity: '0.00',
      time_weighted_return: null,
      sharpe_ratio: null,
      win_rate: null,
      turnover: null,
      max_drawdown: { value: 0, peak: null, trough: null },
    });
    // no history: no curve at all, rather than days of zeros before the account existed
    expect(none.equity_curve).toHaveLength(0);
    expect(none.started).toBeNull();
    expect(none.benchmark).toMatchObject({
      available: false,
      unavailable_reason: expect.stringMatching(/no history/),
    });
    const nothing = await getJson<Body>(
      app,
      `/v1/reports/market/NONE?from=${days[1]}&to=${days[5]}`,
      as('A'),
    );
    expect(nothing).toMatchObject({
      bars: 0,
      ohlc: null,
      vwap: null,
      realised_volatility: null,
      candles: [],
    });
    for (const format of ['csv', 'pdf']) {
      expect((await get(app, `/v1/reports/market/NONE?format=${format}`, as('A'))).statusCode).toBe(200);
      expect((await get(app, `/v1/reports/positions?format=${format}`, as('nobody'))).statusCode).toBe(200);
    }
  });

  it('analyses a symbol from its candles, with movers over the same period', async () => {
    const m = await getJson<Body>(app, `/v1/reports/market/SPY?from=${days[1]}&to=${days[5]}`, as('A'));
    expect(m.source).toBe('md_candles');
    expect(m.bars).toBe(5);
    expect(m.ohlc).toEqual({
      open: 403,
      high: 422,
      low: 399,
      close: 420,
      volume: 2000 + 3000 + 4000 + 5000 + 6000,
    });
    // no vwap column: each candle counts at its close
    const vw = (404 * 2000 + 402 * 3000 + 410 * 4000 + 412 * 5000 + 420 * 6000) / 20_000;
    expect(m.vwap).toBeCloseTo(vw, 6);
    expect(m.period_return).toBeCloseTo(420 / 403 - 1, 9);
    expect(m.max_drawdown).toMatchObject({ value: expect.closeTo(1 - 402 / 404, 9) });
    const lr = [402 / 404, 410 / 402, 412 / 410, 420 / 412].map(Math.log);
    expect(m.realised_volatility).toBeCloseTo(sd(lr) * Math.sqrt(252), 8);
    expect(m.volume_profile.reduce((s: number, b: { volume: number }) => s + b.volume, 0)).toBe(20_000);
    expect(m.movers.gainers.map((g: { symbol: string }) => g.symbol)).toEqual(['SPY']);
    expect(m.movers.losers).toEqual([
      { symbol: 'DOWN', open: 100, close: 90, change: -10, return: -0.1, volume: 120 },
    ]);

    // XYZ has no candles: built from our exchange's trades (cents → dollars)
    const x = await getJson<Body>(app, `/v1/reports/market/XYZ?from=${days[1]}&to=${days[5]}`, as('A'));
    expect(x.source).toBe('exchange_trades');
    expect(x.candles.map((c: { close: number }) => c.close)).toEqual([50, 55, 49.5, 52, 54]);
    expect(x.ohlc).toMatchObject({ open: 50, high: 55, low: 49.5, close: 54, volume: 172 });

    const csv = await get(app, `/v1/reports/market/SPY?from=${days[1]}&to=${days[5]}&format=csv`, as('A'));
    const lines = csv.body.trim().split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('Date,Open,High,Low,Close,Volume,VWAP,Return (%)');
    expect(lines[5]).toMatch(/^2026-03-06,419\.00,422\.00,417\.00,420\.00,6000,,1\.9417$/);
    const pdf = await get(app, `/v1/reports/market/SPY?from=${days[1]}&to=${days[5]}&format=pdf`, as('A'));
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
