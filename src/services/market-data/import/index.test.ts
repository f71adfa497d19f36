import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HistoryRow, MAX_ROWS, parseHistory } from './index.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/market-data/${name}`, import.meta.url), 'utf8');
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

describe('parseHistory: fixtures', () => {
  it('reads a Yahoo export (BOM, Adj Close) into sorted rows', () => {
    const { rows, errors, layout } = parseHistory(fixture('yahoo-acme.csv'));
    expect(errors).toEqual([]);
    expect(layout).toBe('csv-ohlcv-adj');
    expect(rows).toHaveLength(8);
    expect(rows[0]).toEqual({
      date: day('2024-01-02'),
      open: 187.149994,
      high: 188.440002,
      low: 183.889999,
      close: 185.639999,
      adjClose: 184.938217,
      volume: 82488700,
    });
    expect(rows[7]!.date).toEqual(day('2024-01-11'));
  });

  it('reads US dates, quoted fields, thousands separators and CRLF, and sorts by date', () => {
    const { rows, errors, layout } = parseHistory(fixture('us-dates.csv'));
    expect(errors).toEqual([]);
    expect(layout).toBe('csv-ohlcv');
    expect(rows.map((r) => r.date)).toEqual([
      day('2023-12-29'),
      day('2024-01-02'),
      day('2024-01-03'),
      day('2024-01-04'),
    ]);
    expect(rows[0]).toEqual({
      date: day('2023-12-29'),
      open: 193.9,
      high: 194.4,
      low: 191.73,
      close: 192.53,
      volume: 42628800,
    });
    expect(rows[1]!.adjClose).toBeUndefined();
  });

  it('reads a date,price series as flat bars with no volume, skipping the blank line', () => {
    const { rows, errors, layout } = parseHistory(fixture('date-price.csv'));
    expect(errors).toEqual([]);
    expect(layout).toBe('csv-price');
    expect(rows).toHaveLength(4);
    expect(rows[2]).toEqual({
      date: day('2024-03-05'),
      open: 49.9,
      high: 49.9,
      low: 49.9,
      close: 49.9,
      volume: 0,
    });
  });

  it('reads tab-separated intraday rows with ISO date-times and offsets', () => {
    const { rows, errors, layout } = parseHistory(fixture('intraday.tsv'));
    expect(errors).toEqual([]);
    expect(layout).toBe('csv-ohlcv');
    expect(rows.map((r) => r.date.toISOString())).toEqual([
      '2024-01-31T14:30:00.000Z',
      '2024-01-31T14:31:00.000Z',
      '2024-01-31T14:32:00.000Z',
    ]);
  });

  it('reads Alpaca bars wrapped in {bars: [...]}, ignoring extra keys', () => {
    const { rows, errors, layout } = parseHistory(fixture('alpaca-bars.json'));
    expect(errors).toEqual([]);
    expect(layout).toBe('json-bars');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toEqual({
      date: new Date('2024-02-02T05:00:00Z'),
      open: 179.86,
      high: 187.33,
      low: 179.25,
      close: 185.85,
      volume: 102551680,
    });
  });

  it('reads a JSON array with keys in any case and numbers as strings', () => {
    const { rows, errors, layout } = parseHistory(fixture('ohlcv.json'));
    expect(errors).toEqual([]);
    expect(layout).toBe('json-ohlcv');
    expect(rows.map((r) => r.date)).toEqual([day('2024-02-05'), day('2024-02-06')]);
    expect(rows[0]!.adjClose).toBe(187.4);
    expect(rows[1]!.high).toBe(189.31);
  });

  it('reports each bad row with its line and keeps the good ones', () => {
    const { rows, errors, layout } = parseHistory(fixture('bad-rows.csv'));
    expect(layout).toBe('csv-ohlcv');
    expect(rows.map((r) => r.date)).toEqual([day('2024-01-02'), day('2024-01-03')]);
    // line 13 repeats 2024-01-02 and wins over line 2
    expect(rows[0]!.close).toBe(10.7);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15]);
    const message = (line: number) => errors.find((e) => e.line === line)!.message;
    expect(message(3)).toMatch(/invalid date '2024-13-02'/);
    expect(message(4)).toMatch(/open: 'abc' is not a number/);
    expect(message(5)).toMatch(/open: -10.00 is negative/);
    expect(message(7)).toMatch(/high 9 is below low 9.5/);
    expect(message(8)).toMatch(/open 12 is outside \[low 9.5, high 11\]/);
    expect(message(9)).toMatch(/close 8 is outside/);
    expect(message(10)).toMatch(/expected 6 fields, found 5/);
    expect(message(11)).toMatch(/expected 6 fields, found 7/);
    expect(message(13)).toMatch(/duplicate date 2024-01-02.*line 2/);
    expect(message(14)).toMatch(/invalid date '02\/30\/2024'/);
    expect(message(15)).toMatch(/unterminated quoted field/);
  });
});

