/**
 * Alpaca's GET /v2/account/portfolio/history, from the performance report's daily equity curve
 * (performance.ts): one point per day since the account's first funding inside the period.
 * `profit_loss` is the gain since the base day net of deposits and withdrawals; `profit_loss_pct`
 * the time-weighted return, so a deposit is not counted as profit. Only daily points exist: an
 * intraday `timeframe` is a 501 naming it.
 */
import type { Queryable } from '../../platform/db/types.ts';
import { DAY_MS, dayOf, dayStart } from './format.ts';
import { performance } from './performance.ts';
import { periodOf } from './period.ts';
import { fieldError, invalidField, problem } from './problems.ts';

export interface PortfolioHistoryQuery {
  period?: string;
  timeframe?: string;
  start?: string;
  end?: string;
  intraday_reporting?: string;
  pnl_reset?: string;
  extended_hours?: string;
  cashflow_types?: string;
}

export const portfolioHistoryQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    period: { type: 'string', pattern: '^[1-9][0-9]{0,3}[DWMA]$' },
    timeframe: { type: 'string', enum: ['1Min', '5Min', '15Min', '1H', '1D'] },
    start: { type: 'string', maxLength: 40 },
    end: { type: 'string', maxLength: 40 },
    intraday_reporting: { type: 'string', enum: ['market_hours', 'extended_hours', 'continuous'] },
    pnl_reset: { type: 'string', enum: ['per_day', 'no_reset'] },
    extended_hours: { type: 'string', enum: ['true', 'false'] },
    cashflow_types: { type: 'string', maxLength: 200 },
  },
} as const;

const UNIT_DAYS: Record<string, number> = { D: 1, W: 7, M: 30, A: 365 };

function dateOf(field: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalidField('querystring', field, 'must be a date or RFC 3339 date-time');
  return dayOf(ms);
}

export async function portfolioHistory(
  db: Queryable,
  account: string,
  q: PortfolioHistoryQuery,
  now: number,
) {
  if (q.timeframe !== undefined && q.timeframe !== '1D')
    throw problem(
      501,
      'not-implemented',
      'Not implemented',
      `Bourse keeps daily equity only: timeframe ${q.timeframe}`,
      {
        errors: [fieldError('querystring', 'timeframe', 'only 1D is supported')],
      },
    );
  const to = dateOf('end', q.end) ?? dayOf(now);
  let from = dateOf('start', q.start);
  if (from === undefined) {
    const m = /^(\d+)([DWMA])$/.exec(q.period ?? '1M')!;
    const days = Number(m[1]) * UNIT_DAYS[m[2]!]!;
    from = dayOf(dayStart(to) - (days - 1) * DAY_MS);
  }
  const period = periodOf({ from, to }, now);
  const report = await performance(db, account, period, { benchmark: '', riskFree: 0 });
  const flows = report.curve.map((c) => c.flow);
  const base = report.curve.length > 0 ? report.curve[0]!.equity - report.curve[0]!.flow : 0;
  const baseValue = report.curve.length > 0 ? Math.max(base, 0) : 0;
  let netFlows = 0;
  return {
    timestamp: report.curve.map((c) => dayStart(c.day) / 1000),
    equity: report.curve.map((c) => c.equity / 100),
    profit_loss: report.curve.map((c, i) => {
      netFlows += flows[i]!;
      return Math.round(c.equity - baseValue - netFlows) / 100;
    }),
    profit_loss_pct: report.curve.map((c) => Number((c.index - 1).toFixed(6))),
    base_value: baseValue / 100,
    base_value_asof: period.from,
    timeframe: '1D',
  };
}
