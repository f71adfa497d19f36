/** Date parsing: every written form of a date reads back as that date (property tests), and the day/month order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateOrderOf, parseDate } from './values.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// whole days from 1900 to 2199
const dayArb = fc
  .integer({ min: Date.UTC(1900, 0, 1) / 86_400_000, max: Date.UTC(2199, 11, 31) / 86_400_000 })
  .map((d) => new Date(d * 86_400_000));

type Writer = [name: string, write: (d: Date) => string, order: 'mdy' | 'dmy'];
const WRITERS: Writer[] = [
  ['ISO', (d) => d.toISOString().slice(0, 10), 'mdy'],
  ['YYYY/MM/DD', (d) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`, 'dmy'],
  ['MM/DD/YYYY', (d) => `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`, 'mdy'],
  ['M/D/YYYY', (d) => `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`, 'mdy'],
  ['DD/MM/YYYY', (d) => `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`, 'dmy'],
  ['DD.MM.YYYY', (d) => `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`, 'dmy'],
  ['D-M-YYYY', (d) => `${d.getUTCDate()}-${d.getUTCMonth() + 1}-${d.getUTCFullYear()}`, 'dmy'],
  ['Mon D YYYY', (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${d.getUTCFullYear()}`, 'mdy'],
  ['Mon D, YYYY', (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`, 'dmy'],
  ['Month D, YYYY', (d) => `${LONG[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`, 'mdy'],
  ['D-Mon-YYYY', (d) => `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`, 'mdy'],
  [
    'DD MON YYYY',
    (d) => `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]!.toUpperCase()} ${d.getUTCFullYear()}`,
    'dmy',
  ],
  ['YYYYMMDD', (d) => d.toISOString().slice(0, 10).replaceAll('-', ''), 'mdy'],
];

describe('parseDate', () => {
  it('reads every supported way of writing a date back as that date', () => {
    fc.assert(
      fc.property(dayArb, fc.constantFrom(...WRITERS), (d, [name, write, order]) => {
        const text = write(d);
        const read = parseDate(text, order);
        expect(read, `${name}: ${text}`).toEqual({ ok: true, value: d });
      }),
      { numRuns: 2000 },
    );
  });

  it('reads epoch seconds and milliseconds of any instant from 1973 to 5000 back to that instant', () => {
    const instant = fc.integer({ min: 1e11, max: Date.UTC(5000, 0, 1) }).map((ms) => new Date(ms));
    fc.assert(
      fc.property(instant, (d) => {
        expect(parseDate(String(d.getTime()))).toEqual({ ok: true, value: d });
        const seconds = new Date(Math.floor(d.getTime() / 1000) * 1000);
        expect(parseDate(String(seconds.getTime() / 1000))).toEqual({ ok: true, value: seconds });
      }),
    );
  });

  it('reads ISO date-times with any offset, and a date with a time after it, to the instant they name', () => {
    const instant = fc
      .integer({ min: Date.UTC(1900, 0, 1) / 1000, max: Date.UTC(2199, 0, 1) / 1000 })
      .map((s) => new Date(s * 1000));
    fc.assert(
      fc.property(instant, fc.integer({ min: -14 * 60, max: 14 * 60 }), (d, offset) => {
        const local = new Date(d.getTime() + offset * 60_000);
        const sign = offset < 0 ? '-' : '+';
        const off = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
        const iso = `${local.toISOString().slice(0, 19)}${off}`;
        expect(parseDate(iso)).toEqual({ ok: true, value: d });
        const us = `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)}`;
        expect(parseDate(us)).toEqual({ ok: true, value: d });
      }),
    );
  });

  it('knows the order only from a number above 12', () => {
    fc.assert(
      fc.property(dayArb, (d) => {
        const dmy = `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
        const mdy = `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`;
        const proves = d.getUTCDate() > 12;
        expect(dateOrderOf(dmy)).toBe(proves ? 'dmy' : null);
        expect(dateOrderOf(mdy)).toBe(proves ? 'mdy' : null);
      }),
    );
    expect(dateOrderOf('2000-01-13')).toBeNull();
  });

  it('refuses what is not a date, with a reason', () => {
    expect(parseDate('02/30/2000')).toMatchObject({ ok: false, message: "invalid date '02/30/2000'" });
    expect(parseDate('01/02/00')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/two-digit year/),
    });
    expect(parseDate('yesterday')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/unparseable/),
    });
    expect(parseDate('Foo 3 2000')).toMatchObject({ ok: false });
    expect(parseDate('Jan Feb 2000')).toMatchObject({ ok: false });
    expect(parseDate('')).toMatchObject({ ok: false, message: 'missing date' });
  });
});
