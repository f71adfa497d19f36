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
});
