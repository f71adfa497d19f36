import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatSummary,
  type ImportArgs,
  importExitCode,
  importFile,
  type PostImport,
  parseImportArgs,
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

  it.each([
    [[], /missing FILE/],
    [['--symbol', 'ACME'], /missing FILE/],
    [['a.csv'], /missing --symbol/],
    [['a.csv', '--symbol', ' '], /missing --symbol/],
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
    expect((error as Error).message).toMatch(/usage: bourse import FILE --symbol SYMBOL/);
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

describe('importFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bourse-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function recorder(response = { imported: 1, errors: [{ line: 3, message: 'high 9 is below low 9.5' }] }) {
    const calls: Parameters<PostImport>[] = [];
    const post: PostImport = async (...call) => {
      calls.push(call);
      return response;
    };
    return { calls, post };
  }

  it('reads the file, posts it as CSV and prints the summary', async () => {
    const file = join(dir, 'prices.csv');
    const text = 'Date,Price\n2024-01-02,10\n2024-01-03,x\n';
    await writeFile(file, text);
    const { calls, post } = recorder();
    const printed: string[] = [];
    const result = await importFile({ file, symbol: 'ACME', timeframe: '1d' }, post, {
      print: (l) => printed.push(l),
    });
    expect(calls).toEqual([['ACME', '1d', text, 'text/csv']]);
    expect(result.imported).toBe(1);
    expect(printed).toEqual([
      `imported 1 row of ACME (1d) from ${file}`,
      '1 problem:',
      'line 3: high 9 is below low 9.5',
    ]);
  });

  it('posts .json files (or --format json) as JSON', async () => {
    const file = join(dir, 'bars.JSON');
    await writeFile(file, '[]');
    const { calls, post } = recorder({ imported: 0, errors: [] });
    await importFile({ file, symbol: 'ACME', timeframe: '1m' }, post, { print: () => {} });
    await importFile({ file: 'x.csv', symbol: 'ACME', timeframe: '1m', format: 'json' }, post, {
      print: () => {},
      readFile: async () => '{"bars":[]}',
    });
    expect(calls.map((c) => c[3])).toEqual(['application/json', 'application/json']);
    expect(calls[1]![2]).toBe('{"bars":[]}');
  });

  it('a missing file rejects before anything is posted or printed', async () => {
    const { calls, post } = recorder();
    const printed: string[] = [];
    await expect(
      importFile({ file: join(dir, 'nope.csv'), symbol: 'ACME', timeframe: '1d' }, post, {
        print: (l) => printed.push(l),
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(calls).toEqual([]);
    expect(printed).toEqual([]);
  });
});
