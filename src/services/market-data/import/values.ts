/**
 * Cell values of history files: dates and numbers as people and exporters write them. Each parser
 * returns the value or a message saying what is wrong with the text, never a guess.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// 2024-01-31T14:30:00Z, 2024-01-31 14:30, 2024-01-31T14:30:00.250-05:00
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/**
 * A calendar date or a date-time. Dates without a time are midnight UTC; date-times without an
 * offset are read as UTC too (files rarely say which exchange clock they use, and guessing one
 * would shift every bar).
 */
export function parseDate(text: string): Parsed<Date> {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'missing date' };
  let m = ISO_DATE.exec(s);
  if (m) return calendar(s, Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, 0, 0);
  m = US_DATE.exec(s);
  if (m) return calendar(s, Number(m[3]), Number(m[1]), Number(m[2]), 0, 0, 0, 0, 0);
  m = ISO_DATE_TIME.exec(s);
  if (m) {
    const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
    const offset = m[8] ? parseOffset(m[8]) : 0;
    if (offset === null) return { ok: false, message: `bad time zone offset in date '${s}'` };
    return calendar(
      s,
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      ms,
      offset,
    );
  }
  return {
    ok: false,
    message: `unparseable date '${s}' (expected YYYY-MM-DD, an ISO date-time or MM/DD/YYYY)`,
  };
}

function parseOffset(text: string): number | null {
  if (text === 'Z' || text === 'z') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function calendar(
  text: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): Parsed<Date> {
  const fields = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC rolls 02/30 over into March; a date that does not survive the round trip is not a date
  if (
    year < 1000 ||
    fields.getUTCFullYear() !== year ||
    fields.getUTCMonth() !== month - 1 ||
    fields.getUTCDate() !== day ||
    fields.getUTCHours() !== hour ||
    fields.getUTCMinutes() !== minute ||
    fields.getUTCSeconds() !== second
  ) {
    return { ok: false, message: `invalid date '${text}'` };
  }
  return { ok: true, value: new Date(fields.getTime() - offsetMinutes * 60_000) };
}

const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// only well-formed groups of three: "1,234,567.5" is a thousands-separated number, "1,5" is not
const GROUPED_NUMBER = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$/;

/** A decimal number, optionally with thousands separators ("1,234,567"). `Number('')` is 0; this is not. */
export function parseNumber(text: string): Parsed<number> {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'empty' };
  const plain = GROUPED_NUMBER.test(s) ? s.replaceAll(',', '') : s;
  if (!PLAIN_NUMBER.test(plain)) return { ok: false, message: `'${s}' is not a number` };
  const value = Number(plain);
  if (!Number.isFinite(value)) return { ok: false, message: `'${s}' is out of range` };
  return { ok: true, value };
}
