import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { createBatcher } from './batcher.ts';

const logger = createLogger({ level: 'silent' }) as FastifyBaseLogger;

function recorder(gatherMs: number, maxBatch = 100) {
  const flushes: number[][] = [];
  const batcher = createBatcher<number>({
    flush: async (items) => {
      flushes.push(items);
    },
    maxBatch,
    maxQueued: 1000,
    gatherMs,
    logger,
    what: 'numbers',
  });
  return { batcher, flushes };
}

describe('batcher', () => {
  it('gathers the items pushed one by one into one flush', async () => {
    const { batcher, flushes } = recorder(3_600_000);
    for (let k = 1; k <= 5; k++) batcher.push(k);
    expect(flushes).toEqual([]);
    await batcher.idle(); // ends the gathering: no waiting for the hour
    expect(flushes).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('flushes a full batch at once, without gathering', async () => {
    const { batcher, flushes } = recorder(3_600_000, 3);
    for (let k = 1; k <= 3; k++) batcher.push(k);
    await Promise.resolve();
    expect(flushes).toEqual([[1, 2, 3]]);
    await batcher.idle();
  });

  it('without gatherMs, flushes the first item at once and the rest behind it', async () => {
    const { batcher, flushes } = recorder(0);
    for (let k = 1; k <= 3; k++) batcher.push(k);
    await batcher.idle();
    expect(flushes).toEqual([[1], [2, 3]]);
  });

  it("push's promise waits for its own batch without hurrying the gathering (an acknowledgement per event keeps batches)", async () => {
    const { batcher, flushes } = recorder(3_600_000);
    const written: number[] = [];
    const pushes = [1, 2, 3].map((k) => batcher.push(k).then(() => written.push(k)));
    await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([]);
    expect(written).toEqual([]);
    await batcher.idle();
    await Promise.all(pushes);
    expect(flushes).toEqual([[1, 2, 3]]);
    expect(written).toEqual([1, 2, 3]);
  });

  it('an item pushed during a flush resolves after the next flush; a failed flush resolves too', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => {};
    const batcher = createBatcher<number>({
      flush: async (items) => {
        flushes.push(items);
        if (items[0] === 1) await new Promise<void>((r) => (release = r));
        if (items[0] === 2) throw new Error('database down');
      },
      maxBatch: 100,
      maxQueued: 1000,
      logger,
      what: 'numbers',
    });
    const states: string[] = [];
    const first = batcher.push(1).then(() => states.push('1 written'));
    await Promise.resolve();
    const second = batcher.push(2).then(() => states.push('2 settled'));
    await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([[1]]);
    expect(states).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(flushes).toEqual([[1], [2]]);
    expect(states).toEqual(['1 written', '2 settled']);
  });
});
