/**
 * Market analysis of a symbol for a period: the period's OHLC, VWAP, volume profile, realised
 * volatility, max drawdown and returns of its candles, and the top movers of all symbols over the
 * same period. Candles come from md_candles (live or imported alike); a symbol without candles
 * falls back to candles built in SQL from our exchange's trades. Prices are dollars.
 */

import type { Bar } from '../../domain/analytics/index.ts';
import {
  cagr,
  drawdownSeries,
  maxDrawdown,
  monthlyReturns,
  movers,
  ohlc,
  realisedVolatility,
  rollingVolatility,
  simpleReturns,
  volumeProfile,
  vwap,
} from '../../domain/analytics/index.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
import * as fmt from './display.ts';
import { priceDecimals } from './display.ts';
import type { Period } from './format.ts';
import { ratio } from './format.ts';
import type { PdfSpec } from './pdf.ts';
import {
  type CandleRow,
  candles,
  candlesFromTrades,
  moversFromCandles,
  moversFromTrades,
  TIMEFRAME_SECONDS,
  tickOf,
} from './queries.ts';
import { monthlyTable } from './tearsheet.ts';

/** Most candles one report reads. */
export const MAX_BARS = 20_000;
const PROFILE_BUCKETS = 12;
const TOP = 5;
/** Trailing window of the rolling volatility, in bars. */
const ROLLING_WINDOW = 21;

/** Bars per year: 252 trading days; intraday bars over a 6.5-hour session. */
export function periodsPerYear(timeframe: string): number {
  const seconds = TIMEFRAME_SECONDS[timeframe]!;
  return seconds >= 86_400 ? 252 : (252 * 6.5 * 3600) / seconds;
}

const px = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);

export async function marketReport(db: Queryable, symbol: string, timeframe: string, period: Period) {
  const start = period.start.toISOString();
  const end = period.end.toISOString();
  let rows: CandleRow[] = await candles(db, symbol, timeframe, start, end);
  let source = 'md_candles';
  if (rows.length === 0) {
    rows = await candlesFromTrades(db, symbol, timeframe, start, end);
    source = 'exchange_trades';
  }
  const bars: Bar[] = rows.map((r) => ({
    t: r.t.getTime(),
    o: Number(r.open),
    h: Number(r.high),
    l: Number(r.low),
    c: Number(r.close),
    v: r.volume,
  }));
  const closes = bars.map((b) => b.c);
  const summary = ohlc(bars);
  const periodVwap = vwap(
    rows.map((r) => ({ price: r.vwap === null ? Number(r.close) : Number(r.vwap), qty: r.volume })),
  );
  const dd = closes.length > 0 ? maxDrawdown(bars.map((b) => ({ t: b.t, value: b.c }))) : null;
  const barReturns = closes.length > 1 ? simpleReturns(closes) : [];

  let moverRows = await moversFromCandles(db, timeframe, start, end);
  let moverSource = 'md_candles';
  if (moverRows.length === 0) {
    moverRows = await moversFromTrades(db, start, end);
    moverSource = 'exchange_trades';
  }
  const top = movers(
    moverRows.map((m) => ({
      symbol: m.symbol,
      last: Number(m.last_close),
      prevClose: Number(m.first_open),
      volume: m.volume,
    })),
    TOP,
  );
  const mover = (m: (typeof top.gainers)[number]) => ({
    symbol: m.symbol,
    open: px(m.prevClose),
    close: px(m.last),
    change: px(m.change),
    return: ratio(m.changeRatio),
    volume: m.volume,
  });
  const at = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const tick = await tickOf(db, symbol);
  const daily = TIMEFRAME_SECONDS[timeframe]! >= 86_400;
  const span = bars.length > 1 ? (bars[bars.length - 1]!.t - bars[0]!.t) / 86_400_000 : 0;
  return {
    symbol,
    timeframe,
    /** decimals prices are shown with: the instrument's tick, else 2 (4 below a dollar) */
    price_decimals: priceDecimals(tick, summary?.c ?? null),
    from: period.from,
    to: period.to,
    source,
    bars: bars.length,
    ohlc: summary && {
      open: px(summary.o),
      high: px(summary.h),
      low: px(summary.l),
      close: px(summary.c),
      volume: summary.v,
    },
    vwap: px(periodVwap),
    period_return: summary && summary.o > 0 ? ratio(summary.c / summary.o - 1) : null,
    cagr: daily && span >= 30 ? ratio(cagr(bars.map((b) => ({ t: b.t, value: b.c })))) : null,
    realised_volatility:
      closes.length > 2 ? ratio(realisedVolatility(closes, periodsPerYear(timeframe))) : null,
    max_drawdown: dd && {
      value: ratio(dd.maxDrawdown),
      peak: at(dd.peakAt),
      trough: at(dd.troughAt),
      recovered: at(dd.recoveredAt),
    },
    volume_profile: volumeProfile(bars, PROFILE_BUCKETS).map((b) => ({
      low: px(b.low),
      high: px(b.high),
      volume: b.volume,
    })),
    candles: bars.map((b, i) => ({
      t: new Date(b.t).toISOString(),
      open: px(b.o),
      high: px(b.h),
      low: px(b.l),
      close: px(b.c),
      volume: b.v,
      vwap: rows[i]!.vwap === null ? null : px(Number(rows[i]!.vwap)),
      return: i === 0 ? null : ratio(barReturns[i - 1]!),
    })),
    movers: {
      source: moverSource,
      gainers: top.gainers.map(mover),
      losers: top.losers.map(mover),
      most_active: top.mostActive.map(mover),
    },
  };
}

