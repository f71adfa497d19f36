import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatSummary,
  type ImportArgs,
  type ImportResponse,
  importExitCode,
  importFile,
  type PostImport,
  parseImportArgs,
  progressReporter,
  UsageError,
} from './import.ts';

describe('parseImportArgs', () => {
  it('takes a file and a symbol, with 1d as the default timeframe', () => {
    expect(parseImportArgs(['prices.csv', '--symbol', 'ACME'])).toEqual({
      file: 'prices.csv',
      symbol: 'ACME',
      timeframe: '1d',
    });
  });

  it('accepts options in any order, = forms, short flags, and upper-cases the symbol', () => {
    expect(parseImportArgs(['--timeframe=5m', '-s', 'brk-b', 'bars.txt', '--format', 'json'])).toEqual({
      file: 'bars.txt',
      symbol: 'BRK-B',
      timeframe: '5m',
      format: 'json',
    });
    expect(parseImportArgs(['-t', '1h', '--symbol=acme', 'x.csv']).timeframe).toBe('1h');
  });

  it('takes a file that names its symbols without --symbol, a date format and --dry-run', () => {
    expect(parseImportArgs(['all.csv', '--date-format', 'dmy', '--dry-run'])).toEqual({
      file: 'all.csv',
      timeframe: '1d',
      dateFormat: 'dmy',
      dryRun: true,
    });
  });

  it.each([
    [[], /missing FILE/],
    [['--symbol', 'ACME'], /missing FILE/],
    [['a.csv', '--symbol', ' '], /empty --symbol/],
    [['a.csv', '--date-format', 'ymd'], /bad --date-format 'ymd': auto, mdy or dmy/],
    [['a.csv', 'b.csv', '--symbol', 'ACME'], /one FILE at a time \(got 2\)/],
    [['a.csv', '--symbol', 'AC ME'], /bad --symbol 'AC ME'/],
    [['a.csv', '--symbol', '1ACME'], /bad --symbol/],
    [['a.csv', '--symbol', 'ACME', '--timeframe', '1w'], /bad --timeframe '1w': one of 1m, 5m, 15m, 1h, 1d/],
    [['a.csv', '--symbol', 'ACME', '--format', 'xml'], /bad --format 'xml'/],
    [['a.csv', '--symbol', 'ACME', '--verbose'], /Unknown option '--verbose'/],
    [['a.csv', '--symbol'], /--symbol/],
  ])('%j is a usage error', (argv, message) => {
    let error: unknown;
    try {
      parseImportArgs(argv as string[]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/usage: bourse import FILE \[--symbol SYMBOL\]/);
  });
});

describe('formatSummary', () => {
  const args: ImportArgs = { file: 'prices.csv', symbol: 'ACME', timeframe: '1d' };

  it('says how many rows went in', () => {
    expect(formatSummary(args, { imported: 1250, errors: [] })).toEqual([
      'imported 1,250 rows of ACME (1d) from prices.csv',
    ]);
    expect(formatSummary(args, { imported: 1, errors: [] })).toEqual([
      'imported 1 row of ACME (1d) from prices.csv',
    ]);
  });

  it('lists every bad row by line', () => {
    expect(
      formatSummary(args, {
        imported: 2,
        errors: [
          { line: 3, message: "invalid date '2024-13-02'" },
          { line: 9, message: 'close 8 is outside [low 9.5, high 11]' },
        ],
      }),
    ).toEqual([
      'imported 2 rows of ACME (1d) from prices.csv',
      '2 problems:',
      "line 3: invalid date '2024-13-02'",
      'line 9: close 8 is outside [low 9.5, high 11]',
    ]);
  });

  it('exit code is 0 only when everything went in', () => {
    expect(importExitCode({ imported: 2, errors: [] })).toBe(0);
    expect(importExitCode({ imported: 2, errors: [{ line: 3, message: 'x' }] })).toBe(1);
    expect(importExitCode({ imported: 0, errors: [] })).toBe(1);
  });
});

describe('formatSummary of a file of several symbols, and of a dry run', () => {
  it('lists the symbols with their rows and dates, says how dates were read, and counts unlisted problems', () => {
    const lines = formatSummary(
      { file: 'all.csv', timeframe: '1d' },
      {
        symbol: null,
        layout: 'csv-long-price',
        date_format: 'dmy',
        date_format_from: 'detected',
        rows: 3,
        imported: 3,
        symbols: [
          { symbol: 'ACME', rows: 2, first: '2000-01-03T00:00:00.000Z', last: '2000-01-04T00:00:00.000Z' },
          { symbol: 'GLOBEX', rows: 1, first: '2000-01-03T00:00:00.000Z', last: '2000-01-03T00:00:00.000Z' },
        ],
        errors: [{ line: 5, message: 'price: empty' }],
        error_count: 1500,
      },
    );
    expect(lines).toEqual([
      'imported 3 rows of 2 symbols (1d) from all.csv',
      'layout csv-long-price, dates read day first (DD/MM/YYYY) (detected)',
      '  ACME             2 rows  2000-01-03 to 2000-01-04',
      '  GLOBEX            1 row  2000-01-03 to 2000-01-03',
      '1,500 problems:',
      'line 5: price: empty',
      '… and 1,499 more problems not listed',
    ]);
    const dry = { dry_run: true, rows: 10, imported: 0, errors: [] };
    expect(formatSummary({ file: 'a.csv', symbol: 'ACME', timeframe: '1d', dryRun: true }, dry)[0]).toBe(
      'dry run: would import 10 rows of ACME (1d) from a.csv; nothing written',
    );
    expect(importExitCode(dry)).toBe(0);
  });
});

describe('progressReporter', () => {
  it('redraws a bar in place on a terminal, and writes a plain line every 10 % elsewhere', () => {
    let t = 0;
    const tty: string[] = [];
    const bar = progressReporter(1_000_000, { write: (s) => tty.push(s), isTTY: true }, () => t);
    for (let i = 0; i < 10; i++) {
      t += 1000;
      bar.add(100_000);
    }
    bar.done();
    expect(tty).toHaveLength(11);
    expect(tty[4]).toMatch(/^\r\[#{15}\.{15}\] 0\.5 MB of 1\.0 MB \(50%\), 0\.1 MB\/s/);
    expect(tty[10]).toBe('\r\x1b[K');

    const log: string[] = [];
    const plain = progressReporter(1_000_000, { write: (s) => log.push(s) }, () => 0);
    for (let i = 0; i < 40; i++) plain.add(25_000);
    plain.done();
    expect(log).toHaveLength(10);
    expect(log[0]).toMatch(/^sent 0\.1 MB of 1\.0 MB \(10%\)/);
    expect(log.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
});

describe('importFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bourse-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function recorder(
    response: ImportResponse = { imported: 1, errors: [{ line: 3, message: 'high 9 is below low 9.5' }] },
  ) {
    const calls: { query: string; body: string; type: string }[] = [];
    const post: PostImport = async (query, body, type) => {
      const parts: Buffer[] = [];
      for await (const chunk of body) parts.push(chunk as Buffer);
      calls.push({ query, body: Buffer.concat(parts).toString('utf8'), type });
      return response;
    };
    return { calls, post };
  }
  const quiet = { print: () => {}, progress: { write: () => true } };

  it('streams the file, posts it as CSV with the query, and prints the summary', async () => {
    const file = join(dir, 'prices.csv');
    const text = 'Date,Price\n2024-01-02,10\n2024-01-03,x\n'.repeat(50_000);
    await writeFile(file, text);
    const { calls, post } = recorder();
    const printed: string[] = [];
    const progress: string[] = [];
    const result = await importFile({ file, symbol: 'ACME', timeframe: '1d', dateFormat: 'dmy' }, post, {
      print: (l) => printed.push(l),
      progress: { write: (s) => progress.push(s) },
    });
    expect(calls).toEqual([
      { query: 'timeframe=1d&symbol=ACME&date_format=dmy', body: text, type: 'text/csv' },
    ]);
    expect(result.imported).toBe(1);
    expect(printed).toEqual([
      `imported 1 row of ACME (1d) from ${file}`,
      '1 problem:',
      'line 3: high 9 is below low 9.5',
    ]);
    expect(progress.at(-1)).toMatch(/\(100%\)/);
  });

  it('posts .json files (or --format json) as JSON, and a dry run as dry_run=true', async () => {
    const file = join(dir, 'bars.JSON');
    await writeFile(file, '[]');
    const { calls, post } = recorder({ imported: 0, errors: [] });
    await importFile({ file, symbol: 'ACME', timeframe: '1m' }, post, quiet);
    await importFile({ file, timeframe: '1d', format: 'csv', dryRun: true }, post, quiet);
    expect(calls.map((c) => [c.type, c.query])).toEqual([
      ['application/json', 'timeframe=1m&symbol=ACME'],
      ['text/csv', 'timeframe=1d&dry_run=true'],
    ]);
  });

  it('a missing file rejects before anything is posted or printed', async () => {
    const { calls, post } = recorder();
    const printed: string[] = [];
    await expect(
      importFile({ file: join(dir, 'nope.csv'), symbol: 'ACME', timeframe: '1d' }, post, {
        ...quiet,
        print: (l) => printed.push(l),
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(calls).toEqual([]);
    expect(printed).toEqual([]);
  });
});
