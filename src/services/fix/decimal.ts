/**
 * FIX numbers at the edge, integers inside: prices in cents, quantities in whole shares. Values
 * are read from the message text exactly as sent (never through a float) and never rounded: a price
 * off the cent grid or a fractional quantity is refused with a reason. Outbound prices are written
 * as decimal strings, which jspurefix puts on the wire unchanged.
 */

// The orders service's bounds (and those of exact integer arithmetic in the engine).
export const MAX_PRICE_CENTS = 10_000_000_000;
export const MAX_QTY = 1_000_000_000;

const DECIMAL = /^(\d{1,15})(?:\.(\d{1,20}))?$/;

/** `malformed`: not a decimal number at all; otherwise a number Bourse does not take. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; malformed: boolean };

/** '187.25' → 18725 cents; '187.255', '0', '-1', '1e3' are refused. */
export function parsePrice(text: string): Parsed<number> {
  const m = DECIMAL.exec(text);
  if (!m)
    return { ok: false, malformed: true, reason: `'${text}' is not a positive decimal price such as 187.25` };
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > 2)
    return {
      ok: false,
      malformed: false,
      reason: `${text} is off the price grid: prices are in whole cents`,
    };
  const cents = Number(m[1]) * 100 + Number(fraction.padEnd(2, '0'));
  if (cents < 1 || cents > MAX_PRICE_CENTS)
    return {
      ok: false,
      malformed: false,
      reason: `${text} is outside 0.01 to ${formatCents(MAX_PRICE_CENTS)}`,
    };
  return { ok: true, value: cents };
}

/** '10' or '10.0' → 10 shares; '10.5', '0' and '-1' are refused. */
export function parseQty(text: string): Parsed<number> {
  const m = DECIMAL.exec(text);
  if (!m) return { ok: false, malformed: true, reason: `'${text}' is not a whole number of shares` };
  if (/[1-9]/.test(m[2] ?? ''))
    return { ok: false, malformed: false, reason: `${text} is fractional: only whole shares trade` };
  const qty = Number(m[1]);
  if (qty < 1 || qty > MAX_QTY)
    return { ok: false, malformed: false, reason: `${text} is outside 1 to ${MAX_QTY}` };
  return { ok: true, value: qty };
}

/** 18725 → '187.25'. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * An average price, notional cents / shares, in dollars: exact to 6 decimals (rounded half up),
 * trailing zeros beyond the cents dropped. 0 shares → '0'.
 */
export function formatAvgPx(notionalCents: number, qty: number): string {
  if (qty === 0) return '0';
  const scale = 1_000_000n;
  const scaled = (BigInt(notionalCents) * scale * 2n + BigInt(qty) * 100n) / (BigInt(qty) * 100n * 2n);
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}

/** FIX UTCTimestamp with milliseconds: 20261127-14:30:05.123. */
export function fixTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-27T14:30:05.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
}
