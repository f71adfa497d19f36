import { describe, expect, it } from 'vitest';
import { deadline } from './deadline.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deadline', () => {
  it('aborts with the TimeoutError AbortSignal.timeout gives', async () => {
    const limit = deadline(1);
    await new Promise((r) => limit.signal.addEventListener('abort', r, { once: true }));
    expect((limit.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('once cleared, never aborts (its timer is gone, not left to fire)', async () => {
    const limit = deadline(1);
    limit.clear();
    await sleep(20); // a later timer: the 1 ms one would have fired before it
    expect(limit.signal.aborted).toBe(false);
  });

  it('without a time limit, ends only when aborted', async () => {
    const limit = deadline(undefined);
    await sleep(5);
    expect(limit.signal.aborted).toBe(false);
    limit.abort();
    expect((limit.signal.reason as DOMException).name).toBe('AbortError');
    limit.clear();
  });
});