describe('parseHistory: layouts and refusals', () => {
  it('refuses a file without a recognisable header with one error at line 1', () => {
    const result = parseHistory('Symbol,Last,Change\nACME,10,0.5\n');
    expect(result.rows).toEqual([]);
    expect(result.layout).toBe('unknown');
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.line).toBe(1);
    expect(result.errors[0]!.message).toMatch(/unrecognised header 'Symbol,Last,Change'/);
    expect(result.errors[0]!.message).toMatch(/Date,Open,High,Low,Close\[,Adj Close\]\[,Volume\]/);
  });

  it('refuses a header-less file (data in the first line)', () => {
    const result = parseHistory('2024-01-02,10,11,9,10,100\n');
    expect(result.errors).toEqual([{ line: 1, message: expect.stringMatching(/unrecognised header/) }]);
  });

  it('refuses an empty file and a file of blank lines', () => {
    for (const text of ['', '\n\r\n  \n']) {
      const result = parseHistory(text);
      expect(result.rows).toEqual([]);
      expect(result.errors).toEqual([{ line: 1, message: expect.stringMatching(/empty file/) }]);
    }
  });

  it('accepts semicolons, a lower-case header, Date,Close, and adj_close spellings', () => {
    expect(parseHistory('date;close\n2024-01-02;10.5\n').rows[0]!.close).toBe(10.5);
    const r = parseHistory(
      'DATE;OPEN;HIGH;LOW;CLOSE;ADJ_CLOSE;VOLUME\n2024-01-02;10;11;9;10.5;10.4;"1,000"\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).toMatchObject({ close: 10.5, adjClose: 10.4, volume: 1000 });
  });

  it('ignores trailing delimiters on the header and the rows, but not trailing data', () => {
    const r = parseHistory(
      'Date,Price,\n2024-01-02,10,\n2024-01-03,11\n2024-01-04,12,,\n2024-01-05,13,x\n2024-01-08,\n',
    );
    expect(r.layout).toBe('csv-price');
    expect(r.rows.map((x) => x.close)).toEqual([10, 11, 12]);
    expect(r.errors).toEqual([
      { line: 5, message: 'expected 2 fields, found 3 (a number with thousands separators must be quoted)' },
      { line: 6, message: 'price: empty' },
    ]);
  });

  it('refuses a header with an unknown or repeated column', () => {
    expect(parseHistory('Date,Open,High,Low,Close,Volume,VWAP\n').layout).toBe('unknown');
    expect(parseHistory('Date,Close,Close\n').layout).toBe('unknown');
    expect(parseHistory('Date,Open,Close\n').layout).toBe('unknown');
  });

  it('keeps a row whose adjusted close is empty or null, without adjClose', () => {
    const r = parseHistory('Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10,null,5\n');
    expect(r.errors).toEqual([]);
    expect(r.rows[0]).not.toHaveProperty('adjClose');
  });

  it('rejects a comma decimal instead of reading it as thousands', () => {
    const r = parseHistory('Date;Price\n2024-01-02;10,5\n');
    expect(r.rows).toEqual([]);
    expect(r.errors[0]).toEqual({ line: 2, message: "price: '10,5' is not a number" });
  });

  it('rejects a zero price, an empty cell and a negative volume', () => {
    const r = parseHistory(
      'Date,Open,High,Low,Close,Volume\n2024-01-02,0,11,0,10,5\n2024-01-03,,11,9,10,5\n2024-01-04,10,11,9,10,-1\n',
    );
    expect(r.rows).toEqual([]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'open: a price of 0 is not a price',
      'open: empty',
      'volume: -1 is negative',
    ]);
  });

  it('refuses more than a million rows', () => {
    const line = '2024-01-02,1\n';
    const result = parseHistory(`Date,Price\n${line.repeat(MAX_ROWS + 1)}`);
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([{ line: MAX_ROWS + 2, message: expect.stringMatching(/too many rows/) }]);
    const json = parseHistory(JSON.stringify(Array.from({ length: MAX_ROWS + 1 }, () => 0)));
    expect(json.errors).toEqual([{ line: MAX_ROWS + 1, message: expect.stringMatching(/too many rows/) }]);
  });

  it('reports JSON errors by array index + 1', () => {
    const r = parseHistory(
      JSON.stringify([
        { t: '2024-01-02T00:00:00Z', o: 1, h: 2, l: 0.5, c: 1.5, v: 10 },
        { t: 'yesterday', o: 1, h: 2, l: 0.5, c: 1.5, v: 10 },
        'not an object',
        { t: '2024-01-03T00:00:00Z', o: 1, h: 2, l: 0.5, c: true, v: 10 },
        { t: '2024-01-04T00:00:00Z', o: 1, h: 2, l: 0.5, c: 1.5 },
      ]),
    );
    expect(r.rows).toHaveLength(1);
    expect(r.errors).toEqual([
      { line: 2, message: expect.stringMatching(/unparseable date 'yesterday'/) },
      { line: 3, message: 'expected an object' },
      { line: 4, message: "close: 'true' is not a number" },
      { line: 5, message: 'missing volume' },
    ]);
  });

  it('reads numeric JSON dates as epoch milliseconds (Polygon)', () => {
    const t = Date.UTC(2024, 0, 2);
    const r = parseHistory(JSON.stringify({ results: [], bars: [{ t, o: 1, h: 1, l: 1, c: 1, v: 1 }] }));
    expect(r.rows[0]!.date).toEqual(new Date(t));
  });

  it('refuses invalid JSON and JSON of another shape with one error', () => {
    expect(parseHistory('[{"t":').errors).toEqual([
      { line: 1, message: expect.stringMatching(/invalid JSON/) },
    ]);
    expect(parseHistory('{"bars": {"ACME": []}}').errors).toEqual([
      { line: 1, message: expect.stringMatching(/unrecognised JSON/) },
    ]);
  });

  it('follows an explicit format over sniffing', () => {
    expect(parseHistory('[]', { format: 'csv' }).layout).toBe('unknown');
    expect(parseHistory('Date,Price\n2024-01-02,1\n', { format: 'json' }).errors[0]!.message).toMatch(
      /invalid JSON/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property: a valid series written in any supported layout parses back to the same rows.

interface Layout {
  delimiter: ',' | ';' | '\t';
  adj: boolean;
  usDates: boolean;
  intraday: 'T' | ' ' | null;
  crlf: boolean;
  bom: boolean;
  quote: boolean;
  upper: boolean;
  blankLines: boolean;
}

const cents = fc.integer({ min: 1, max: 10_000_000 });
const barArb = fc
  .record({
    a: cents,
    b: cents,
    c: cents,
    d: cents,
    adj: cents,
    volume: fc.integer({ min: 0, max: 5_000_000_000 }),
  })
  .map(({ a, b, c, d, adj, volume }) => {
    const sorted = [a, b, c, d].sort((x, y) => x - y);
    // open and close are any two of the middle values; low and high the extremes
    return { low: sorted[0]!, open: sorted[1]!, close: sorted[2]!, high: sorted[3]!, adj, volume };
  });

const seriesArb = (intraday: boolean) =>
  fc
    .uniqueArray(
      fc.record({
        // whole days (or minutes) from 1990 to 2089, so every date fits MM/DD/YYYY with a 4-digit year
        slot: fc.integer({ min: 0, max: intraday ? 36_500 * 1440 : 36_500 }),
        bar: barArb,
      }),
      { selector: (r) => r.slot, maxLength: 40 },
    )
    .map((items) =>
      items.map(({ slot, bar }) => ({
        date: new Date(Date.UTC(1990, 0, 1) + slot * (intraday ? 60_000 : 86_400_000)),
        ...bar,
      })),
    );

type GenRow = {
  date: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  adj: number;
  volume: number;
};

const pad = (n: number) => String(n).padStart(2, '0');
function formatDate(d: Date, layout: Layout): string {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  if (layout.intraday) {
    return `${y}-${pad(m)}-${pad(day)}${layout.intraday}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${
      layout.intraday === 'T' ? ':00Z' : ''
    }`;
  }
  return layout.usDates ? `${m}/${day}/${y}` : `${y}-${pad(m)}-${pad(day)}`;
}
const dollars = (c: number) => (c / 100).toFixed(2);
const withThousands = (n: number) => n.toLocaleString('en-US');

function writeCsv(rows: GenRow[], layout: Layout, single: boolean): string {
  const q = (s: string) => (layout.quote ? `"${s}"` : s);
  const header = single
    ? ['Date', 'Price']
    : ['Date', 'Open', 'High', 'Low', 'Close', ...(layout.adj ? ['Adj Close'] : []), 'Volume'];
  const lines = [header.map((h) => q(layout.upper ? h.toUpperCase() : h)).join(layout.delimiter)];
  for (const r of rows) {
    const fields = single
      ? [formatDate(r.date, layout), dollars(r.close)]
      : [
          formatDate(r.date, layout),
          dollars(r.open),
          dollars(r.high),
          dollars(r.low),
          dollars(r.close),
          ...(layout.adj ? [dollars(r.adj)] : []),
          // separators need quotes only where the delimiter is a comma
          layout.quote || layout.delimiter !== ',' ? withThousands(r.volume) : String(r.volume),
        ];
    lines.push(fields.map(q).join(layout.delimiter));
    if (layout.blankLines) lines.push('');
  }
  return (layout.bom ? '\ufeff' : '') + lines.join(layout.crlf ? '\r\n' : '\n');
}

function expected(rows: GenRow[], adj: boolean, single: boolean): HistoryRow[] {
  return [...rows]
    .sort((a, b) => a.date.getTime() - b.date.getTime())
    .map((r) => {
      if (single) {
        const p = r.close / 100;
        return { date: r.date, open: p, high: p, low: p, close: p, volume: 0 };
      }
      const row: HistoryRow = {
        date: r.date,
        open: r.open / 100,
        high: r.high / 100,
        low: r.low / 100,
        close: r.close / 100,
        volume: r.volume,
      };
      if (adj) row.adjClose = r.adj / 100;
      return row;
    });
}

const layoutArb: fc.Arbitrary<Layout> = fc.record({
  delimiter: fc.constantFrom(',' as const, ';' as const, '\t' as const),
  adj: fc.boolean(),
  usDates: fc.boolean(),
  intraday: fc.constantFrom(null, 'T' as const, ' ' as const),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  quote: fc.boolean(),
  upper: fc.boolean(),
  blankLines: fc.boolean(),
});

describe('parseHistory: properties', () => {
  it('a valid series written as CSV in any supported layout parses back to the same rows', () => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) =>
          fc.tuple(fc.constant(layout), seriesArb(layout.intraday !== null), fc.boolean()),
        ),
        ([layout, rows, single]) => {
          const result = parseHistory(writeCsv(rows, layout, single));
          expect(result.errors).toEqual([]);
          expect(result.layout).toBe(single ? 'csv-price' : layout.adj ? 'csv-ohlcv-adj' : 'csv-ohlcv');
          expect(result.rows).toEqual(expected(rows, layout.adj && !single, single));
        },
      ),
    );
  });

  it('a valid series written as JSON (full or Alpaca keys, bare or wrapped) parses back to the same rows', () => {
    fc.assert(
      fc.property(seriesArb(true), fc.boolean(), fc.boolean(), fc.boolean(), (rows, short, wrap, strings) => {
        const num = (c: number) => (strings ? dollars(c) : c / 100);
        const items = rows.map((r) =>
          short
            ? {
                t: r.date.toISOString(),
                o: num(r.open),
                h: num(r.high),
                l: num(r.low),
                c: num(r.close),
                v: r.volume,
              }
            : {
                Date: r.date.toISOString(),
                Open: num(r.open),
                High: num(r.high),
                Low: num(r.low),
                Close: num(r.close),
                Volume: r.volume,
              },
        );
        const result = parseHistory(JSON.stringify(wrap ? { bars: items } : items));
        expect(result.errors).toEqual([]);
        expect(result.rows).toEqual(expected(rows, false, false));
      }),
    );
  });

  it('duplicates: the last row for a date wins and every earlier one is reported', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ d: fc.integer({ min: 1, max: 5 }), p: fc.integer({ min: 1, max: 999 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        (entries) => {
          const text = ['Date,Price', ...entries.map((e) => `2024-01-0${e.d},${e.p}`)].join('\n');
          const result = parseHistory(text);
          const last = new Map<number, number>();
          for (const e of entries) last.set(e.d, e.p);
          expect(result.rows.map((r) => [r.date.getUTCDate(), r.close])).toEqual(
            [...last].sort((a, b) => a[0] - b[0]),
          );
          expect(result.errors).toHaveLength(entries.length - last.size);
          for (const e of result.errors) expect(e.message).toMatch(/duplicate date/);
        },
      ),
    );
  });

  it('never throws, and every error names a line of the input', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom('Date,Open,High,Low,Close,Volume', '2024-01-02,1,2,0.5,1,10', '"', ',,,', ''),
            fc.string({ maxLength: 30 }),
          ),
          { maxLength: 12 },
        ),
        (lines) => {
          const text = lines.join('\n');
          const result = parseHistory(text, { format: 'csv' });
          const lineCount = Math.max(1, text.split(/\r\n|\n|\r/).length);
          for (const e of result.errors) {
            expect(e.line).toBeGreaterThanOrEqual(1);
            expect(e.line).toBeLessThanOrEqual(lineCount);
          }
          for (let i = 1; i < result.rows.length; i++) {
            expect(result.rows[i]!.date.getTime()).toBeGreaterThan(result.rows[i - 1]!.date.getTime());
          }
        },
      ),
    );
  });
});

describe('examples/daily-prices.csv', () => {
  it('is 250 weekdays of clean ACME bars in the Yahoo layout', () => {
    const text = readFileSync(new URL('../../../../examples/daily-prices.csv', import.meta.url), 'utf8');
    const { rows, errors, layout } = parseHistory(text);
    expect(errors).toEqual([]);
    expect(layout).toBe('csv-ohlcv-adj');
    expect(rows).toHaveLength(250);
    for (const r of rows) expect([1, 2, 3, 4, 5]).toContain(r.date.getUTCDay());
  });
});
