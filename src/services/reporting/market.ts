/**
 * Market analysis of a symbol for a period: the period's OHLC, VWAP, volume profile, realised
 * volatility, max drawdown and returns of its candles, and the top movers of all symbols over the
 * same period. Candles come from md_candles (live or imported alike); a symbol without candles
 * falls back to candles built in SQL from our exchange's trades. Prices are dollars.
 */

import type { Bar } from '../../domain/analytics/index.ts';
import {
  maxDrawdown,
  movers,
  ohlc,
  realisedVolatility,
  simpleReturns,
  volumeProfile,
  vwap,
} from '../../domain/analytics/index.ts';
import type { Queryable } from '../../platform/db/types.ts';
import type { Cell } from './csv.ts';
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
} from './queries.ts';

/** Most candles one report reads. */
export const MAX_BARS = 20_000;
const PROFILE_BUCKETS = 12;
const TOP = 5;

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
  return {
    symbol,
    timeframe,
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

export const MARKET_CSV_HEADER = ['t', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'return'];

export function* marketCsvRows(r: MarketReport): Generator<Cell[]> {
  for (const c of r.candles) yield [c.t, c.open, c.high, c.low, c.close, c.volume, c.vwap, c.return];
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)} %`;
const num = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : String(x));

export function marketPdf(r: MarketReport): PdfSpec {
  return {
    title: `Market report: ${r.symbol}`,
    subtitle: `${r.from} to ${r.to} (UTC, inclusive) · ${r.timeframe} bars · source ${r.source}`,
    summary: [
      ['Open', num(r.ohlc?.open)],
      ['High', num(r.ohlc?.high)],
      ['Low', num(r.ohlc?.low)],
      ['Close', num(r.ohlc?.close)],
      ['Volume', num(r.ohlc?.volume)],
      ['VWAP', num(r.vwap)],
      ['Period return', pct(r.period_return)],
      ['Realised volatility (annualised)', pct(r.realised_volatility)],
      [
        'Max drawdown',
        `${pct(r.max_drawdown?.value)} (${r.max_drawdown?.peak ?? '-'} → ${r.max_drawdown?.trough ?? '-'})`,
      ],
    ],
    charts: [
      {
        title: `${r.symbol} close`,
        points: r.candles.map((c) => ({ label: c.t.slice(0, 16), value: c.close ?? 0 })),
      },
    ],
    tables: [
      {
        title: 'Volume profile',
        columns: [
          { name: 'From', width: 90, align: 'right' },
          { name: 'To', width: 90, align: 'right' },
          { name: 'Volume', width: 100, align: 'right' },
        ],
        rows: r.volume_profile.map((b) => [num(b.low), num(b.high), String(b.volume)]),
      },
      {
        title: 'Top movers',
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
            list,
            m.symbol,
            num(m.open),
            num(m.close),
            pct(m.return),
            String(m.volume),
          ]),
        ),
      },
      {
        title: 'Candles',
        columns: [
          { name: 'Time', width: 110 },
          { name: 'Open', width: 65, align: 'right' },
          { name: 'High', width: 65, align: 'right' },
          { name: 'Low', width: 65, align: 'right' },
          { name: 'Close', width: 65, align: 'right' },
          { name: 'Volume', width: 75, align: 'right' },
        ],
        rows: r.candles.map((c) => [
          c.t.slice(0, 16),
          num(c.open),
          num(c.high),
          num(c.low),
          num(c.close),
          String(c.volume),
        ]),
      },
    ],
  };
}
