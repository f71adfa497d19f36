import { describe, expect, it } from 'vitest';
import { createIdempotencyWindow } from './idempotency.ts';

describe('idempotency window', () => {
  it('drops keys older than the window, never above the projected seq', () => {
    const w = createIdempotencyWindow({ windowMs: 100, maxKeys: 10, coversSince: 0 });
    w.add('a', 1, 0);
    w.add('b', 2, 50);
    w.add('c', 3, 150);
    w.prune(200, 0); // nothing projected yet: nothing may go
    expect([w.get('a'), w.get('b'), w.get('c')]).toEqual([1, 2, 3]);
    w.prune(200, 3);
    expect([w.get('a'), w.get('b'), w.get('c')]).toEqual([undefined, undefined, 3]);
    // dropped by age: memory still covers the whole window
    expect(w.coversSince()).toBe(0);
  });

  it('drops the oldest beyond maxKeys and says from when it still covers everything', () => {
    const w = createIdempotencyWindow({ windowMs: 1_000_000, maxKeys: 2, coversSince: 0 });
    for (let i = 1; i <= 5; i++) w.add(`k${i}`, i, i * 10);
    w.prune(60, 5);
    expect(w.size()).toBe(2);
    expect([w.get('k3'), w.get('k4'), w.get('k5')]).toEqual([undefined, 4, 5]);
    expect(w.coversSince()).toBe(31);
  });

  it('forgets the keys of commands that were never committed', () => {
    const w = createIdempotencyWindow({ windowMs: 1000, maxKeys: 10, coversSince: 0 });
    w.add('a', 1, 0);
    w.add('b', 2, 0);
    w.add('c', 3, 0);
    w.truncateAfter(1);
    expect([w.get('a'), w.get('b'), w.get('c')]).toEqual([1, undefined, undefined]);
    w.add('b', 2, 1); // the seq is taken again by another command
    expect(w.get('b')).toBe(2);
  });
});
