/**
 * The streaming reader: a multi-megabyte file goes through holding at most one batch, one chunk
 * and the date-order look-ahead, never reading ahead of the batches it has handed over; any
 * split of the bytes into chunks gives what parseHistory gives for the whole text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOOKAHEAD_LINES, parseHistory } from './index.ts';
import { type BatchRow, type ReaderState, streamHistory } from './stream.ts';

const CHUNK = 64 * 1024;

/** `rows` lines of `symbol,date,price`, every line exactly `width` bytes long (zero-padded prices). */
function longFile(rows: number, symbols: number, width = 40): { text: string; lineBytes: number } {
  const lines = ['symbol,date,price'.padEnd(width - 1, ' ')];
  const start = Date.UTC(1990, 0, 1);
  for (let i = 0; i < rows - 1; i++) {
    const s = `S${i % symbols}`;
    const d = new Date(start + Math.floor(i / symbols) * 86_400_000).toISOString().slice(0, 10);
    const price = (100 + (i % 997) / 100).toFixed(2);
    const line = `${s},${d},`;
    lines.push(line + price.padStart(width - 1 - line.length, '0'));
  }
  return { text: `${lines.join('\n')}\n`, lineBytes: width };
}

async function* chunks(text: string, size: number, pulled: { n: number }) {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) {
    pulled.n++;
    yield bytes.subarray(at, at + size);
  }
}

describe('streamHistory', () => {
  it('reads a multi-megabyte file holding a bounded number of rows, without reading ahead', async () => {
    const { text, lineBytes } = longFile(200_000, 50);
    expect(text.length).toBeGreaterThan(7_000_000);
    const pulled = { n: 0 };
    const states: ReaderState[] = [];
    let lastLine = 0;
    let total = 0;
    const summary = await streamHistory(
      chunks(text, CHUNK, pulled),
      { batchSize: 2000 },
      async (rows: BatchRow[], state) => {
        states.push(state);
        // the reader has pulled only the chunks that hold the rows handed over so far, and one more
        lastLine = rows[rows.length - 1]!.line;
        expect(pulled.n).toBeLessThanOrEqual(Math.ceil((lastLine * lineBytes) / CHUNK) + 1);
        total += rows.length;
      },
    );
    expect(summary.rows).toBe(199_999);
    expect(total).toBe(199_999);
    expect(summary.errorCount).toBe(0);
    expect(summary.symbols).toHaveLength(50);
    expect(states.length).toBeGreaterThanOrEqual(100);
    expect(Math.max(...states.map((s) => s.batch))).toBeLessThanOrEqual(2000);
    expect(Math.max(...states.map((s) => s.heldLines))).toBe(0);
    expect(Math.max(...states.map((s) => s.carry))).toBeLessThan(CHUNK);
  });

  it('holds back at most the look-ahead while the day/month order is undecided', async () => {
    // 1,500 lines of dates that never prove an order (day and month both ≤ 12)
    const lines = ['Date,Price'];
    for (let i = 0; i < 1500; i++) lines.push(`0${1 + (i % 9)}/0${1 + (i % 9)}/${1900 + i},1`);
    const states: ReaderState[] = [];
    const summary = await streamHistory(
      chunks(lines.join('\n'), 1000, { n: 0 }),
      { batchSize: 100 },
      async (_rows, state) => {
        states.push(state);
      },
    );
    expect(summary.rows).toBe(1500);
    expect(summary.dateOrder).toBe('mdy');
    expect(summary.dateOrderFrom).toBe('default');
    expect(Math.max(...states.map((s) => s.heldLines))).toBeLessThanOrEqual(LOOKAHEAD_LINES);
    // the look-ahead is released at once when it fills: that batch is the only one above batchSize
    expect(Math.max(...states.map((s) => s.batch))).toBeLessThanOrEqual(LOOKAHEAD_LINES + 100);
  });

  it('gives what parseHistory gives, however the bytes are split into chunks', async () => {
    const text =
      '\ufeffsymbol;date;close;volume\r\nACME;13/01/2000;1,5;10\r\nACME;14/01/2000;2;"1,000"\r\n\r\n' +
      'GLOBEX;15/01/2000;3,00€;1\rGLOBEX;16/01/2000;4;1\nbroken\nÄÖÜ;17/01/2000;5;1\n';
    const whole = parseHistory(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: text.length * 2 }), { maxLength: 12 }),
        async (cuts) => {
          const bytes = Buffer.from(text, 'utf8');
          const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
          async function* parts() {
            let at = 0;
            for (const p of [...points, bytes.length]) {
              yield bytes.subarray(at, p);
              at = p;
            }
          }
          const rows: BatchRow[] = [];
          const summary = await streamHistory(parts(), { batchSize: 2 }, async (batch) => {
            rows.push(...batch);
          });
          expect(rows.map((r) => r.row)).toEqual(whole.rows);
          expect(summary.errors).toEqual(whole.errors);
          expect(summary.layout).toBe(whole.layout);
          expect(summary.dateOrder).toBe('dmy');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports an overlong line and goes on; keeps the first errors and counts them all', async () => {
    const long = 'x'.repeat(200_000);
    const text = `Date,Price\n2000-01-03,1\n${long}\n2000-01-04,2\n${'bad\n'.repeat(50)}2000-01-05,3`;
    const got: BatchRow[] = [];
    const summary = await streamHistory(
      chunks(text, 4096, { n: 0 }),
      { maxLineLength: 1000, maxErrors: 10 },
      async (rows) => {
        got.push(...rows);
      },
    );
    expect(got.map((r) => r.line)).toEqual([2, 4, 55]);
    expect(summary.errorCount).toBe(51);
    expect(summary.errors).toHaveLength(10);
    expect(summary.errors[0]).toEqual({ line: 3, message: 'line longer than 1,000 characters' });
  });

  it('reports a duplicate within a batch, the later row winning', async () => {
    const rows: BatchRow[] = [];
    const summary = await streamHistory(
      chunks('Date,Price\n2000-01-03,1\n2000-01-03,2\n', 100, { n: 0 }),
      {},
      async (b) => {
        rows.push(...b);
      },
    );
    expect(rows.map((r) => [r.line, r.row.close])).toEqual([[3, 2]]);
    expect(summary.errors).toEqual([
      { line: 3, message: expect.stringMatching(/duplicate date .* \(also on line 2\)/) },
    ]);
  });
});
