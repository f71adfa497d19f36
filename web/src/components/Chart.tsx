/**
 * Candles + volume (lightweight-charts 5), an interval choice and indicator toggles. History from
 * GET /v2/stocks/:symbol/bars (imported files included), a page further back in time each time
 * the user scrolls to the left edge (`end` = the oldest bar shown); when that route is unavailable, candles are built live from the
 * trades this page sees (and the panel says so). Indicators come from the market-data service,
 * or are computed here from the bars when its route is unavailable.
 */
import {
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  LineSeries,
  LineStyle,
  type LineWidth,
  type LogicalRange,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import {
  atr,
  bbands,
  ema,
  foldTrade,
  macd,
  rsi,
  type Series,
  sma,
  TIMEFRAMES,
  type Timeframe,
  timeOf,
  vwap,
} from '../lib/indicators.ts';
import type { OrderLine } from '../lib/order-lines.ts';
import { onBar, onTrade, state } from '../market.ts';
import type { Bar } from '../types.ts';

type Indicator = 'sma' | 'ema' | 'bbands' | 'vwap' | 'rsi' | 'macd' | 'atr';
const INDICATORS: [Indicator, string][] = [
  ['sma', 'SMA 20'],
  ['ema', 'EMA 20'],
  ['bbands', 'Bollinger 20'],
  ['vwap', 'VWAP'],
  ['rsi', 'RSI 14'],
  ['macd', 'MACD'],
  ['atr', 'ATR 14'],
];
/** indicators on a scale of their own: each in a pane below the candles, in this order */
const PANES: readonly Indicator[] = ['rsi', 'macd', 'atr'];
/** how the service names each in `indicators=` */
const SPEC: Record<Indicator, string> = {
  sma: 'sma:20',
  ema: 'ema:20',
  bbands: 'bbands:20',
  vwap: 'vwap',
  rsi: 'rsi:14',
  macd: 'macd',
  atr: 'atr:14',
};
const COLORS: Record<string, string> = {
  sma: '#f5a623',
  ema: '#7b61ff',
  bbands_upper: '#5aa9e6',
  bbands_middle: '#5aa9e6',
  bbands_lower: '#5aa9e6',
  vwap: '#e056fd',
  rsi: '#f5a623',
  macd_macd: '#3b9dff',
  macd_signal: '#f5a623',
  atr: '#7b61ff',
};

/** bars per request, first load and each page back in time */
const PAGE = 500;
/** bars shown at first: a readable candle width, the rest a drag (or scroll) away */
const FIRST_VIEW = 150;
/** a page of older bars is fetched when fewer than this many bars are left of the view */
const EDGE = 10;

declare global {
  interface Window {
    __bourseFirstChartMs?: number;
  }
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** the theme's up and down colours (styles.css), read again whenever the theme changes */
const candleColours = () => ({
  upColor: css('--up'),
  downColor: css('--down'),
  wickUpColor: css('--up'),
  wickDownColor: css('--down'),
});

export default function Chart({ symbol, levels = [] }: { symbol: string; levels?: readonly OrderLine[] }) {
  const box = useRef<HTMLElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const volume = useRef<ISeriesApi<'Histogram'> | null>(null);
  const lines = useRef(new Map<string, ISeriesApi<'Line'> | ISeriesApi<'Histogram'>>());
  const priceLines = useRef<IPriceLine[]>([]);
  const bars = useRef<Bar[]>([]);
  const [tf, setTf] = useState<Timeframe>('1Min');
  const [on, setOn] = useState<Set<Indicator>>(new Set());
  const [source, setSource] = useState<'loading' | 'history' | 'live'>('loading');
  const [note, setNote] = useState<string | null>(null);
  const [count, setCount] = useState(0);
  const [older, setOlder] = useState<'idle' | 'loading' | 'done'>('idle');
  /** bumped on a theme change: the price lines are drawn again in the new colours */
  const [theme, setTheme] = useState(0);

  // the chart itself, once
  // biome-ignore lint/correctness/useExhaustiveDependencies: draw reads refs only
  useEffect(() => {
    if (!box.current) return;
    const c = createChart(box.current, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: css('--fg-muted'), attributionLogo: false },
      grid: { vertLines: { color: css('--grid') }, horzLines: { color: css('--grid') } },
      timeScale: { timeVisible: true, secondsVisible: false },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.25 } },
    });
    candles.current = c.addSeries(CandlestickSeries, { ...candleColours(), borderVisible: false });
    volume.current = c.addSeries(HistogramSeries, { priceScaleId: 'vol', priceFormat: { type: 'volume' } });
    c.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = c;
    // everything drawn in a theme colour follows a theme change: text, grid, candles, volume, levels
    const retheme = () => {
      c.applyOptions({
        layout: { textColor: css('--fg-muted') },
        grid: { vertLines: { color: css('--grid') }, horzLines: { color: css('--grid') } },
      });
      candles.current?.applyOptions(candleColours());
      draw();
      setTheme((n) => n + 1);
    };
    window.addEventListener('bourse-theme', retheme);
    return () => {
      window.removeEventListener('bourse-theme', retheme);
      c.remove();
      chart.current = null;
      lines.current.clear();
    };
  }, []);

  function draw() {
    const list = bars.current;
    candles.current?.setData(
      list.map((b) => ({ time: timeOf(b) as UTCTimestamp, open: b.o, high: b.h, low: b.l, close: b.c })),
    );
    const up = css('--up-dim');
    const down = css('--down-dim');
    volume.current?.setData(
      list.map((b) => ({ time: timeOf(b) as UTCTimestamp, value: b.v, color: b.c >= b.o ? up : down })),
    );
    setCount(list.length);
    if (list.length > 0 && window.__bourseFirstChartMs === undefined) {
      requestAnimationFrame(() => {
        window.__bourseFirstChartMs ??= performance.now();
      });
    }
  }

  // the take-profit and stop-loss levels of open brackets / oco / oto as price lines, redrawn when they move
  const levelKey = levels.map((l) => `${l.id}:${l.kind}:${l.price}`).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: levelKey stands for levels, theme for the colours
  useEffect(() => {
    const series = candles.current;
    if (!series) return;
    for (const line of priceLines.current) series.removePriceLine(line);
    priceLines.current = levels.map((l) =>
      series.createPriceLine({
        price: l.price,
        color: css(l.kind === 'take_profit' ? '--up' : '--down'),
        lineWidth: 1,
        lineStyle: LineStyle.Dashed,
        axisLabelVisible: true,
        title: l.title,
      }),
    );
  }, [levelKey, theme]);

  // history for the symbol and interval, else live candles; older pages as the user scrolls left
  // biome-ignore lint/correctness/useExhaustiveDependencies: draw reads refs only
  useEffect(() => {
    let cancelled = false;
    let history = false;
    const paging = { loading: false, done: false };
    bars.current = [];
    setSource('loading');
    setNote(null);
    setOlder('idle');
    draw();
    const seconds = TIMEFRAMES[tf];
    const ts = chart.current?.timeScale();
    // trades move the last candle (and open the next) between the service's closed bars
    const offTrade = onTrade((s, cents, size, ts) => {
      if (s !== symbol) return;
      foldTrade(bars.current, seconds, cents / 100, size, ts);
      draw();
    });
    const offBar = onBar((s, frame, bar) => {
      if (s !== symbol || frame !== tf) return;
      const list = bars.current;
      const last = list[list.length - 1];
      if (last && last.t === bar.t) list[list.length - 1] = bar;
      else if (!last || Date.parse(bar.t) > Date.parse(last.t)) list.push(bar);
      draw();
    });

    /** the page before the oldest bar shown (the API answers the newest bars before `end`) */
    async function loadOlder(): Promise<void> {
      const first = bars.current[0];
      if (!history || !first || paging.loading || paging.done) return;
      paging.loading = true;
      setOlder('loading');
      try {
        const res = await api<{ bars: Bar[] }>(`/v2/stocks/${symbol}/bars`, {
          query: { timeframe: tf, end: first.t, limit: PAGE },
        });
        if (cancelled) return;
        const from = Date.parse(first.t);
        const got = (res.bars ?? [])
          .filter((b) => Date.parse(b.t) < from)
          .sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
        if ((res.bars ?? []).length < PAGE) paging.done = true;
        if (got.length > 0) {
          // the view stays on the same candles: logical indexes shift by what came in front
          const view = ts?.getVisibleLogicalRange();
          bars.current = [...got, ...bars.current];
          draw();
          if (view) ts?.setVisibleLogicalRange({ from: view.from + got.length, to: view.to + got.length });
        }
      } catch {
        paging.done = true;
      } finally {
        paging.loading = false;
        if (!cancelled) setOlder(paging.done ? 'done' : 'idle');
      }
    }
    const onRange = (r: LogicalRange | null) => {
      if (r && r.from < EDGE) void loadOlder();
    };
    ts?.subscribeVisibleLogicalRangeChange(onRange);

    (async () => {
      try {
        const res = await api<{ bars: Bar[] }>(`/v2/stocks/${symbol}/bars`, {
          query: { timeframe: tf, limit: PAGE },
        });
        if (cancelled) return;
        bars.current = [...(res.bars ?? [])].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
        if (bars.current.length < PAGE) {
          paging.done = true;
          setOlder('done');
        }
        history = true;
        setSource('history');
      } catch (err) {
        if (cancelled) return;
        paging.done = true;
        setSource('live');
        setNote(
          err instanceof ApiError && err.unavailable
            ? 'Historical bars unavailable: candles are built from the trades seen since this page opened.'
            : `Bars: ${err instanceof Error ? err.message : String(err)}; showing live candles.`,
        );
        // the trades this page has already seen, oldest first
        for (const t of [...(state.tape.get(symbol) ?? [])].reverse())
          foldTrade(bars.current, seconds, t.priceCents / 100, t.size, t.ts);
      }
      draw();
      const n = bars.current.length;
      if (n > FIRST_VIEW) ts?.setVisibleLogicalRange({ from: n - FIRST_VIEW, to: n + 2 });
      else ts?.fitContent();
    })();
    return () => {
      cancelled = true;
      ts?.unsubscribeVisibleLogicalRangeChange(onRange);
      offTrade();
      offBar();
    };
  }, [symbol, tf]);

  // indicators: from the service, or computed here
  // biome-ignore lint/correctness/useExhaustiveDependencies: count stands for the bars
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    let cancelled = false;
    (async () => {
      const wanted = [...on];
      let series: Record<string, Series> = {};
      // the service's series cover its first page; with older pages loaded, computed here over all
      if (wanted.length > 0 && source === 'history' && bars.current.length <= PAGE) {
        try {
          const spec = wanted.map((i) => SPEC[i]).join(',');
          // {bars, indicators: {'sma:20': [{value} | null, …]}}, aligned to bars; bbands: upper/middle/lower
          const res = await api<{
            bars: { t: string }[];
            indicators: Record<string, (Record<string, number | null> | null)[]>;
          }>(`/v1/market-data/${symbol}/indicators`, {
            query: { timeframe: tf, indicators: spec, limit: PAGE },
          });
          for (const [name, points] of Object.entries(res.indicators ?? {})) {
            const base = name.split(':')[0] ?? name;
            points.forEach((point, i) => {
              const t = res.bars[i]?.t;
              if (!point || !t) return;
              for (const [field, v] of Object.entries(point)) {
                if (typeof v !== 'number') continue;
                const key = field === 'value' ? base : `${base}_${field}`;
                (series[key] ??= []).push({ time: Math.floor(Date.parse(t) / 1000), value: v });
              }
            });
          }
        } catch {
          series = {};
        }
      }
      if (Object.keys(series).length === 0) {
        const b = bars.current;
        if (on.has('sma')) series.sma = sma(b, 20);
        if (on.has('ema')) series.ema = ema(b, 20);
        if (on.has('bbands')) {
          const bb = bbands(b, 20);
          series.bbands_upper = bb.upper;
          series.bbands_lower = bb.lower;
        }
        if (on.has('vwap')) series.vwap = vwap(b);
        if (on.has('rsi')) series.rsi = rsi(b);
        if (on.has('macd')) {
          const m = macd(b);
          series.macd_macd = m.macd;
          series.macd_signal = m.signal;
          series.macd_histogram = m.histogram;
        }
        if (on.has('atr')) series.atr = atr(b);
      }
      // RSI, MACD and ATR each in a pane of its own (1, 2, … in PANES order, as many as are on);
      // the pane is part of the key, so a line whose pane changes is drawn anew there
      const panes = PANES.filter((p) => on.has(p));
      const keyed: [string, string, number, Series][] = Object.entries(series).map(([k, data]) => {
        const base = k.split(/[_:]/)[0] ?? k;
        const pane = panes.indexOf(base as Indicator) + 1;
        return [`${k}@${pane}`, k, pane, data];
      });
      // added from the top pane down, so a pane is never asked for before the ones above it
      keyed.sort((a, b) => a[2] - b[2]);
      const wantedKeys = new Set(keyed.map(([key]) => key));
      if (cancelled) return;
      for (const [k, s] of lines.current) {
        if (!wantedKeys.has(k)) {
          c.removeSeries(s);
          lines.current.delete(k);
        }
      }
      for (const [key, k, pane, data] of keyed) {
        let s = lines.current.get(key);
        if (!s) {
          const base = k.split(/[_:]/)[0] ?? k;
          const common = { priceLineVisible: false, lastValueVisible: pane > 0 };
          s =
            k === 'macd_histogram'
              ? c.addSeries(HistogramSeries, { ...common, color: css('--up-dim') }, pane)
              : c.addSeries(
                  LineSeries,
                  { ...common, color: COLORS[k] ?? COLORS[base] ?? '#aaa', lineWidth: 1 as LineWidth },
                  pane,
                );
          lines.current.set(key, s);
        }
        s.setData(data.map((d) => ({ time: d.time as UTCTimestamp, value: d.value })));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [on, count, source, symbol, tf]);

  return (
    <section className="panel chart" aria-labelledby="chart-title">
      <div className="chart-bar">
        <h2 id="chart-title">{symbol}</h2>
        <fieldset className="intervals">
          <legend className="sr-only">Interval</legend>
          {(Object.keys(TIMEFRAMES) as Timeframe[]).map((t) => (
            <button key={t} type="button" aria-pressed={tf === t} onClick={() => setTf(t)}>
              {t}
            </button>
          ))}
        </fieldset>
        <fieldset className="toggles">
          <legend className="sr-only">Indicators</legend>
          {INDICATORS.map(([k, label]) => (
            <label key={k}>
              <input
                type="checkbox"
                checked={on.has(k)}
                onChange={(e) => {
                  const next = new Set(on);
                  if (e.target.checked) next.add(k);
                  else next.delete(k);
                  setOn(next);
                }}
              />
              {label}
            </label>
          ))}
        </fieldset>
      </div>
      {note && (
        <p className="unavailable" role="note">
          {note}
        </p>
      )}
      <figure
        ref={box}
        className="chart-box"
        aria-label={`${symbol} ${tf} candlestick chart with volume, ${count} bars`}
        data-bars={count}
        data-source={source}
        data-older={older}
        data-panes={PANES.filter((p) => on.has(p)).length}
      />
    </section>
  );
}
