/**
 * Cell values of history files: dates and numbers as people and exporters write them. Each parser
 * returns the value or a message saying what is wrong with the text, never a guess.
 *
 * Dates (all read as UTC; a date without a time is midnight UTC):
 * - ISO: 2000-01-03, 2000/01/03, 2000-01-03T14:30:00Z, 2000-01-03 14:30, with an offset or not;
 * - numeric day and month: 01/03/2000, 1-3-2000, 03.01.2000 — month first (US, Yahoo's and
 *   Excel's US exports) unless the order is `dmy`; see DateOrder;
 * - a month name in any order: Jan 3 2000, Jan 3, 2000, January 3, 2000, 3 Jan 2000, 3-Jan-2000;
 * - compact YYYYMMDD (Stooq): 20000103;
 * - epoch numbers: seconds below 10^11 (until the year 5138), milliseconds from there on. An
 *   8-digit number that is a valid YYYYMMDD date is read as that date, not as seconds of 1970.
 * Years have four digits: a two-digit year is refused rather than guessed.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** How a numeric `a/b/yyyy` date is read: month first (US, the default) or day first. */
export type DateOrder = 'mdy' | 'dmy';
export const DATE_ORDERS: readonly DateOrder[] = ['mdy', 'dmy'];

const ISO_DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/;
// 2024-01-31T14:30:00Z, 2024-01-31 14:30, 2024-01-31T14:30:00.250-05:00
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?$/;
const NUMERIC_DMY = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const EPOCH = /^\d{1,15}(?:\.\d+)?$/;
const TIME_TEXT = String.raw`\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?\s*(?:Z|z|UTC|[+-]\d{2}:?\d{2})?`;
// the shortest date part followed by an optional time of day at the end
const DATE_THEN_TIME = new RegExp(String.raw`^(.*?)(?:[T ]\s*(${TIME_TEXT}))?$`);
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?$/;

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

const EXPECTED =
  'expected YYYY-MM-DD, an ISO date-time, MM/DD/YYYY (or DD/MM/YYYY with date format dmy), ' +
  'Jan 3 2000, 3-Jan-2000, YYYYMMDD or epoch seconds/milliseconds';

/**
 * Which order a numeric date proves, if any: `13/01/2000` can only be day first, `01/13/2000`
 * only month first; `01/02/2000` proves nothing (null), nor does any other form.
 */
export function dateOrderOf(text: string): DateOrder | null {
  const m = NUMERIC_DMY.exec(text.trim().split(/[ T]/)[0]!);
  if (!m) return null;
  const a = Number(m[1]);
  const b = Number(m[3]);
  if (a > 12 && b >= 1 && b <= 12) return 'dmy';
  if (b > 12 && a >= 1 && a <= 12) return 'mdy';
  return null;
}

/** A calendar date or a date-time (see the file header). */
export function parseDate(text: string, order: DateOrder = 'mdy'): Parsed<Date> {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'missing date' };

  let m = ISO_DATE_TIME.exec(s);
  if (m) {
    return calendar(s, Number(m[1]), Number(m[2]), Number(m[3]), {
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6] ?? 0),
      fraction: m[7],
      offset: m[8],
    });
  }
  if (EPOCH.test(s)) return epochOrCompact(s);

  // the date part, then an optional time: "01/03/2000 09:30", "Jan 3, 2000 09:30", "2000/01/03T09:30Z"
  const split = DATE_THEN_TIME.exec(s)!;
  const datePart = split[1]!.trim();
  let time: TimeOfDay | undefined;
  if (split[2] !== undefined) {
    const t = TIME.exec(split[2])!;
    time = {
      hour: Number(t[1]),
      minute: Number(t[2]),
      second: Number(t[3] ?? 0),
      fraction: t[4],
      offset: t[5],
    };
  }

  m = ISO_DATE.exec(datePart);
  if (m) return calendar(s, Number(m[1]), Number(m[2]), Number(m[3]), time);
  m = NUMERIC_DMY.exec(datePart);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const [month, day] = order === 'mdy' ? [a, b] : [b, a];
    const read = calendar(s, Number(m[4]), month, day, time);
    if (!read.ok && dateOrderOf(datePart) !== null && dateOrderOf(datePart) !== order) {
      const other = order === 'mdy' ? 'dmy' : 'mdy';
      return {
        ok: false,
        message: `invalid date '${s}' read as ${order === 'mdy' ? 'MM/DD/YYYY' : 'DD/MM/YYYY'} (it is valid with date format ${other})`,
      };
    }
    return read;
  }
  const named = monthNameDate(datePart);
  if (named) return calendar(s, named.year, named.month, named.day, time);
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}$/.test(datePart)) {
    return { ok: false, message: `two-digit year in '${s}': write the year with four digits` };
  }
  return { ok: false, message: `unparseable date '${s}' (${EXPECTED})` };
}

/** "Jan 3 2000", "3-Jan-2000", "January 3, 2000", "2000 Jan 3": one month name, a 4-digit year, a day. */
function monthNameDate(text: string): { year: number; month: number; day: number } | null {
  const tokens = text.split(/[\s,/.-]+/).filter((t) => t !== '');
  if (tokens.length !== 3) return null;
  let month: number | undefined;
  let year: number | undefined;
  let day: number | undefined;
  for (const t of tokens) {
    const name = MONTHS[t.toLowerCase()];
    if (name !== undefined) {
      if (month !== undefined) return null;
      month = name;
    } else if (/^\d{4}$/.test(t)) {
      if (year !== undefined) return null;
      year = Number(t);
    } else if (/^\d{1,2}(?:st|nd|rd|th)?$/i.test(t)) {
      if (day !== undefined) return null;
      day = Number.parseInt(t, 10);
    } else return null;
  }
  if (month === undefined || year === undefined || day === undefined) return null;
  return { year, month, day };
}

function epochOrCompact(s: string): Parsed<Date> {
  const compact = COMPACT.exec(s);
  if (compact) {
    const year = Number(compact[1]);
    if (year >= 1800 && year < 2200) {
      const read = calendar(s, year, Number(compact[2]), Number(compact[3]));
      if (read.ok) return read;
    }
  }
  const n = Number(s);
  // seconds until 10^11 (the year 5138); beyond that the number can only be milliseconds
  const ms = n < 1e11 ? n * 1000 : n;
  const d = new Date(Math.round(ms));
  if (!Number.isFinite(d.getTime()) || d.getUTCFullYear() > 9999)
    return { ok: false, message: `date '${s}' is out of range` };
  return { ok: true, value: d };
}

interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
  /** digits after the decimal point of the seconds */
  fraction?: string | undefined;
  offset?: string | undefined;
}

function parseOffset(text: string): number | null {
  if (text === 'Z' || text === 'z' || text === 'UTC') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function calendar(text: string, year: number, month: number, day: number, time?: TimeOfDay): Parsed<Date> {
  const hour = time?.hour ?? 0;
  const minute = time?.minute ?? 0;
  const second = time?.second ?? 0;
  const ms = time?.fraction ? Number(time.fraction.padEnd(3, '0').slice(0, 3)) : 0;
  const offset = time?.offset ? parseOffset(time.offset) : 0;
  if (offset === null) return { ok: false, message: `bad time zone offset in date '${text}'` };
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
  return { ok: true, value: new Date(fields.getTime() - offset * 60_000) };
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

/** Cells that spreadsheets and exporters write for "no value here". */
export function isMissing(text: string): boolean {
  const s = text.trim().toLowerCase();
  return s === '' || s === 'null' || s === 'nan' || s === 'n/a' || s === '#n/a' || s === '-' || s === 'na';
}
