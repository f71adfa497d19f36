import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOrder,
  createOrderIndex,
  findOrder,
  type Identified,
  ordersById,
  removeOrder,
} from './order-index.ts';

function order(id: number): Identified {
  return { id };
}

describe('order index', () => {
  it('agrees with a Map under any sequence of adds and removes, through growth', () => {
    fc.assert(
      fc.property(
        // ids from a small range so that removes hit, strided and huge ids so that homes collide
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.oneof(
              fc.integer({ min: 1, max: 3_000 }),
              fc.integer({ min: 1, max: 40 }).map((n) => n * 1_024),
              fc.constant(2 ** 52 + 1),
            ),
          ),
          { maxLength: 3_000, size: 'max' },
        ),
        (ops) => {
          const index = createOrderIndex<Identified>();
          const model = new Map<number, Identified>();
          for (const [add, id] of ops) {
            const present = model.get(id);
            if (add && present === undefined) {
              const o = order(id);
              addOrder(index, o);
              model.set(id, o);
            } else if (!add && present !== undefined) {
              removeOrder(index, present);
              model.delete(id);
            }
            if (index.size !== model.size) throw new Error('size');
          }
          for (const [id, o] of model) if (findOrder(index, id) !== o) throw new Error(`lost ${id}`);
          for (const [, id] of ops)
            if (!model.has(id) && findOrder(index, id) !== undefined) throw new Error(`ghost ${id}`);
          expect(ordersById(index).map((o) => o.id)).toEqual([...model.keys()].sort((a, b) => a - b));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('finds nothing for ids that are not safe integers', () => {
    const index = createOrderIndex<Identified>();
    addOrder(index, order(1));
    expect(findOrder(index, 1.5)).toBeUndefined();
    expect(findOrder(index, Number.NaN)).toBeUndefined();
  });
});
