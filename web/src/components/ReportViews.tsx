/** The performance report as cards, charts and a monthly table (the web tear sheet). */
import { AreaSeries, createChart, LineSeries, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import { MONTH_NAMES, monthlyGrid, type PerformanceReport, type SummaryItem } from '../lib/report.ts';

export function MetricCards({ items }: { items: SummaryItem[] }) {
  return (
    <ul className="metric-cards" aria-label="Key metrics">
      {items.map((m) => (
        <li key={m.key} className="metric-card" data-key={m.key}>
          <span className="metric-label">{m.label}</span>
          <span className={`metric-value num${m.display.startsWith('−') ? ' neg' : ''}`}>{m.display}</span>
          {m.note && <span className="metric-note">{m.note}</span>}
        </li>
      ))}
    </ul>
  );
}

export function MonthlyReturns({ report }: { report: PerformanceReport }) {
  const rows = monthlyGrid(report);
  if (rows.length === 0) return <p className="muted">No monthly returns in this period.</p>;
  return (
    <table className="monthly" aria-label="Monthly returns">
      <thead>
        <tr>
          <th scope="col">Year</th>
          {MONTH_NAMES.map((m) => (
            <th key={m} scope="col">
              {m}
            </th>
          ))}
          <th scope="col">Year</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.year}>
            <th scope="row">{r.year}</th>
            {r.months.map((m, i) => (
              <td
                key={MONTH_NAMES[i]}
                className={`num${m.startsWith('−') ? ' neg' : m && m !== '0.0%' ? ' pos' : ''}`}
              >
                {m}
              </td>
            ))}
            <td className="num total">{r.total}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const css = (n: string) => getComputedStyle(document.documentElement).getPropertyValue(n).trim() || '#888';
const time = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) as UTCTimestamp;

function makeChart(el: HTMLElement) {
  return createChart(el, {
    autoSize: true,
    layout: { background: { color: 'transparent' }, textColor: css('--fg-muted'), attributionLogo: false },
    grid: { vertLines: { color: css('--grid') }, horzLines: { color: css('--grid') } },
    localization: { priceFormatter: (v: number) => `${(v * 100).toFixed(1)}%` },
  });
}

/** Cumulative return of the portfolio (time-weighted) against the benchmark. */
export function CumulativeChart({ report }: { report: PerformanceReport }) {
  const points = report.cumulative_returns ?? [];
  const symbol = report.benchmark?.symbol ?? 'benchmark';
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const c = makeChart(box.current);
    c.addSeries(LineSeries, { color: css('--accent'), lineWidth: 2, title: 'Portfolio' }).setData(
      points.filter((p) => p.portfolio !== null).map((p) => ({ time: time(p.day), value: p.portfolio! })),
    );
    const bench = points.filter((p) => p.benchmark !== null);
    if (bench.length > 0) {
      c.addSeries(LineSeries, { color: '#e07b00', lineWidth: 1, title: symbol }).setData(
        bench.map((p) => ({ time: time(p.day), value: p.benchmark! })),
      );
    }
    c.timeScale().fitContent();
    return () => c.remove();
  }, [points, symbol]);
  return (
    <div
      ref={box}
      className="equity-box"
      role="img"
      aria-label={`Cumulative return against ${symbol}, ${points.length} days`}
    />
  );
}

/** How far below its high-water mark the portfolio was each day. */
export function DrawdownChart({ report }: { report: PerformanceReport }) {
  const points = report.drawdowns ?? [];
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const c = makeChart(box.current);
    c.addSeries(AreaSeries, {
      lineColor: '#c0392b',
      topColor: 'rgba(192, 57, 43, 0.05)',
      bottomColor: 'rgba(192, 57, 43, 0.4)',
      invertFilledArea: true,
    }).setData(
      points.filter((p) => p.drawdown !== null).map((p) => ({ time: time(p.day), value: p.drawdown! })),
    );
  }, [points]);
  return <div ref={box} className="equity-box" role="img" aria-label={`Drawdown, ${points.length} days`} />;
}