export type MarketReport = Awaited<ReturnType<typeof marketReport>>;

const isDaily = (r: MarketReport) => TIMEFRAME_SECONDS[r.timeframe]! >= 86_400;
/** a bar's time as a person reads it: the day for daily bars, else the minute (UTC) */
const barTime = (r: MarketReport, iso: string) =>
  isDaily(r) ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/** The headline figures, labelled and formatted (prices at the instrument's tick). */
export function marketSummary(
  r: MarketReport,
): { key: string; label: string; display: string; note?: string }[] {
  const d = r.price_decimals;
  const dd = r.max_drawdown;
  return [
    { key: 'close', label: 'Last close', display: fmt.price(r.ohlc?.close, d) },
    { key: 'period_return', label: 'Period return', display: fmt.percent(r.period_return) },
    {
      key: 'cagr',
      label: 'Annualised return (CAGR)',
      display: fmt.percent(r.cagr),
      ...(r.cagr === null && { note: 'daily bars over 30 days or more' }),
    },
    {
      key: 'realised_volatility',
      label: 'Volatility (annualised)',
      display: fmt.percent(r.realised_volatility),
    },
    {
      key: 'max_drawdown',
      label: 'Max drawdown',
      display: fmt.percent(dd?.value === null || dd?.value === undefined ? null : -dd.value),
      ...(dd?.peak && { note: `${fmt.date(dd.peak)} → ${fmt.date(dd.trough)}` }),
    },
    { key: 'vwap', label: 'VWAP', display: fmt.price(r.vwap, d) },
    { key: 'open', label: 'Open', display: fmt.price(r.ohlc?.open, d) },
    { key: 'high', label: 'High', display: fmt.price(r.ohlc?.high, d) },
    { key: 'low', label: 'Low', display: fmt.price(r.ohlc?.low, d) },
    { key: 'volume', label: 'Volume', display: fmt.count(r.ohlc?.volume) },
    {
      key: 'bars',
      label: 'Bars',
      display: fmt.count(r.bars),
      note: `${r.timeframe} bars from ${r.source === 'md_candles' ? 'candles' : "our exchange's trades"}`,
    },
  ];
}

export function marketJson(r: MarketReport) {
  const summary = marketSummary(r);
  const points = r.candles
    .map((c) => ({ t: Date.parse(c.t), value: c.close ?? 0 }))
    .filter((p) => p.value > 0);
  const first = points[0]?.value;
  const rolling = rollingVolatility(
    r.candles.slice(1).map((c) => c.return ?? 0),
    ROLLING_WINDOW,
    periodsPerYear(r.timeframe),
  );
  return {
    ...r,
    display: Object.fromEntries(summary.map((s) => [s.key, s.display])),
    summary,
    cumulative_returns: points.map((p) => ({
      t: new Date(p.t).toISOString(),
      return: ratio(p.value / first! - 1),
    })),
    drawdowns: drawdownSeries(points).map((p) => ({
      t: new Date(p.t).toISOString(),
      drawdown: ratio(-p.drawdown),
    })),
    monthly_returns: isDaily(r)
      ? monthlyReturns(points).map((m) => ({ month: m.period, return: ratio(m.return) }))
      : [],
    rolling_volatility: {
      window_bars: ROLLING_WINDOW,
      points: r.candles.slice(1).map((c, i) => ({ t: c.t, volatility: ratio(rolling[i] ?? null) })),
    },
  };
}

export function marketCsvHeader(r: MarketReport): string[] {
  return [isDaily(r) ? 'Date' : 'Time (UTC)', 'Open', 'High', 'Low', 'Close', 'Volume', 'VWAP', 'Return (%)'];
}

