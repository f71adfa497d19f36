/**
 * Performance of an account over a period, from its daily equity curve (cash + positions marked
 * at each day's last trade, else the daily candle close):
 * - daily return r_d = E_d / (E_{d−1} + F_d) − 1, where F_d are the day's external flows, counted
 *   at the start of the day: deposits − withdrawals, and share transfers in − out valued at the
 *   last trade before them (a transfer in without one at its stated cost); 0 when nothing was
 *   invested;
 * - time-weighted return = Π(1 + r_d) − 1; max drawdown on that time-weighted index, so a
 *   withdrawal is not a loss;
 * - volatility, Sharpe (risk-free 0 unless given), win rate (FIFO closed trades in the period),
 *   turnover (buy + sell notional / average daily equity), and a benchmark comparison against
 *   the benchmark symbol's daily closes, from src/domain/analytics.
 */
import {
  annualisedVolatility,
  benchmarkComparison,
  maxDrawdown,
  sharpeRatio,
  turnover,
  winRate,
} from '../../domain/analytics/index.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
import { DAY_MS, dayOf, dayStart, money, type Period, ratio } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import { ledgerOf } from './positions.ts';
import { type DailyEquityRow, dailyEquity } from './queries.ts';

export interface PerformanceOptions {
  benchmark: string;
  riskFree: number;
}

export interface CurvePoint {
  day: string;
  equity: number;
  cash: number;
  positionsValue: number;
  flow: number;
  dailyReturn: number;
  index: number;
}

async function benchmarkCloses(db: Queryable, symbol: string, firstDay: string, lastDay: string) {
  // each day's latest daily close (carried forward over days without a candle), else our last trade
  const { rows } = await db.query<{ day: string; close: string | null }>(
    `SELECT to_char(d::date, 'YYYY-MM-DD') AS day, coalesce(
        (SELECT close::text FROM md_candles c WHERE c.symbol = $1 AND c.timeframe = '1d'
          AND c.bucket < (d::date + 1)::timestamptz ORDER BY bucket DESC LIMIT 1),
        (SELECT (price / 100.0)::text FROM trades t WHERE t.symbol = $1 AND t.ts < (d::date + 1)::timestamptz
          ORDER BY ts DESC, id DESC LIMIT 1)) AS close
       FROM generate_series($2::date, $3::date, interval '1 day') AS d ORDER BY d`,
    [symbol, firstDay, lastDay],
  );
  return rows;
}

export async function performance(db: Queryable, account: string, period: Period, opts: PerformanceOptions) {
  const baseDay = dayOf(dayStart(period.from) - DAY_MS);
  const rows: DailyEquityRow[] = await dailyEquity(db, account, baseDay, period.to);
  const curve: CurvePoint[] = [];
  let index = 1;
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1]!;
    const r = rows[i]!;
    const equity = r.cash + r.positions_value;
    const invested = prev.cash + prev.positions_value + r.flow;
    const dailyReturn = invested > 0 ? equity / invested - 1 : 0;
    index *= 1 + dailyReturn;
    curve.push({
      day: r.day,
      equity,
      cash: r.cash,
      positionsValue: r.positions_value,
      flow: r.flow,
      dailyReturn,
      index,
    });
  }
  const returns = curve.map((c) => c.dailyReturn);
  const base = rows[0]!;
  const indexPoints = [
    { t: dayStart(base.day), value: 1 },
    ...curve.map((c) => ({ t: dayStart(c.day), value: c.index })),
  ];
  const dd = maxDrawdown(indexPoints);

  // FIFO closed trades of the period (the ledger is replayed from the start for the cost basis)
  const closed: number[] = [];
  await ledgerOf(db, account, period.end.toISOString(), (t) => {
    if (t.at >= period.start.getTime()) closed.push(t.pnl);
  });
  const traded = rows.slice(1).reduce((s, r) => s + r.traded, 0);
  const avgEquity = curve.length > 0 ? curve.reduce((s, c) => s + c.equity, 0) / curve.length : 0;

  const bench = await benchmarkCloses(db, opts.benchmark, base.day, period.to);
  const benchPrices = bench.map((b) => (b.close === null ? null : Number(b.close)));
  const complete = benchPrices.every((p) => p !== null && p > 0);
  const comparison = complete
    ? benchmarkComparison(
        indexPoints.map((p) => p.value),
        benchPrices as number[],
      )
    : null;

  const at = (t: number | null) => (t === null ? null : dayOf(t));
  return {
    curve,
    metrics: {
      account,
      from: period.from,
      to: period.to,
      opening_equity: money(base.cash + base.positions_value),
      closing_equity: money(curve.length > 0 ? curve[curve.length - 1]!.equity : 0),
      net_flows: money(curve.reduce((s, c) => s + c.flow, 0)),
      time_weighted_return: ratio(index - 1),
      max_drawdown: {
        value: ratio(dd.maxDrawdown),
        peak: at(dd.peakAt),
        trough: at(dd.troughAt),
        recovered: at(dd.recoveredAt),
      },
      annualised_volatility: ratio(annualisedVolatility(returns)),
      sharpe_ratio: ratio(sharpeRatio(returns, opts.riskFree)),
      risk_free: opts.riskFree,
      closed_trades: closed.length,
      win_rate: ratio(winRate(closed)),
      traded_notional: money(traded),
      turnover: ratio(turnover(traded, avgEquity)),
      benchmark: {
        symbol: opts.benchmark,
        available: comparison !== null,
        return: ratio(comparison?.benchmarkReturn ?? null),
        excess_return: ratio(comparison?.excessReturn ?? null),
        beta: ratio(comparison?.beta ?? null),
        correlation: ratio(comparison?.correlation ?? null),
        tracking_error: ratio(comparison?.trackingError ?? null),
      },
      unmarked_days: rows.slice(1).filter((r) => r.unmarked > 0).length,
    },
  };
}

