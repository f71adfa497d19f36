/** Decimal strings at the API, integer cents inside (DESIGN.md: no floating point for money). */

export const PRICE_PATTERN = '^(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?$';
const PRICE_RE = new RegExp(PRICE_PATTERN);

/** '187.25' → 18725; null when it is not a price on the cent grid. */
export function decimalToCents(s: string): number | null {
  if (!PRICE_RE.test(s)) return null;
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** 18725 → '187.25', -5 → '-0.05' */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
