/** The file layouts people bring: Stooq, long (several symbols), wide (a column per symbol), epoch times. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHistory } from './index.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/market-data/${name}`, import.meta.url), 'utf8');
const day = (d: string) => new Date(`${d}T00:00:00Z`);

describe('price file layouts', () => {
  it("reads Stooq's daily download (Date,Open,High,Low,Close,Volume)", () => {
    const r = parseHistory(fixture('stooq-daily.csv'));
    expect(r.layout).toBe('csv-ohlcv');
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.date, x.close, x.volume])).toEqual([
      [day('2000-01-03'), 3.9977, 533147100],
      [day('2000-01-04'), 3.6601, 512377600],
      [day('2000-01-05'), 3.7137, 778321600],
    ]);
  });

  it("reads Stooq's bulk files: <TICKER> with a market suffix, YYYYMMDD dates, HHMMSS times, <PER> checked", () => {
    const r = parseHistory(fixture('stooq-bulk.txt'), { timeframe: '1d' });
    expect(r.layout).toBe('stooq');
    expect(r.rows.map((x) => `${x.symbol} ${x.date.toISOString().slice(0, 10)} ${x.close}`)).toEqual([
      'AAPL 2000-01-03 0.8996',
      'AAPL 2000-01-04 0.8238',
      'BRK-B 2000-01-03 35.35',
      'MSFT 2000-01-03 36.5',
      'MSFT 2000-01-04 35.265',
    ]);
    expect(r.errors).toEqual([{ line: 7, message: "period 'W' does not match timeframe 1d" }]);
  });

  it('reads long files (symbol,date,price) with several symbols, month names and quoted thousands', () => {
    const r = parseHistory(fixture('long-prices.csv'));
    expect(r.layout).toBe('csv-long-price');
    expect(r.rows.map((x) => [x.symbol, x.date, x.close, x.open, x.volume])).toEqual([
      ['ACME', day('2000-01-03'), 10.5, 10.5, 0],
      ['ACME', day('2000-01-04'), 10.75, 10.75, 0],
      ['GLOBEX', day('2000-01-03'), 1234.5, 1234.5, 0],
      ['GLOBEX', day('2000-01-04'), 1240, 1240, 0],
      ['INITECH', day('2000-01-03'), 5, 5, 0],
    ]);
    expect(r.errors).toEqual([
      { line: 7, message: 'price: -5 is negative' },
      { line: 8, message: expect.stringMatching(/symbol 'BAD.SYMBOL' is not a symbol/) },
    ]);
  });

  it('detects day-first dates from a day above 12, and reads ticker;date;close;volume', () => {
    const r = parseHistory(fixture('long-close-volume-dmy.csv'));
    expect(r.layout).toBe('csv-long-price');
    expect(r.dateOrder).toBe('dmy');
    expect(r.rows.map((x) => [x.symbol, x.date, x.close, x.volume])).toEqual([
      ['ACME', day('2000-01-04'), 10.75, 1200],
      ['ACME', day('2000-01-13'), 11, 900],
      ['GLOBEX', day('2000-01-03'), 20, 2500],
    ]);
    expect(r.errors).toEqual([{ line: 2, message: "price: '10,5' is not a number" }]);
  });

  it('reads ambiguous numeric dates month first by default, or day first when asked', () => {
    const text = 'Date,Price\n01/02/2000,10\n03/04/2000,11\n';
    const us = parseHistory(text);
    expect(us.dateOrder).toBe('mdy');
    expect(us.rows.map((x) => x.date)).toEqual([day('2000-01-02'), day('2000-03-04')]);
    const eu = parseHistory(text, { dateOrder: 'dmy' });
    expect(eu.dateOrder).toBe('dmy');
    expect(eu.rows.map((x) => x.date)).toEqual([day('2000-02-01'), day('2000-04-03')]);
    // a file that contradicts the order it was given says how to read it instead
    const wrong = parseHistory('Date,Price\n25/12/2000,10\n', { dateOrder: 'mdy' });
    expect(wrong.errors).toEqual([{ line: 2, message: expect.stringMatching(/valid with date format dmy/) }]);
    expect(parseHistory('Date,Price\n2000-01-02,10\n').dateOrder).toBeNull();
  });

  it('reads wide files (a date column, then one column per symbol); blank and #N/A cells are no bar', () => {
    const r = parseHistory(fixture('wide-closes.csv'));
    expect(r.layout).toBe('csv-wide');
    const bySymbol = (s: string) => r.rows.filter((x) => x.symbol === s).map((x) => [x.date, x.close]);
    expect(bySymbol('ACME')).toEqual([
      [day('2000-01-03'), 10.5],
      [day('2000-01-04'), 10.75],
      [day('2000-01-06'), 11],
    ]);
    expect(bySymbol('GLOBEX')).toEqual([
      [day('2000-01-03'), 20.25],
      [day('2000-01-05'), 21],
    ]);
    expect(bySymbol('SPY')).toHaveLength(4);
    expect(r.errors).toEqual([{ line: 5, message: "GLOBEX: 'abc' is not a number" }]);
    // one column of a wide file
    const only = parseHistory(fixture('wide-closes.csv'), { only: 'SPY' });
    expect(new Set(only.rows.map((x) => x.symbol))).toEqual(new Set(['SPY']));
    expect(only.errors).toEqual([]);
  });

  it('refuses a wide header whose column is not a symbol, naming it', () => {
    const r = parseHistory('Date,ACME,Last Price\n2000-01-03,1,2\n');
    expect(r.errors).toEqual([{ line: 1, message: expect.stringMatching(/'Last Price' is neither/) }]);
  });

  it('reads epoch seconds and milliseconds', () => {
    const r = parseHistory(fixture('epoch-seconds.csv'));
    expect(r.layout).toBe('csv-price');
    expect(r.rows.map((x) => [x.date, x.close, x.volume])).toEqual([
      [day('2000-01-03'), 10.5, 100],
      [day('2000-01-04'), 10.75, 200],
      [day('2000-01-05'), 11, 300],
    ]);
  });

  it('takes a separate time column, and OHLC without a volume column', () => {
    const r = parseHistory(
      'Date,Time,Open,High,Low,Close\n2024-01-02,09:30,1,2,0.5,1.5\n2024-01-02,153000,1,2,0.5,1\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.date.toISOString(), x.volume])).toEqual([
      ['2024-01-02T09:30:00.000Z', 0],
      ['2024-01-02T15:30:00.000Z', 0],
    ]);
  });

  it('reads JSON bars that name their symbol', () => {
    const r = parseHistory(
      JSON.stringify([
        { S: 'ACME', t: '2024-01-02T00:00:00Z', o: 1, h: 2, l: 0.5, c: 1.5, v: 10 },
        { S: 'GLOBEX', t: '2024-01-02T00:00:00Z', o: 1, h: 2, l: 0.5, c: 1.5, v: 10 },
      ]),
    );
    expect(r.rows.map((x) => x.symbol)).toEqual(['ACME', 'GLOBEX']);
  });
});
