/**
 * The sequencer's contract with a controllable persister and no database: acks wait for the
 * commit, commands queue behind an in-flight commit and go together into the next one, a failed
 * commit rejects everything uncommitted and rebuilds, close() drains.
 */
import { describe, expect, it } from 'vitest';
import { createExchange } from '../../engine/index.ts';
import { manualClock } from '../../platform/clock.ts';
import { createIdempotencyWindow } from './idempotency.ts';
import { DEFAULT_EXCHANGE_CONFIG } from './index.ts';
import { OrdersApiError } from './problems.ts';
import {
  type CommandInput,
  createSequencer,
  type SequencedCommand,
  type SequencerState,
  type SubmitOutcome,
} from './sequencer.ts';

function freshState(): SequencerState {
  return {
    engine: createExchange(DEFAULT_EXCHANGE_CONFIG),
    lastSeq: 0,
    lastOrderId: 0,
    lastTs: 0,
    idempotency: createIdempotencyWindow({ windowMs: 86_400_000, maxKeys: 1000, coversSince: 0 }),
  };
}

/** A persister whose commits finish when the test says so. */
function harness(maxBatch = 1000) {
  const commits: { batch: SequencedCommand[]; finish: () => void; fail: (err: Error) => void }[] = [];
  const committed: number[][] = [];
  let recoveries = 0;
  const sequencer = createSequencer(
    freshState(),
    {
      persist: (batch) =>
        new Promise<void>((resolve, reject) =>
          commits.push({ batch: [...batch], finish: resolve, fail: reject }),
        ),
      committed: (batch) => committed.push(batch.map((e) => e.seq)),
      recover: async () => {
        recoveries++;
        return freshState();
      },
      onCommitError: () => {},
      onRecoverError: () => {},
      onRecovered: () => {},
    },
    { clock: manualClock(1000), maxBatch, maxQueued: 10_000 },
  );
  return { sequencer, commits, committed, recoveries: () => recoveries };
}

const deposit = (account: string, amount = 100): CommandInput => ({ type: 'deposit', account, amount });
const tick = () => new Promise((r) => setImmediate(r));

describe('sequencer', () => {
  it('acknowledges only after the commit, and batches what arrives during one', async () => {
    const { sequencer, commits, committed } = harness();
    const acked: number[] = [];
    const track = (p: Promise<SubmitOutcome>) =>
      p.then((o) => acked.push(o.kind === 'applied' ? o.entry.seq : -1));

    const first = track(sequencer.submit(deposit('a')));
    await tick();
    expect(commits).toHaveLength(1);
    // three more arrive while the first commit is in flight: applied at once, not committed
    const more = [
      track(sequencer.submit(deposit('b'))),
      track(sequencer.submit(deposit('c'))),
      track(sequencer.submit(deposit('d'))),
    ];
    await tick();
    expect(sequencer.engine().account('d')?.cash).toBe(100);
    expect(acked).toEqual([]);
    expect(commits).toHaveLength(1);

    commits[0]!.finish();
    await first;
    expect(acked).toEqual([1]);
    // the queue went into ONE next transaction as soon as the first ended
    expect(commits).toHaveLength(2);
    expect(commits[1]!.batch.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(acked).toEqual([1]);
    commits[1]!.finish();
    await Promise.all(more);
    expect(acked).toEqual([1, 2, 3, 4]);
    expect(committed).toEqual([[1], [2, 3, 4]]);
    expect(sequencer.stats()).toMatchObject({ commits: 2, commands: 4, largestBatch: 3 });
  });

  it('caps a transaction at maxBatch', async () => {
    const { sequencer, commits } = harness(2);
    const all = Array.from({ length: 5 }, (_, i) => sequencer.submit(deposit(`a${i}`)));
    await tick();
    for (let i = 0; i < 3; i++) {
      commits[i]!.finish();
      await tick();
    }
    await Promise.all(all);
    expect(commits.map((c) => c.batch.length)).toEqual([2, 2, 1]);
  });

  it('stamps monotonic seqs, order ids and timestamps', async () => {
    const { sequencer, commits } = harness();
    const funded = sequencer.submit(deposit('a', 1_000_000));
    await tick();
    commits[0]!.finish();
    await funded;
    const p = sequencer.submit({
      type: 'new_order',
      account: 'a',
      symbol: 'X',
      side: 'buy',
      orderType: 'limit',
      tif: 'gtc',
      qty: 1,
      price: 1,
    });
    await tick();
    commits[1]!.finish();
    const out = await p;
    expect(out.kind === 'applied' && out.entry.command).toMatchObject({ type: 'new_order', id: 1, ts: 1000 });
    expect(out.kind === 'applied' && out.entry.rejectReason).toBe('unknown_symbol');
  });

  it('answers a duplicate idempotency key with the first command, once that is committed', async () => {
    const { sequencer, commits } = harness();
    const a = sequencer.submit(deposit('a'), { idempotencyKey: 'k' });
    const b = sequencer.submit(deposit('a'), { idempotencyKey: 'k' });
    await tick();
    expect(commits[0]!.batch).toHaveLength(1);
    let bDone = false;
    void b.then(() => (bDone = true));
    await tick();
    expect(bDone).toBe(false);
    commits[0]!.finish();
    expect(await a).toMatchObject({ kind: 'applied', entry: { seq: 1 } });
    expect(await b).toEqual({ kind: 'duplicate', seq: 1 });
    expect(sequencer.engine().account('a')?.cash).toBe(100);
  });

  it('on a failed commit rejects every uncommitted command as retriable and rebuilds', async () => {
    const { sequencer, commits, recoveries } = harness();
    const inFlight = sequencer.submit(deposit('a'));
    await tick();
    const queued = sequencer.submit(deposit('b'));
    commits[0]!.fail(new Error('disk on fire'));
    for (const p of [inFlight, queued]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OrdersApiError);
      expect((err as OrdersApiError).problem).toMatchObject({ status: 503, retriable: true });
    }
    while (sequencer.status() !== 'running') await tick();
    expect(recoveries()).toBe(1);
    // the rebuilt state knows nothing of the rejected commands
    expect(sequencer.engine().account('a')).toBeUndefined();
    expect(commits).toHaveLength(1);
  });

  it('close() finishes in-flight and queued commits before resolving, then refuses', async () => {
    const { sequencer, commits } = harness();
    const a = sequencer.submit(deposit('a'));
    await tick();
    const b = sequencer.submit(deposit('b'));
    let closed = false;
    const closing = sequencer.close().then(() => (closed = true));
    await expect(sequencer.submit(deposit('c'))).rejects.toMatchObject({ problem: { status: 503 } });
    commits[0]!.finish();
    await a;
    await tick();
    expect(closed).toBe(false);
    commits[1]!.finish();
    await b;
    await closing;
    expect(sequencer.status()).toBe('closed');
  });
});
