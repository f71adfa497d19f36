/**
 * The reports as the Portfolio screen shows them: the server formats the headline figures
 * (`summary` of the performance report); the statement's totals and the monthly grid are
 * formatted here the same way (dollars with separators, percentages, a true minus sign).
 */
import { toCents } from './money.ts';

export interface SummaryItem {
  key: string;
  label: string;
  display: string;
  note?: string;
}

export interface PerformanceReport {
  account?: string;
  from?: string;
  to?: string;
  started?: string | null;
  summary?: SummaryItem[];
  benchmark?: { symbol: string; available: boolean; unavailable_reason?: string | null };
  cumulative_returns?: { day: string; portfolio: number | null; benchmark: number | null }[];
  drawdowns?: { day: string; drawdown: number | null }[];
  monthly_returns?: { month: string; return: number | null }[];
  yearly_returns?: { year: string; return: number | null }[];
  equity_curve?: { day: string; equity: string }[];
}

export interface StatementReport {
  from?: string;
  to?: string;
  opening_cash?: string;
  closing_cash?: string;
  totals?: {
    deposits?: string;
    withdrawals?: string;
    buys?: string;
    sells?: string;
    fees?: string;
    net_change?: string;
    trades?: number;
    reconciled?: boolean;
  };
}

const MINUS = '−';

/** "-1234.5" → "−$1,234.50"; null → "—" */
export function usd(decimal: string | null | undefined): string {
  const cents = toCents(decimal ?? null);
  if (cents === null) return '—';
  const abs = Math.abs(cents);
  const text = (abs / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${cents < 0 ? MINUS : ''}$${text}`;
}

/** 0.0123 → "1.23%" */
export function percent(x: number | null | undefined, decimals = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const text = Math.abs(x * 100).toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  return `${x < 0 && Number(text.replaceAll(',', '')) !== 0 ? MINUS : ''}${text}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const MONTH_NAMES = MONTHS;

/** "2026-03-02" → "2 Mar 2026" */
export function date(day: string | null | undefined): string {
  const m = day ? /^(\d{4})-(\d{2})-(\d{2})/.exec(day) : null;
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : '—';
}

/** The statement's totals as labelled figures. */
export function statementFigures(s: StatementReport): [string, string][] {
  const t = s.totals ?? {};
  return [
    ['Opening cash', usd(s.opening_cash)],
    ['Deposits', usd(t.deposits)],
    ['Withdrawals', usd(t.withdrawals)],
    ['Bought', usd(t.buys)],
    ['Sold', usd(t.sells)],
    ['Fees', usd(t.fees)],
    ['Net change', usd(t.net_change)],
    ['Closing cash', usd(s.closing_cash)],
    ['Trades', t.trades === undefined ? '—' : t.trades.toLocaleString('en-US')],
    ['Reconciled', t.reconciled === undefined ? '—' : t.reconciled ? 'Yes' : 'No'],
  ];
}

/** Years down, months across: each cell the month's return formatted, '' where there is none. */
export function monthlyGrid(p: PerformanceReport): { year: string; months: string[]; total: string }[] {
  const byMonth = new Map((p.monthly_returns ?? []).map((m) => [m.month, m.return]));
  return (p.yearly_returns ?? []).map((y) => ({
    year: y.year,
    months: MONTHS.map((_, i) => {
      const r = byMonth.get(`${y.year}-${String(i + 1).padStart(2, '0')}`);
      return r === undefined ? '' : percent(r, 1);
    }),
    total: percent(y.return, 1),
  }));
}
