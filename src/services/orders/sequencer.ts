/**
 * The sequencer: the single writer of the exchange state.
 *
 *   submit → stamp (seq, order id, ts) → engine.apply (risk + match) → queue
 *          → group commit (journal rows, one transaction) → ack → project, publish, snapshot
 *
 * The engine is applied synchronously inside submit(), so command order is the order of
 * submit() calls and the engine is never touched concurrently. Acks wait for durability:
 * a command's promise resolves only after the transaction holding its journal entry has
 * committed. The derived tables and the bus follow from the committed entries (`committed` hook:
 * projector.ts, publisher.ts).
 *
 * Group commit: at most one transaction is in flight. Commands that arrive meanwhile are applied
 * to the engine (so they see each other's effects immediately, as in any matching engine) and
 * queued; when the transaction ends, the whole queue (up to maxBatch) goes into the next one.
 * Under load the batch grows, and the cost of a commit (one fsync) is shared by many commands.
 *
 * Fail-stop: if a commit fails, the in-memory engine is ahead of the database by every
 * queued-or-in-flight command. Those are rejected with a retriable error (none of them was
 * acknowledged), and the state is rebuilt (last snapshot + journal) before new commands are taken.
 * Should the failed commit in fact have reached the disk (connection lost after COMMIT was sent),
 * the rebuilt state includes it; a client's retry with the same idempotency key then returns the
 * original outcome, so "rejected but done" cannot turn into "done twice".
 *
 * Fenced (issue 11, leadership.ts): when the journal refuses a commit because another process took
 * the shard over, or the leadership's lease is lost, the sequencer stops for good: everything not
 * committed is rejected (retriable: the new leader takes it) and nothing is rebuilt here.
 */
import {
  type Command,
  type EngineEvent,
  idsTaken,
  type NewOrderCommand,
  type RejectReason,
} from '../../domain/exchange.ts';
import type { EngineSnapshot, Exchange } from '../../engine/api.ts';
import type { Clock } from '../../platform/clock.ts';
import type { IdempotencyWindow } from './idempotency.ts';
import { commitFailed, notLeader, OrdersApiError, problem, unavailable } from './problems.ts';

type WithoutTs<C> = C extends unknown ? Omit<C, 'ts'> : never;

/** A command as callers give it: the sequencer adds `ts` and, for new orders, `id`. */
export type CommandInput = Omit<NewOrderCommand, 'ts' | 'id'> | WithoutTs<Exclude<Command, NewOrderCommand>>;

export interface SubmitOptions {
  /** scope-qualified key ('o/<account>/<clientOrderId>'): a second submit returns the first's seq */
  idempotencyKey?: string;
  /** new orders: the client's id, persisted with the order */
  clientOrderId?: string;
}

/** One command as applied: what gets journaled, persisted, acknowledged and published. */
export interface SequencedCommand {
  seq: number;
  command: Command;
  events: EngineEvent[];
  idempotencyKey: string | null;
  clientOrderId: string | null;
  /** the engine's rejection of the command itself, if any */
  rejectReason: RejectReason | null;
}

export type SubmitOutcome =
  | { kind: 'applied'; entry: SequencedCommand }
  /** the idempotency key was seen before; resolves once that command (seq) is committed */
  | { kind: 'duplicate'; seq: number };

/** What recovery rebuilds from the database, and all the sequencer needs to resume. */
export interface SequencerState {
  engine: Exchange;
  /** last journal seq (0 when empty) */
  lastSeq: number;
  lastOrderId: number;
  /** last command timestamp: new ones never go back in time, even if the clock does */
  lastTs: number;
  /** idempotency key → journal seq, for the keyed commands of the window (idempotency.ts) */
  idempotency: IdempotencyWindow;
}

/** The engine and the sequencer's counters at one command boundary (a snapshot's content). */
export interface Captured {
  seq: number;
  lastOrderId: number;
  lastTs: number;
  engine: EngineSnapshot;
}

export interface SequencerHooks {
  /** Make a batch's journal entries durable: one transaction, all or nothing. */
  persist(batch: readonly SequencedCommand[]): Promise<void>;
  /** After commit and acks, in commit order; must not throw (publishing errors are its own). */
  committed(batch: readonly SequencedCommand[]): void;
  /**
   * Rebuild the state from the database (after a failed commit). `previous` is the state being
   * replaced, whose idempotency window may be carried over.
   */
  recover(previous: SequencerState): Promise<SequencerState>;
  /** Logging hooks, so this file needs no logger type. */
  onCommitError(err: unknown, lost: number): void;
  onRecoverError(err: unknown, attempt: number): void;
  onRecovered(state: SequencerState): void;
  /** whether a persist error means another writer owns the journal now (stop, do not rebuild) */
  isFenced?(err: unknown): boolean;
  onFenced?(err: unknown, rejected: number): void;
}