export type PerformanceReport = Awaited<ReturnType<typeof performance>>;

export function performanceJson(p: PerformanceReport) {
  return {
    ...p.metrics,
    equity_curve: p.curve.map((c) => ({
      day: c.day,
      equity: money(c.equity),
      cash: money(c.cash),
      positions_value: money(c.positionsValue),
      flow: money(c.flow),
      daily_return: ratio(c.dailyReturn),
      index: ratio(c.index),
    })),
  };
}

export const PERFORMANCE_CSV_HEADER = [
  'day',
  'equity',
  'cash',
  'positions_value',
  'flow',
  'daily_return',
  'index',
];

export function* performanceCsvRows(p: PerformanceReport): Generator<Cell[]> {
  for (const c of performanceJson(p).equity_curve) {
    yield [c.day, c.equity, c.cash, c.positions_value, c.flow, c.daily_return, c.index];
  }
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);

export function performancePdf(p: PerformanceReport): PdfSpec {
  const m = p.metrics;
  return {
    title: 'Performance',
    subtitle: `Account ${m.account} · ${m.from} to ${m.to} (UTC, inclusive) · benchmark ${m.benchmark.symbol}`,
    summary: [
      ['Opening equity', m.opening_equity],
      ['Closing equity', m.closing_equity],
      ['Net deposits', m.net_flows],
      ['Time-weighted return', pct(m.time_weighted_return)],
      [
        'Max drawdown',
        `${pct(m.max_drawdown.value)} (${m.max_drawdown.peak ?? '-'} → ${m.max_drawdown.trough ?? '-'})`,
      ],
      ['Annualised volatility', pct(m.annualised_volatility)],
      ['Sharpe ratio', m.sharpe_ratio === null ? 'n/a' : m.sharpe_ratio.toFixed(3)],
      ['Win rate', `${pct(m.win_rate)} of ${m.closed_trades} closed trades`],
      ['Turnover', m.turnover === null ? 'n/a' : m.turnover.toFixed(3)],
      [`Benchmark ${m.benchmark.symbol} return`, pct(m.benchmark.return)],
      ['Excess return', pct(m.benchmark.excess_return)],
    ],
    charts: [
      { title: 'Equity curve (USD)', points: p.curve.map((c) => ({ label: c.day, value: c.equity / 100 })) },
    ],
    tables: [
      {
        title: 'Daily equity',
        columns: [
          { name: 'Day', width: 80 },
          { name: 'Equity', width: 100, align: 'right' },
          { name: 'Cash', width: 100, align: 'right' },
          { name: 'Flow', width: 90, align: 'right' },
          { name: 'Return', width: 80, align: 'right' },
        ],
        rows: p.curve.map((c) => [c.day, money(c.equity), money(c.cash), money(c.flow), pct(c.dailyReturn)]),
      },
    ],
  };
}
