/**
 * Performance of an account over a period, from its daily equity curve (cash + positions marked
 * at each day's last trade, else the daily candle close), starting at the account's first
 * funding (no days of zeros before the account existed):
 * - daily return r_d = E_d / (E_{d−1} + F_d) − 1, where F_d are the day's external flows, counted
 *   at the start of the day: deposits − withdrawals, and share transfers in − out valued at the
 *   last trade before them (a transfer in without one at its stated cost); 0 when nothing was
 *   invested;
 * - time-weighted return = Π(1 + r_d) − 1; max drawdown on that time-weighted index, so a
 *   withdrawal is not a loss;
 * - volatility, Sharpe (risk-free 0 unless given), win rate (FIFO closed trades in the period),
 *   turnover (buy + sell notional / average daily equity), and a benchmark comparison against
 *   the benchmark symbol's daily closes, from src/domain/analytics;
 * - tear-sheet series: cumulative return against the benchmark, drawdown (underwater), monthly
 *   and yearly returns, rolling volatility. README.md defines each figure.
 */
import {
  annualisedVolatility,
  benchmarkComparison,
  cagr,
  drawdownSeries,
  maxDrawdown,
  monthlyReturns,
  rollingVolatility,
  sharpeRatio,
  turnover,
  winRate,
  yearlyReturns,
} from '../../domain/analytics/index.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
import * as fmt from './display.ts';
import { DAY_MS, dayOf, dayStart, money, type Period, ratio } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import { ledgerOf } from './positions.ts';
import { type DailyEquityRow, dailyEquity } from './queries.ts';
import { monthlyTable } from './tearsheet.ts';

