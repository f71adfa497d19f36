/** Money on the client: decimal strings from the API ↔ integer cents, never floats for amounts. */

const DECIMAL = /^(-)?(\d+)(?:\.(\d{1,}))?$/;

/** "187.25" → 18725; "-3.5" → -350; more than 2 decimals are truncated toward zero (display only). */
export function toCents(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const s = typeof value === 'number' ? value.toFixed(2) : value.trim();
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const cents = Number(m[2]) * 100 + Number(((m[3] ?? '') + '00').slice(0, 2));
  return m[1] ? -cents : cents;
}

const grouped = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 1234567 → "12,345.67" (sign kept) */
export function fmtCents(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '—';
  return grouped.format(cents / 100);
}

/** 1234 → "+12.34" / "-12.34" / "0.00" */
export function fmtSignedCents(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '—';
  const s = fmtCents(Math.abs(cents));
  return cents > 0 ? `+${s}` : cents < 0 ? `-${s}` : s;
}

/** cents → the API's decimal string: 18725 → "187.25" */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const a = Math.abs(Math.trunc(cents));
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

export function fmtPct(ratio: number | null | undefined, digits = 2): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  const v = (ratio * 100).toFixed(digits);
  return ratio > 0 ? `+${v}%` : `${v}%`;
}

export function fmtQty(n: number | string | null | undefined): string {
  if (n === null || n === undefined || n === '') return '—';
  const v = typeof n === 'string' ? Number(n) : n;
  return Number.isFinite(v) ? v.toLocaleString('en-US') : String(n);
}

/** 'up' | 'down' | 'flat': the colour class of a change */
export function direction(x: number | null | undefined): 'up' | 'down' | 'flat' {
  if (x === null || x === undefined || x === 0 || !Number.isFinite(x)) return 'flat';
  return x > 0 ? 'up' : 'down';
}
