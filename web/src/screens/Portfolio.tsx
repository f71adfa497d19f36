/** Portfolio and reports: equity curve and metrics, statement for a period, CSV/PDF downloads. */
import { AreaSeries, createChart, type UTCTimestamp } from 'lightweight-charts';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, apiResponse } from '../api.ts';
import { Positions } from '../components/AccountPanels.tsx';
import { LoadState } from '../components/Unavailable.tsx';
import { useApi } from '../hooks.ts';
import { fmtCents, toCents } from '../lib/money.ts';
import type { Account, Position } from '../types.ts';

const iso = (d: Date) => d.toISOString().slice(0, 10);

interface Performance {
  equity_curve?: { day: string; equity: string }[];
  [k: string]: unknown;
}

/** A report's figures for display: primitives, and one level of nested objects (max_drawdown.value…) */
function figures(o: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(v)) continue;
    if (v !== null && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>))
        if (v2 === null || typeof v2 !== 'object') out.push([`${k} ${k2}`, v2 === null ? '—' : String(v2)]);
    } else out.push([k, v === null ? '—' : String(v)]);
  }
  return out.map(([k, v]) => [k.replaceAll('_', ' '), v]);
}

function EquityCurve({ points }: { points: { time: number; value: number }[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const css = (n: string) =>
      getComputedStyle(document.documentElement).getPropertyValue(n).trim() || '#888';
    const c = createChart(box.current, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: css('--fg-muted'), attributionLogo: false },
      grid: { vertLines: { color: css('--grid') }, horzLines: { color: css('--grid') } },
    });
    const s = c.addSeries(AreaSeries, {
      lineColor: css('--accent'),
      topColor: css('--accent'),
      bottomColor: 'transparent',
    });
    s.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    c.timeScale().fitContent();
    return () => c.remove();
  }, [points]);
  return (
    <div ref={box} className="equity-box" role="img" aria-label={`Equity curve, ${points.length} days`} />
  );
}

async function download(path: string, query: Record<string, string>, name: string): Promise<void> {
  const res = await apiResponse(path, { query });
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export default function Portfolio() {
  const today = new Date();
  const [from, setFrom] = useState(iso(new Date(today.getTime() - 30 * 86_400_000)));
  const [to, setTo] = useState(iso(today));
  const [period, setPeriod] = useState({ from, to });
  const account = useApi<Account>('/v2/account', {}, 5_000);
  const positions = useApi<Position[]>('/v2/positions', {}, 5_000);
  const perf = useApi<Performance>('/v1/reports/performance', { query: { ...period, benchmark: 'SPY' } });
  const statement = useApi<Record<string, unknown>>('/v1/reports/statement', {
    query: { ...period, format: 'json' },
  });
  const [dlError, setDlError] = useState<string | null>(null);

  function apply(e: FormEvent) {
    e.preventDefault();
    setPeriod({ from, to });
  }
  async function get(format: 'csv' | 'pdf') {
    setDlError(null);
    try {
      await download(
        '/v1/reports/statement',
        { ...period, format },
        `statement-${period.from}-${period.to}.${format}`,
      );
    } catch (err) {
      setDlError(
        err instanceof ApiError && err.unavailable
          ? `Statement ${format.toUpperCase()} unavailable (${err.status || 'network'})`
          : `Download failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  const curve =
    perf.load.state === 'ok'
      ? (perf.load.data.equity_curve ?? [])
          .map((p) => ({
            time: Math.floor(Date.parse(`${p.day}T00:00:00Z`) / 1000),
            value: Number(p.equity),
          }))
          .filter((p) => Number.isFinite(p.time) && Number.isFinite(p.value))
      : [];
  const acct = account.load.state === 'ok' ? account.load.data : null;
  const stmtRows = statement.load.state === 'ok' ? figures(statement.load.data) : [];
  return (
    <div className="portfolio">
      <h1>Portfolio</h1>
      <section className="panel" aria-labelledby="pf-sum">
        <h2 id="pf-sum">Summary</h2>
        {acct ? (
          <dl className="kv">
            <dt>Equity</dt>
            <dd className="num">{fmtCents(toCents(acct.equity))}</dd>
            <dt>Cash</dt>
            <dd className="num">{fmtCents(toCents(acct.cash))}</dd>
            <dt>Positions value</dt>
            <dd className="num">{fmtCents(toCents(acct.long_market_value))}</dd>
            <dt>Buying power</dt>
            <dd className="num">{fmtCents(toCents(acct.buying_power))}</dd>
          </dl>
        ) : (
          <LoadState load={account.load} what="Account" />
        )}
        <Positions positions={positions.load.state === 'ok' ? positions.load.data : null} />
      </section>
      <form className="panel period" onSubmit={apply} aria-label="Report period">
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Show period
        </button>
      </form>
      <section className="panel" aria-labelledby="pf-perf">
        <h2 id="pf-perf">Performance (benchmark SPY)</h2>
        {perf.load.state !== 'ok' ? (
          <LoadState load={perf.load} what="Performance report" />
        ) : (
          <>
            {curve.length > 0 ? (
              <EquityCurve points={curve} />
            ) : (
              <p className="muted">No equity history in this period.</p>
            )}
            <dl className="kv">
              {figures(perf.load.data).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="num">{v}</dd>
                </div>
              ))}
            </dl>
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="pf-stmt">
        <h2 id="pf-stmt">
          Statement {period.from} to {period.to}
        </h2>
        <div className="buttons">
          <button type="button" onClick={() => void get('csv')}>
            Download statement CSV
          </button>
          <button type="button" onClick={() => void get('pdf')}>
            Download statement PDF
          </button>
        </div>
        {dlError && (
          <p className="unavailable" role="alert">
            {dlError}
          </p>
        )}
        {statement.load.state !== 'ok' ? (
          <LoadState load={statement.load} what="Statement" />
        ) : (
          <dl className="kv">
            {stmtRows.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd className="num">{v}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
    </div>
  );
}