export interface PerformanceOptions {
  benchmark: string;
  riskFree: number;
  /** extra PDF sections: 'daily' adds the table of daily equity */
  include?: readonly string[];
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

/** Trailing window of the rolling volatility, in trading days (about a month). */
export const ROLLING_WINDOW = 21;
/** A CAGR over less history than this would annualise noise: it is left out. */
const MIN_CAGR_DAYS = 30;

/** The first day (UTC) the account had cash or shares move, or null when it never had. */
async function firstActivity(db: Queryable, account: string): Promise<string | null> {
  const { rows } = await db.query<{ day: string | null }>(
    `SELECT to_char(min(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM (
       (SELECT min(ts) AS ts FROM cash_movements WHERE account = $1)
       UNION ALL (SELECT min(ts) FROM share_movements WHERE account = $1)
       UNION ALL (SELECT min(ts) FROM trades WHERE buy_account = $1)
       UNION ALL (SELECT min(ts) FROM trades WHERE sell_account = $1)) f`,
    [account],
  );
  return rows[0]?.day ?? null;
}

/**
 * The benchmark's price at the end of each day from firstDay to lastDay: its latest daily close
 * (md_candles, live or imported; carried forward over days without one), else the last trade on
 * our exchange. Days before its first price take the first price it has in the period (its
 * first open, or first trade), so a benchmark that starts trading the day the account is funded
 * is compared from that day's open. Null when it has no price at all up to lastDay.
 */
async function benchmarkPrices(
  db: Queryable,
  symbol: string,
  firstDay: string,
  lastDay: string,
): Promise<{ prices: (number | null)[]; firstPriced: string | null }> {
  const { rows } = await db.query<{ day: string; close: string | null }>(
    `SELECT to_char(d::date, 'YYYY-MM-DD') AS day, coalesce(
        (SELECT close::text FROM md_candles c WHERE c.symbol = $1 AND c.timeframe = '1d'
          AND c.bucket < (d::date + 1)::timestamptz ORDER BY bucket DESC LIMIT 1),
        (SELECT (price / 100.0)::text FROM trades t WHERE t.symbol = $1 AND t.ts < (d::date + 1)::timestamptz
          ORDER BY ts DESC, id DESC LIMIT 1)) AS close
       FROM generate_series($2::date, $3::date, interval '1 day') AS d ORDER BY d`,
    [symbol, firstDay, lastDay],
  );
  const firstAt = rows.findIndex((r) => r.close !== null);
  if (firstAt < 0) return { prices: rows.map(() => null), firstPriced: null };
  let opening = Number(rows[firstAt]!.close);
  if (firstAt > 0) {
    const { rows: open } = await db.query<{ open: string | null }>(
      `SELECT coalesce(
          (SELECT open::text FROM md_candles WHERE symbol = $1 AND timeframe = '1d' AND bucket >= $2::timestamptz
            ORDER BY bucket LIMIT 1),
          (SELECT (price / 100.0)::text FROM trades WHERE symbol = $1 AND ts >= $2::timestamptz ORDER BY ts, id LIMIT 1)
        ) AS open`,
      [symbol, `${rows[firstAt]!.day}T00:00:00Z`],
    );
    if (open[0]?.open != null) opening = Number(open[0].open);
  }
  return {
    prices: rows.map((r, i) => (i < firstAt ? opening : r.close === null ? null : Number(r.close))),
    firstPriced: rows[firstAt]!.day,
  };
}

export async function performance(db: Queryable, account: string, period: Period, opts: PerformanceOptions) {
  const funded = await firstActivity(db, account);
  const requestedBase = dayOf(dayStart(period.from) - DAY_MS);
  // the curve starts the day the account was first funded, if that is inside the period
  // (days as YYYY-MM-DD strings sort in time order)
  const startDay = funded === null || funded > period.to ? null : [funded, period.from].sort()[1]!;
  const baseDay = startDay === null ? requestedBase : dayOf(dayStart(startDay) - DAY_MS);
  const rows: DailyEquityRow[] = startDay === null ? [] : await dailyEquity(db, account, baseDay, period.to);
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
  const base = rows[0];
  const indexPoints =
    base === undefined
      ? []
      : [{ t: dayStart(base.day), value: 1 }, ...curve.map((c) => ({ t: dayStart(c.day), value: c.index }))];
  const dd = maxDrawdown(indexPoints);

  // FIFO closed trades of the period (the ledger is replayed from the start for the cost basis)
  const closed: number[] = [];
  await ledgerOf(db, account, period.end.toISOString(), (t) => {
    if (t.at >= period.start.getTime()) closed.push(t.pnl);
  });
  const traded = rows.slice(1).reduce((s, r) => s + r.traded, 0);
  const avgEquity = curve.length > 0 ? curve.reduce((s, c) => s + c.equity, 0) / curve.length : 0;

  const bench =
    base === undefined
      ? { prices: [], firstPriced: null }
      : await benchmarkPrices(db, opts.benchmark, base.day, period.to);
  const complete = bench.prices.length > 0 && bench.prices.every((p) => p !== null && p > 0);
  const benchPrices = complete ? (bench.prices as number[]) : null;
  const comparison = benchPrices
    ? benchmarkComparison(
        indexPoints.map((p) => p.value),
        benchPrices,
      )
    : null;
  const unavailable =
    base === undefined
      ? 'the account has no history in this period'
      : bench.firstPriced === null
        ? `${opts.benchmark} has no price (no daily candle and no trade) up to ${period.to}`
        : complete
          ? null
          : `${opts.benchmark} has days without a price`;

  const at = (t: number | null) => (t === null ? null : dayOf(t));
  const opening = base === undefined ? 0 : base.cash + base.positions_value;
  const closing = curve.length > 0 ? curve[curve.length - 1]!.equity : opening;
  const flows = curve.reduce((s, c) => s + c.flow, 0);
  const spanDays = curve.length;
  const growth = spanDays >= MIN_CAGR_DAYS ? cagr(indexPoints) : null;
  return {
    curve,
    indexPoints,
    benchPrices,
    metrics: {
      account,
      from: period.from,
      to: period.to,
      /** the first day of the curve: the period's start, or the account's first funding if later */
      started: startDay,
      opening_equity: money(opening),
      closing_equity: money(closing),
      net_flows: money(flows),
      profit: money(closing - opening - flows),
      time_weighted_return: ratio(curve.length > 0 ? index - 1 : null),
      cagr: ratio(growth),
      max_drawdown: {
        value: ratio(dd.maxDrawdown),
        peak: at(dd.peakAt),
        trough: at(dd.troughAt),
        recovered: at(dd.recoveredAt),
      },
      annualised_volatility: ratio(annualisedVolatility(returns)),
      sharpe_ratio: ratio(sharpeRatio(returns, opts.riskFree)),
      risk_free: opts.riskFree,
      best_day: ratio(returns.length > 0 ? Math.max(...returns) : null),
      worst_day: ratio(returns.length > 0 ? Math.min(...returns) : null),
      closed_trades: closed.length,
      win_rate: ratio(winRate(closed)),
      traded_notional: money(traded),
      turnover: ratio(turnover(traded, avgEquity)),
      benchmark: {
        symbol: opts.benchmark,
        available: comparison !== null,
        unavailable_reason: unavailable,
        priced_from: bench.firstPriced,
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
type Metrics = PerformanceReport['metrics'];

/** [key, label, formatted value] of the headline figures, in the order a tear sheet shows them */
export function performanceSummary(
  m: Metrics,
): { key: string; label: string; display: string; note?: string }[] {
  const b = m.benchmark;
  const dd = m.max_drawdown;
  const rows: { key: string; label: string; display: string; note?: string }[] = [
    { key: 'closing_equity', label: 'Closing equity', display: fmt.usdOf(m.closing_equity) },
    {
      key: 'time_weighted_return',
      label: 'Time-weighted return',
      display: fmt.percent(m.time_weighted_return),
    },
    {
      key: 'cagr',
      label: 'Annualised return (CAGR)',
      display: fmt.percent(m.cagr),
      ...(m.cagr === null && { note: `needs ${MIN_CAGR_DAYS} days of history` }),
    },
    { key: 'profit', label: 'Profit / loss', display: fmt.usdOf(m.profit) },
    { key: 'opening_equity', label: 'Opening equity', display: fmt.usdOf(m.opening_equity) },
    { key: 'net_flows', label: 'Net deposits', display: fmt.usdOf(m.net_flows) },
    {
      key: 'max_drawdown',
      label: 'Max drawdown',
      display: fmt.percent(dd.value === null ? null : -dd.value),
      ...(dd.peak && {
        note: `${fmt.date(dd.peak)} → ${fmt.date(dd.trough)}${dd.recovered ? `, recovered ${fmt.date(dd.recovered)}` : ', not recovered'}`,
      }),
    },
    {
      key: 'annualised_volatility',
      label: 'Volatility (annualised)',
      display: fmt.percent(m.annualised_volatility),
    },
    {
      key: 'sharpe_ratio',
      label: 'Sharpe ratio',
      display: fmt.ratio2(m.sharpe_ratio),
      note: `risk-free ${fmt.percent(m.risk_free)} a year`,
    },
    {
      key: 'win_rate',
      label: 'Win rate',
      display: fmt.percent(m.win_rate, 1),
      note: `of ${fmt.count(m.closed_trades)} closed trade${m.closed_trades === 1 ? '' : 's'}`,
    },
    {
      key: 'turnover',
      label: 'Turnover',
      display: m.turnover === null ? fmt.NA : `${fmt.ratio2(m.turnover)}×`,
    },
    { key: 'best_day', label: 'Best day', display: fmt.percent(m.best_day) },
    { key: 'worst_day', label: 'Worst day', display: fmt.percent(m.worst_day) },
    {
      key: 'benchmark_return',
      label: `Benchmark ${b.symbol} return`,
      display: fmt.percent(b.return),
      ...(!b.available && b.unavailable_reason && { note: b.unavailable_reason }),
    },
    { key: 'excess_return', label: `Excess return over ${b.symbol}`, display: fmt.percent(b.excess_return) },
    { key: 'beta', label: `Beta to ${b.symbol}`, display: fmt.ratio2(b.beta) },
    { key: 'correlation', label: `Correlation with ${b.symbol}`, display: fmt.ratio2(b.correlation) },
    { key: 'tracking_error', label: 'Tracking error', display: fmt.percent(b.tracking_error) },
  ];
  return rows;
}

export function performanceJson(p: PerformanceReport) {
  const summary = performanceSummary(p.metrics);
  const cumulative = p.indexPoints.map((x, i) => ({
    day: dayOf(x.t),
    portfolio: ratio(x.value - 1),
    benchmark: p.benchPrices ? ratio(p.benchPrices[i]! / p.benchPrices[0]! - 1) : null,
  }));
  const underwater = drawdownSeries(p.indexPoints).map((d) => ({
    day: dayOf(d.t),
    drawdown: ratio(-d.drawdown),
  }));
  const rolling = rollingVolatility(
    p.curve.map((c) => c.dailyReturn),
    ROLLING_WINDOW,
  );
  return {
    ...p.metrics,
    /** the headline figures formatted for a person: labels and display strings */
    display: Object.fromEntries(summary.map((s) => [s.key, s.display])),
    summary,
    equity_curve: p.curve.map((c) => ({
      day: c.day,
      equity: money(c.equity),
      cash: money(c.cash),
      positions_value: money(c.positionsValue),
      flow: money(c.flow),
      daily_return: ratio(c.dailyReturn),
      index: ratio(c.index),
    })),
    cumulative_returns: cumulative,
    drawdowns: underwater,
    monthly_returns: monthlyReturns(p.indexPoints).map((m) => ({ month: m.period, return: ratio(m.return) })),
    yearly_returns: yearlyReturns(p.indexPoints).map((m) => ({ year: m.period, return: ratio(m.return) })),
    rolling_volatility: {
      window_days: ROLLING_WINDOW,
      points: p.curve.map((c, i) => ({ day: c.day, volatility: ratio(rolling[i] ?? null) })),
    },
  };
}

export const PERFORMANCE_CSV_HEADER = [
  'Date',
  'Equity (USD)',
  'Cash (USD)',
  'Positions value (USD)',
  'Net deposits (USD)',
  'Daily return (%)',
  'Cumulative return (%)',
];

const pctNumber = (x: number | null) => (x === null ? '' : (Math.round(x * 1e8) / 1e6).toFixed(6));

export function* performanceCsvRows(p: PerformanceReport): Generator<Cell[]> {
  for (const c of p.curve) {
    yield [
      c.day,
      money(c.equity),
      money(c.cash),
      money(c.positionsValue),
      money(c.flow),
      pctNumber(c.dailyReturn),
      pctNumber(c.index - 1),
    ];
  }
}

export function performancePdf(p: PerformanceReport, include: readonly string[] = []): PdfSpec {
  const m = p.metrics;
  const summary = performanceSummary(m);
  const labels = p.indexPoints.map((x) => fmt.date(dayOf(x.t)));
  const cumulative = p.indexPoints.map((x) => x.value - 1);
  const bench = p.benchPrices ? p.benchPrices.map((b) => b / p.benchPrices![0]! - 1) : null;
  const rolling = rollingVolatility(
    p.curve.map((c) => c.dailyReturn),
    ROLLING_WINDOW,
  );
  const started =
    m.started && m.started !== m.from ? ` · history from ${fmt.date(m.started)} (first funding)` : '';
  const spec: PdfSpec = {
    title: 'Performance tear sheet',
    subtitle: `Account ${m.account} · ${fmt.date(m.from)} to ${fmt.date(m.to)} (UTC)${started} · benchmark ${m.benchmark.symbol}${
      m.benchmark.available ? '' : ' (unavailable)'
    }`,
    cover: summary
      .slice(0, 12)
      .map((s) => ({ label: s.label, value: s.display, ...(s.note && { note: s.note }) })),
    summary: summary.slice(12).map((s) => [s.label, s.note ? `${s.display}  (${s.note})` : s.display]),
    charts: [
      {
        title: `Cumulative return against ${m.benchmark.symbol}`,
        labels,
        series: [
          { name: 'Portfolio (time-weighted)', values: cumulative },
          ...(bench ? [{ name: m.benchmark.symbol, values: bench }] : []),
        ],
        axis: 'percent',
      },
      {
        title: 'Drawdown (underwater)',
        labels,
        series: [
          {
            name: 'Drawdown',
            values: drawdownSeries(p.indexPoints).map((d) => -d.drawdown),
            color: '#c0392b',
          },
        ],
        kind: 'area',
        axis: 'percent',
      },
      {
        title: `Rolling volatility (${ROLLING_WINDOW} trading days, annualised)`,
        labels: p.curve.map((c) => fmt.date(c.day)),
        series: [{ name: 'Volatility', values: rolling }],
        axis: 'percent',
      },
    ],
    tables: [monthlyTable('Monthly returns (time-weighted)', p.indexPoints)],
  };
  if (include.includes('daily')) {
    spec.tables.push({
      title: 'Daily equity',
      newPage: true,
      columns: [
        { name: 'Date', width: 80 },
        { name: 'Equity', width: 100, align: 'right' },
        { name: 'Cash', width: 100, align: 'right' },
        { name: 'Net deposits', width: 90, align: 'right' },
        { name: 'Return', width: 80, align: 'right' },
      ],
      rows: p.curve.map((c) => [
        fmt.date(c.day),
        fmt.usd(c.equity),
        fmt.usd(c.cash),
        fmt.usd(c.flow),
        fmt.percent(c.dailyReturn),
      ]),
    });
  }
  return spec;
}