export interface SequencerOptions {
  clock: Clock;
  /** most commands in one transaction (BOURSE_COMMIT_MAX_BATCH) */
  maxBatch: number;
  /** applied-but-uncommitted commands beyond which submits are refused (503, retriable) */
  maxQueued: number;
}

export type SequencerStatus = 'running' | 'recovering' | 'fenced' | 'closing' | 'closed';

export interface SequencerStats {
  /** transactions committed */
  commits: number;
  /** commands committed */
  commands: number;
  /** largest batch so far */
  largestBatch: number;
  /** applied, not yet committed */
  queued: number;
  /** commits that failed (each followed by a rebuild) */
  failedCommits: number;
}

export interface Sequencer {
  submit(input: CommandInput, options?: SubmitOptions): Promise<SubmitOutcome>;
  /** Resolves when `seq` is committed; rejects (retriable) if it never will be. */
  whenCommitted(seq: number): Promise<void>;
  /** Resolves when everything applied so far is committed; returns that seq. */
  barrier(): Promise<number>;
  /** The live engine, ahead of the database by the uncommitted queue: read it knowingly. */
  engine(): Exchange;
  committedSeq(): number;
  /** The engine and counters as of now (applied, maybe not yet committed: see whenCommitted). */
  capture(): Captured;
  /** memory holds every idempotency key of a command at or after this time (idempotency.ts) */
  idempotencyCoversSince(): number;
  status(): SequencerStatus;
  stats(): SequencerStats;
  /** Stop for good: the leadership is lost. Rejects everything not committed (retriable). */
  fence(why: unknown): void;
  /** Stop taking commands, finish every in-flight and queued commit, then resolve. */
  close(): Promise<void>;
}

