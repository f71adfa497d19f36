import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestLevel, compactLadder, dequeue, enqueue, worstLevel } from './ladder.ts';
import { createBook, type Ladder, type Order } from './model.ts';
import { spec } from './test-kit.ts';

/** Just what the ladder touches of an order. */
function order(id: number, qty: number): Order {
  return { id, qty, filledQty: 0, level: null, prev: null, next: null } as unknown as Order;
}

function check(ladder: Ladder, model: Map<number, Order[]>): void {
  const live = [...model.entries()].filter(([, q]) => q.length > 0).map(([p]) => p);
  const best = ladder.bestIsHigh ? Math.max(...live) : Math.min(...live);
  const worst = ladder.bestIsHigh ? Math.min(...live) : Math.max(...live);
  expect(bestLevel(ladder)?.price ?? null).toBe(live.length ? best : null);
  expect(worstLevel(ladder)?.price ?? null).toBe(live.length ? worst : null);
  const listed = ladder.levels.chunks.flat();
  for (let i = 1; i < listed.length; i++) expect(listed[i - 1]!.key).toBeLessThan(listed[i]!.key);
  if (listed.length) expect(listed.at(-1)!.count).toBeGreaterThan(0); // the best end is never empty
  for (const level of listed) expect(level.listed).toBe(true);
  for (const [price, queue] of model) {
    const level = ladder.byPrice.get(price);
    if (queue.length === 0) continue;
    expect(level?.listed).toBe(true);
    const fifo: Order[] = [];
    for (let o = level!.head; o !== null; o = o.next) fifo.push(o);
    expect(fifo).toEqual(queue);
    expect(level!.count).toBe(queue.length);
    expect(level!.qty).toBe(queue.reduce((s, o) => s + o.qty, 0));
  }
  const emptyKept = [...ladder.byPrice.values()].filter((l) => l.count === 0).length;
  expect(ladder.empty).toBe(emptyKept);
}

describe('ladder (levels with FIFO queues, lazily dropped empties)', () => {
  it('agrees with a model through enqueues, dequeues and compactions', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(
          fc.oneof(
            {
              arbitrary: fc.record({
                add: fc.constant(true),
                price: fc.integer({ min: 90, max: 130 }),
                pick: fc.nat(),
              }),
              weight: 3,
            },
            {
              arbitrary: fc.record({ add: fc.constant(false), price: fc.constant(0), pick: fc.nat() }),
              weight: 3,
            },
            {
              arbitrary: fc.record({ add: fc.constant(false), price: fc.constant(-1), pick: fc.nat() }),
              weight: 1,
            },
          ),
          { maxLength: 300 },
        ),
        (bids, ops) => {
          const book = createBook(spec(), { makerBps: 0, takerBps: 0 });
          const ladder = bids ? book.bids : book.asks;
          const model = new Map<number, Order[]>();
          const open: Order[] = [];
          let id = 1;
          for (const op of ops) {
            if (op.add) {
              const o = order(id++, 1 + (op.pick % 9));
              enqueue(ladder, op.price, o);
              model.set(op.price, [...(model.get(op.price) ?? []), o]);
              open.push(o);
            } else if (op.price === 0 && open.length > 0) {
              const [o] = open.splice(op.pick % open.length, 1);
              const price = o!.level!.price;
              dequeue(o!);
              model.set(
                price,
                model.get(price)!.filter((x) => x !== o),
              );
            } else if (op.price === -1) {
              compactLadder(ladder, op.pick % 3); // tiny slack: compact often
              for (const [p, q] of model) if (q.length === 0 && !ladder.byPrice.has(p)) model.delete(p);
            }
            check(ladder, model);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
