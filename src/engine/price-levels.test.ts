import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createPriceLevels,
  firstLevel,
  insertLevel,
  lastLevel,
  levelsFromLast,
  removeLevel,
} from './price-levels.ts';

interface Item {
  key: number;
}

describe('price levels (chunked sorted array)', () => {
  it('behaves like a sorted array under any sequence of inserts and removes', () => {
    fc.assert(
      fc.property(
        // keys from a small range so that removes hit; long runs so that chunks split and merge
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: -250, max: 250 })), {
          maxLength: 1_500,
          size: 'max',
        }),
        (ops) => {
          const set = createPriceLevels<Item>();
          const model = new Map<number, Item>();
          for (const [add, key] of ops) {
            const present = model.get(key);
            if (add && present === undefined) {
              const item = { key };
              insertLevel(set, item);
              model.set(key, item);
            } else if (!add) {
              // plain comparisons in the loop: expect() per step would dominate the runtime
              if (removeLevel(set, present ?? { key }) !== (present !== undefined))
                throw new Error(`remove ${key}`);
              model.delete(key);
            }
          }
          const sorted = [...model.values()].sort((a, b) => b.key - a.key);
          expect(levelsFromLast(set)).toEqual(sorted);
          expect(set.size).toBe(sorted.length);
          expect(lastLevel(set)).toBe(sorted[0] ?? null);
          expect(firstLevel(set)).toBe(sorted[sorted.length - 1] ?? null);
          for (const chunk of set.chunks) expect(chunk.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not remove an equal key held by a different entry', () => {
    const set = createPriceLevels<Item>();
    insertLevel(set, { key: 1 });
    expect(removeLevel(set, { key: 1 })).toBe(false);
    expect(set.size).toBe(1);
  });

  it('stays shallow when deep: 100,000 levels in chunks of at most 128', () => {
    const set = createPriceLevels<Item>();
    for (let i = 0; i < 100_000; i++) insertLevel(set, { key: (i * 7_919) % 100_003 });
    expect(set.size).toBe(100_000);
    expect(Math.max(...set.chunks.map((c) => c.length))).toBeLessThanOrEqual(128);
    expect(set.chunks.length).toBeLessThan(100_000 / 32);
    const keys = set.chunks.flat().map((l) => l.key);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(levelsFromLast(set, 2).map((l) => l.key)).toEqual([keys.at(-1), keys.at(-2)]);
  });
});
