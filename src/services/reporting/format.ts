/** Units at the edge: integer cents in, decimal strings out (as the rest of the API speaks). */

/** 123456 → '1234.56', -5 → '-0.05'. Exact for every safe integer. */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  return `${sign}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** '1234.56' → 123456 (the inverse of money; for tests and clients). */
export function centsOf(decimal: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(decimal);
  if (!m) throw new Error(`not a cents amount: ${decimal}`);
  const cents = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -cents : cents;
}

/** A ratio rounded to 10 significant decimals for JSON (null stays null). */
export function ratio(x: number | null): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  return Math.round(x * 1e10) / 1e10;
}

export const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' (UTC) → epoch ms of its midnight. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface Period {
  from: string;
  to: string;
  /** [start, end): start of `from`, start of the day after `to` */
  start: Date;
  end: Date;
  days: number;
}
