/**
 * Decimal strings at the edge, integers inside: prices in cents, quantities in whole shares,
 * cash in cents. Input is parsed exactly, never through a float, and never rounded: a price that
 * is not a whole number of cents, or a fractional quantity, is refused naming the field.
 * Alpaca clients send both strings ("187.25") and JSON numbers (187.25); both are accepted.
 */
import { invalidField } from '../problems.ts';

// Bounds of the orders service (and of exact integer arithmetic in the engine).
export const MAX_PRICE_CENTS = 10_000_000_000;
export const MAX_QTY = 1_000_000_000;

const DECIMAL = /^(\d{1,15})(?:\.(\d{1,20}))?$/;

/** '187.25' / 187.25 → 18725 cents; off the cent grid, zero, negative or not a number → 422. */
export function parsePrice(value: string | number, field: string, where = 'body'): number {
  const text = typeof value === 'number' ? String(value) : value;
  const m = DECIMAL.exec(text);
  if (!m) throw invalidField(where, field, 'must be a positive decimal number such as "187.25"');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > 2) {
    throw invalidField(where, field, `${text} has more than 2 decimal places: prices are in whole cents`);
  }
  const cents = Number(m[1]) * 100 + Number(fraction.padEnd(2, '0'));
  if (cents < 1 || cents > MAX_PRICE_CENTS) {
    throw invalidField(where, field, `must be from 0.01 to ${formatCents(MAX_PRICE_CENTS)}`);
  }
  return cents;
}

/** '10' / 10 / '10.0' → 10 shares; fractional, zero, negative or too large → 422. */
export function parseQty(value: string | number, field: string, where = 'body'): number {
  const text = typeof value === 'number' ? String(value) : value;
  const m = DECIMAL.exec(text);
  if (!m) throw invalidField(where, field, 'must be a positive whole number of shares such as "10"');
  if (/[1-9]/.test(m[2] ?? ''))
    throw invalidField(where, field, `${text} is fractional: only whole shares trade`);
  const qty = Number(m[1]);
  if (qty < 1 || qty > MAX_QTY) throw invalidField(where, field, `must be from 1 to ${MAX_QTY}`);
  return qty;
}

/**
 * A trailing stop's trail_percent, Alpaca's decimal percent ('1.5' = 1.5%), → basis points (150).
 * Off the basis-point grid (more than 2 decimals), zero, or 100% and more → 422.
 */
export function parsePercentBps(value: string | number, field: string, where = 'body'): number {
  const text = typeof value === 'number' ? String(value) : value;
  const m = DECIMAL.exec(text);
  if (!m) throw invalidField(where, field, 'must be a positive decimal percent such as "1.5"');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > 2) throw invalidField(where, field, `${text} is finer than a basis point (0.01%)`);
  const bps = Number(m[1]) * 100 + Number(fraction.padEnd(2, '0'));
  if (bps < 1 || bps > 9_999) throw invalidField(where, field, 'must be from 0.01 to 99.99');
  return bps;
}

/** 150 basis points → '1.5' (percent). */
export function formatBpsPercent(bps: number): string {
  const whole = Math.floor(bps / 100);
  const frac = String(bps % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}

/** 18725 → '187.25'; -5 → '-0.05'. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** Integers as decimal strings: shares, counts. */
export const formatInt = (n: number): string => String(n);

/**
 * `numerator / denominator` (integers, e.g. notional cents / shares) as a decimal string of a
 * price in dollars with up to `places` decimals, rounded half up. Exact for any safe integers.
 */
export function formatRatioCents(numerator: number, denominator: number, places = 4): string {
  const scale = 10n ** BigInt(places);
  const n = BigInt(numerator) * scale;
  const d = BigInt(denominator) * 100n;
  const negative = n < 0n !== d < 0n && n !== 0n;
  const absN = n < 0n ? -n : n;
  const absD = d < 0n ? -d : d;
  const q = (absN * 2n + absD) / (absD * 2n);
  const whole = q / scale;
  const frac = (q % scale).toString().padStart(places, '0').replace(/0+$/, '');
  const digits = frac.length < 2 ? frac.padEnd(2, '0') : frac;
  return `${negative ? '-' : ''}${whole}.${digits}`;
}

/** A ratio as a decimal string (percent changes): display only, so a float is fine here. */
export function formatRatio(value: number, places = 4): string {
  if (!Number.isFinite(value)) return '0';
  return value.toFixed(places).replace(/\.?0+$/, '') || '0';
}
