/**
 * Portfolio and reports: key metrics as cards, cumulative return against the benchmark, drawdown
 * and monthly returns (the web tear sheet), the statement for a period, CSV/PDF downloads.
 * Figures come formatted (the report's `summary`); nothing raw, no account id.
 */
import { type FormEvent, useState } from 'react';
import { ApiError, apiResponse } from '../api.ts';
import { Positions } from '../components/AccountPanels.tsx';
import { CumulativeChart, DrawdownChart, MetricCards, MonthlyReturns } from '../components/ReportViews.tsx';
import { LoadState } from '../components/Unavailable.tsx';
import { useApi } from '../hooks.ts';
import { fmtCents, toCents } from '../lib/money.ts';
import { date, type PerformanceReport, type StatementReport, statementFigures } from '../lib/report.ts';
import type { Account, Position } from '../types.ts';

const iso = (d: Date) => d.toISOString().slice(0, 10);

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
  const perf = useApi<PerformanceReport>('/v1/reports/performance', {
    query: { ...period, benchmark: 'SPY' },
  });
  const statement = useApi<StatementReport>('/v1/reports/statement', {
    query: { ...period, format: 'json' },
  });
  const [dlError, setDlError] = useState<string | null>(null);

  function apply(e: FormEvent) {
    e.preventDefault();
    setPeriod({ from, to });
  }
  async function get(report: 'statement' | 'performance', format: 'csv' | 'pdf') {
    setDlError(null);
    const what = report === 'statement' ? 'Statement' : 'Tear sheet';
    try {
      await download(
        `/v1/reports/${report}`,
        { ...period, format, ...(report === 'performance' && { benchmark: 'SPY' }) },
        `${report === 'statement' ? 'statement' : 'tear-sheet'}-${period.from}-${period.to}.${format}`,
      );
    } catch (err) {
      setDlError(
        err instanceof ApiError && err.unavailable
          ? `${what} ${format.toUpperCase()} unavailable (${err.status || 'network'})`
          : `Download failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  const acct = account.load.state === 'ok' ? account.load.data : null;
  const report = perf.load.state === 'ok' ? perf.load.data : null;
  const stmtRows = statement.load.state === 'ok' ? statementFigures(statement.load.data) : [];
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
        <h2 id="pf-perf">Performance against SPY</h2>
        <div className="buttons">
          <button type="button" onClick={() => void get('performance', 'pdf')}>
            Download tear sheet PDF
          </button>
        </div>
        {!report ? (
          <LoadState load={perf.load} what="Performance report" />
        ) : (
          <>
            {report.started && report.started !== report.from && (
              <p className="muted">History from {date(report.started)}, the account's first funding.</p>
            )}
            <MetricCards items={report.summary ?? []} />
            {(report.cumulative_returns ?? []).length > 1 ? (
              <>
                <h3>Cumulative return</h3>
                <CumulativeChart report={report} />
                <h3>Drawdown</h3>
                <DrawdownChart report={report} />
              </>
            ) : (
              <p className="muted">No equity history in this period.</p>
            )}
            <h3>Monthly returns</h3>
            <MonthlyReturns report={report} />
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="pf-stmt">
        <h2 id="pf-stmt">
          Statement {date(period.from)} to {date(period.to)}
        </h2>
        <div className="buttons">
          <button type="button" onClick={() => void get('statement', 'csv')}>
            Download statement CSV
          </button>
          <button type="button" onClick={() => void get('statement', 'pdf')}>
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
