/**
 * Figures as a person reads them: percentages, US dollars with thousands separators, prices at
 * their tick, ratios to two decimals, dates as dates. Used for the `display` blocks of the JSON
 * reports, the PDF and the CSV headers' units; the raw numbers stay beside them for programs.
 * Negative numbers take a true minus sign (U+2212); a missing value is "n/a".
 */

export const NA = 'n/a';
const MINUS = '−';

function group(abs: number, decimals: number): string {
  return abs.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** 0.0123 → "1.23%", −0.5 → "−50.00%" */
export function percent(x: number | null | undefined, decimals = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NA;
  const p = x * 100;
  const text = group(Math.abs(p), decimals);
  return `${p < 0 && text !== group(0, decimals) ? MINUS : ''}${text}%`;
}

/** integer cents → "$1,234.56", −5 → "−$0.05" */
export function usd(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return NA;
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100);
  const rest = abs % 100;
  return `${cents < 0 ? MINUS : ''}$${dollars.toLocaleString('en-US')}.${String(rest).padStart(2, '0')}`;
}

/** a decimal-string amount from the reports ("-1234.50") → "−$1,234.50" */
export function usdOf(decimal: string | null | undefined): string {
  if (decimal === null || decimal === undefined) return NA;
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(decimal);
  if (!m) return decimal;
  return usd((m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'))));
}

/** 1.2345 → "1.23" (ratios such as Sharpe, beta, correlation) */
export function ratio2(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NA;
  const text = group(Math.abs(x), 2);
  return `${x < 0 && text !== '0.00' ? MINUS : ''}${text}`;
}

/** a count with thousands separators: 1234567 → "1,234,567" */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return NA;
  return `${n < 0 ? MINUS : ''}${Math.abs(n).toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

/**
 * Decimals a price is quoted in: those of the instrument's tick (2 for a cent tick), and for a
 * symbol that is not listed here, 2 — 4 below a dollar, as sub-dollar stocks are quoted.
 */
export function priceDecimals(tickCents: number | null, price?: number | null): number {
  if (tickCents !== null && tickCents > 0) {
    const tick = tickCents / 100;
    const text = String(tick);
    const dot = text.indexOf('.');
    return Math.max(2, dot < 0 ? 0 : text.length - dot - 1);
  }
  return price !== null && price !== undefined && Math.abs(price) < 1 ? 4 : 2;
}

/** 1234.5 at 2 decimals → "1,234.50" */
export function price(x: number | null | undefined, decimals: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return NA;
  return `${x < 0 ? MINUS : ''}${group(Math.abs(x), decimals)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2024-01-03" (or an ISO time) → "3 Jan 2024" */
export function date(day: string | null | undefined): string {
  if (!day) return NA;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!m) return day;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

/** an instant → "3 Jan 2024 14:30 UTC" */
export function dateTime(iso: string): string {
  return `${date(iso)} ${iso.slice(11, 16)} UTC`;
}

export const MONTH_NAMES = MONTHS;
