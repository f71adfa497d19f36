import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvLine, parseCsv } from './csv.ts';
import { centsOf, money } from './format.ts';

describe('money and CSV at the edge', () => {
  it('writes cents as decimal strings and reads them back exactly', () => {
    expect(money(0)).toBe('0.00');
    expect(money(5)).toBe('0.05');
    expect(money(-123_456)).toBe('-1234.56');
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(centsOf(money(n))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 0 }), (n) => {
        expect(centsOf(money(n))).toBe(n);
      }),
    );
  });

  it('round-trips any cells through a CSV line, quotes and newlines included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), { maxLength: 5 }),
        (rows) => {
          const text = rows.map((r) => csvLine(r)).join('');
          expect(parseCsv(text)).toEqual(rows.map((r) => (r.length === 1 && r[0] === '' ? [''] : r)));
        },
      ),
    );
  });
});