interface Pending {
  entry: SequencedCommand;
  resolve: (outcome: SubmitOutcome) => void;
  reject: (err: unknown) => void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createSequencer(
  initial: SequencerState,
  hooks: SequencerHooks,
  options: SequencerOptions,
): Sequencer {
  let state = initial;
  let status: SequencerStatus = 'running';
  let committed = initial.lastSeq;
  let queue: Pending[] = [];
  let inflight = false;
  let flushScheduled = false;
  let waiters: Waiter[] = [];
  let drained: (() => void) | null = null;
  const stats: SequencerStats = { commits: 0, commands: 0, largestBatch: 0, queued: 0, failedCommits: 0 };

  function refuse(): OrdersApiError {
    if (status === 'fenced')
      return notLeader('fenced', 'this orders instance is no longer the leader of its shard');
    return status === 'recovering'
      ? unavailable('the exchange is rebuilding its state after a failed commit')
      : unavailable('the orders service is shutting down');
  }

  function submit(input: CommandInput, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    if (status !== 'running') return Promise.reject(refuse());
    const key = opts.idempotencyKey ?? null;
    if (key !== null) {
      const seq = state.idempotency.get(key);
      if (seq !== undefined) return whenCommitted(seq).then(() => ({ kind: 'duplicate', seq }));
    }
    if (queue.length >= options.maxQueued) {
      return Promise.reject(unavailable('overloaded: too many commands awaiting commit'));
    }

    const ts = Math.max(options.clock.now(), state.lastTs);
    const seq = state.lastSeq + 1;
    // A new order's client id rides in its journaled command (the engine ignores it), so the
    // journal alone restores the idempotency map.
    const command = (
      input.type === 'new_order'
        ? opts.clientOrderId === undefined
          ? { ...input, ts, id: state.lastOrderId + 1 }
          : { ...input, ts, id: state.lastOrderId + 1, clientOrderId: opts.clientOrderId }
        : { ...input, ts }
    ) as Command;

    let events: EngineEvent[];
    try {
      events = state.engine.apply(command);
    } catch (err) {
      // The engine promises never to throw; if it does, its state may be half-changed. The
      // command is not journaled, so rebuilding from the database drops it cleanly.
      failStop(err, []);
      return Promise.reject(
        new OrdersApiError(
          problem(500, 'internal', 'Internal error', { detail: 'engine failure; state rebuilt' }),
        ),
      );
    }

    state.lastSeq = seq;
    state.lastTs = ts;
    // Legs take the ids after their entry's (taken even if the order is rejected: ids only increase).
    if (command.type === 'new_order') state.lastOrderId = command.id + idsTaken(command) - 1;
    if (key !== null) state.idempotency.add(key, seq, ts);

    const entry: SequencedCommand = {
      seq,
      command,
      events,
      idempotencyKey: key,
      clientOrderId: opts.clientOrderId ?? null,
      rejectReason: rejectionOf(command, events),
    };
    return new Promise<SubmitOutcome>((resolve, reject) => {
      queue.push({ entry, resolve, reject });
      stats.queued = queue.length;
      if (!inflight && !flushScheduled) {
        // Wait one turn of the event loop: requests already read from sockets join this batch.
        flushScheduled = true;
        setImmediate(flush);
      }
    });
  }

  async function flush(): Promise<void> {
    flushScheduled = false;
    while (!inflight && queue.length > 0 && (status === 'running' || status === 'closing')) {
      const batch = queue.length <= options.maxBatch ? queue : queue.slice(0, options.maxBatch);
      queue = batch === queue ? [] : queue.slice(options.maxBatch);
      const entries = batch.map((p) => p.entry);
      inflight = true;
      try {
        await hooks.persist(entries);
      } catch (err) {
        inflight = false;
        if (hooks.isFenced?.(err)) fence(err, batch);
        else failStop(err, batch);
        return;
      }
      inflight = false;
      committed = entries[entries.length - 1]!.seq;
      stats.commits++;
      stats.commands += entries.length;
      stats.queued = queue.length;
      if (entries.length > stats.largestBatch) stats.largestBatch = entries.length;
      for (const p of batch) p.resolve({ kind: 'applied', entry: p.entry });
      releaseWaiters();
      hooks.committed(entries);
    }
    if (status === 'fenced') {
      for (const w of waiters) w.reject(refuse());
      waiters = [];
    }
    if (queue.length === 0 && !inflight && drained) drained();
  }

  function releaseWaiters(): void {
    if (waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of waiters) {
      if (w.seq <= committed) w.resolve();
      else still.push(w);
    }
    waiters = still;
  }

  function whenCommitted(seq: number): Promise<void> {
    if (seq <= committed) return Promise.resolve();
    if (status === 'closed' || (status === 'fenced' && !inflight)) return Promise.reject(refuse());
    return new Promise((resolve, reject) => waiters.push({ seq, resolve, reject }));
  }

  function failStop(err: unknown, batch: Pending[]): void {
    const victims = [...batch, ...queue];
    queue = [];
    stats.queued = 0;
    stats.failedCommits++;
    const wasClosing = status === 'closing';
    status = 'recovering';
    hooks.onCommitError(err, victims.length);
    for (const p of victims) p.reject(commitFailed());
    for (const w of waiters) w.reject(commitFailed());
    waiters = [];
    void rebuild(wasClosing);
  }

  function fence(err: unknown, batch: Pending[] = []): void {
    if (status === 'fenced' || status === 'closed') return;
    // an in-flight batch settles on its own: committed before the takeover, or refused (fence again)
    const victims = [...batch, ...queue];
    queue = [];
    stats.queued = 0;
    status = 'fenced';
    hooks.onFenced?.(err, victims.length);
    for (const p of victims) p.reject(refuse());
    const still: Waiter[] = [];
    for (const w of waiters) {
      // a waiter for a seq in the in-flight batch may still see it commit
      if (inflight) still.push(w);
      else w.reject(refuse());
    }
    waiters = still;
    if (!inflight && drained) drained();
  }

  async function rebuild(thenClose: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (status === 'closed') return;
      try {
        state = await hooks.recover(state);
        committed = state.lastSeq;
        hooks.onRecovered(state);
        if (thenClose) {
          status = 'closed';
          drained?.();
        } else {
          status = 'running';
        }
        return;
      } catch (err) {
        hooks.onRecoverError(err, attempt);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }

  async function close(): Promise<void> {
    if (status === 'closed') return;
    if (status === 'fenced' && !inflight) {
      status = 'closed';
      return;
    }
    if (status === 'recovering') {
      // Nothing is queued during recovery (all of it was rejected); stop retrying.
      status = 'closed';
      return;
    }
    status = 'closing';
    if (queue.length > 0 || inflight || flushScheduled) {
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
    }
    status = 'closed';
  }

  return {
    submit,
    whenCommitted,
    barrier: async () => {
      const seq = state.lastSeq;
      await whenCommitted(seq);
      return seq;
    },
    engine: () => state.engine,
    committedSeq: () => committed,
    capture: () => ({
      seq: state.lastSeq,
      lastOrderId: state.lastOrderId,
      lastTs: state.lastTs,
      engine: state.engine.snapshot(),
    }),
    idempotencyCoversSince: () => state.idempotency.coversSince(),
    status: () => status,
    stats: () => ({ ...stats }),
    fence: (why) => fence(why),
    close,
  };
}

/** The engine's verdict on the command itself (not on orders it touched). */
function rejectionOf(command: Command, events: EngineEvent[]): RejectReason | null {
  for (const e of events) {
    if (e.type === 'rejected' && e.command === command.type) return e.reason;
  }
  return null;
}