export function* marketCsvRows(r: MarketReport): Generator<Cell[]> {
  const d = r.price_decimals;
  const px = (x: number | null) => (x === null ? null : x.toFixed(d));
  for (const c of r.candles) {
    yield [
      barTime(r, c.t),
      px(c.open),
      px(c.high),
      px(c.low),
      px(c.close),
      c.volume,
      px(c.vwap),
      c.return === null ? null : (c.return * 100).toFixed(4),
    ];
  }
}

export function marketPdf(r: MarketReport, include: readonly string[] = []): PdfSpec {
  const d = r.price_decimals;
  const j = marketJson(r);
  const summary = j.summary;
  const labels = r.candles.map((c) => (isDaily(r) ? fmt.date(c.t) : fmt.dateTime(c.t)));
  const points = r.candles.map((c) => ({ t: Date.parse(c.t), value: c.close ?? 0 }));
  const spec: PdfSpec = {
    title: `Market report: ${r.symbol}`,
    subtitle: `${fmt.date(r.from)} to ${fmt.date(r.to)} (UTC) · ${r.timeframe} bars · ${
      r.source === 'md_candles' ? 'from candles (live or imported)' : "built from our exchange's trades"
    } · prices in USD`,
    cover: summary
      .slice(0, 9)
      .map((s) => ({ label: s.label, value: s.display, ...(s.note && { note: s.note }) })),
    summary: summary.slice(9).map((s) => [s.label, s.note ? `${s.display}  (${s.note})` : s.display]),
    charts: [
      {
        title: `${r.symbol} cumulative return`,
        labels,
        series: [{ name: r.symbol, values: j.cumulative_returns.map((c) => c.return) }],
        axis: 'percent',
      },
      {
        title: 'Drawdown (underwater)',
        labels,
        series: [{ name: 'Drawdown', values: j.drawdowns.map((x) => x.drawdown), color: '#c0392b' }],
        kind: 'area',
        axis: 'percent',
      },
      {
        title: `Rolling volatility (${ROLLING_WINDOW} bars, annualised)`,
        labels: labels.slice(1),
        series: [{ name: 'Volatility', values: j.rolling_volatility.points.map((x) => x.volatility) }],
        axis: 'percent',
      },
    ],
    tables: [
      ...(isDaily(r)
        ? [
            monthlyTable(
              'Monthly returns',
              points.filter((p) => p.value > 0),
            ),
          ]
        : []),
      {
        title: 'Volume profile',
        columns: [
          { name: 'From', width: 90, align: 'right' },
          { name: 'To', width: 90, align: 'right' },
          { name: 'Volume', width: 100, align: 'right' },
        ],
        rows: r.volume_profile.map((b) => [fmt.price(b.low, d), fmt.price(b.high, d), fmt.count(b.volume)]),
      },
      {
        title: 'Top movers over the same period',
        columns: [
          { name: 'List', width: 80 },
          { name: 'Symbol', width: 70 },
          { name: 'Open', width: 80, align: 'right' },
          { name: 'Close', width: 80, align: 'right' },
          { name: 'Return', width: 80, align: 'right' },
          { name: 'Volume', width: 90, align: 'right' },
        ],
        rows: (['gainers', 'losers', 'most_active'] as const).flatMap((list) =>
          r.movers[list].map((m) => [
            list === 'most_active' ? 'most active' : list,
            m.symbol,
            fmt.price(m.open, priceDecimals(null, m.open)),
            fmt.price(m.close, priceDecimals(null, m.close)),
            fmt.percent(m.return),
            fmt.count(m.volume),
          ]),
        ),
      },
    ],
  };
  if (include.includes('candles')) {
    spec.tables.push({
      title: 'Candles',
      newPage: true,
      columns: [
        { name: isDaily(r) ? 'Date' : 'Time (UTC)', width: 95 },
        { name: 'Open', width: 65, align: 'right' },
        { name: 'High', width: 65, align: 'right' },
        { name: 'Low', width: 65, align: 'right' },
        { name: 'Close', width: 65, align: 'right' },
        { name: 'Volume', width: 85, align: 'right' },
        { name: 'Return', width: 60, align: 'right' },
      ],
      rows: r.candles.map((c) => [
        isDaily(r) ? fmt.date(c.t) : fmt.dateTime(c.t),
        fmt.price(c.open, d),
        fmt.price(c.high, d),
        fmt.price(c.low, d),
        fmt.price(c.close, d),
        fmt.count(c.volume),
        fmt.percent(c.return),
      ]),
    });
  }
  return spec;
}
