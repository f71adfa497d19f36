/**
 * An orders shard node (issue 11): risk shard k and matching shard k (src/engine/shards/node.ts)
 * behind one sequencer, one journal and one leader.
 *
 *   inputs   clients' commands and administration (submit/admin), and the messages of the other
 *            shards, read from `orders.shard.<k>` through a JetStream durable consumer
 *   order    apply → journal (one fenced INSERT per batch) → answer the callers and acknowledge the
 *            bus messages (a message is acked only once its input is committed, so a node that
 *            dies before its commit gets it again) → publish what the batch sent to other shards
 *   outbox   messages are derived from the journal; `published_seq` says how far they went out, and
 *            a node that takes over sends again everything beyond it (receivers drop repeats by
 *            their channel numbers, engine/shards/channel.ts)
 *   leader   the orders shard's own lease and epoch (leadership.ts): a standby applies the
 *            leader's journal as it grows (every 200 ms) while it waits in the database for the
 *            lock, then reads the last entries, sends what the old leader had not, and leads; a
 *            leader that lost its lease can no longer commit (fenced) and stops
 *   events   executions, trades and books for the rest of the platform (events.ts), from the same
 *            outbox; client order ids answered from a window (keys.ts)
 *   tables   the orders service's read tables (orders, trades, accounts, positions, movements,
 *            instruments), projected from the journal after the commit by the leader, in batches
 *            (projection.ts); `shard_outbox.projected_seq` says how far, and a node that takes over
 *            projects again from it. Reads (reads.ts) wait for it (`projected`).
 *
 *   snapshot every `snapshotEvery` inputs (the state and the client-order-id window): a node that
 *            starts cold reads the newest one whose messages were all sent, then the journal after it
 *   archive  the leader moves old journal entries to segment files (retention.ts, `shardJournal`):
 *            on a timer and after each snapshot; a node that finds its journal archived past what it
 *            holds restores from the newest usable snapshot, which covers it, never the archive
 *
 * The orders service's own API on a node: orders-client.ts (and ../sharded-client.ts over nodes).
 * Not built yet (docs/design.md "Orders shards"): the gateway's routing to shard nodes.
 */
import type { ExchangeConfig, OrderView, RejectReason } from '../../../domain/exchange.ts';
import { IDS_PER_ORDER, orderIdAt, type ShardLayout } from '../../../engine/shards/layout.ts';
import {
  type AdminCommand,
  applyInput,
  createShardNode,
  isDuplicate,
  type ShardInput,
  type ShardMessage,
  type ShardNode,
  type ShardStep,
} from '../../../engine/shards/node.ts';
import type { RiskCommand, RiskEvent } from '../../../engine/shards/risk-shard.ts';
import { captureNode, restoreNode } from '../../../engine/shards/snapshot.ts';
import { type Bus, RedeliverError, type Unsubscribe } from '../../../platform/bus/types.ts';
import type { Db } from '../../../platform/db/types.ts';
import type { Logger } from '../../../platform/logger.ts';
import { settledWithin } from '../../../platform/settled.ts';
import { type Leadership, openLeadership } from '../leadership.ts';
import { lastViewOf } from '../mapping.ts';
import type { StorageStatus } from '../model.ts';
import { FencedError, type Fencing } from '../persistence.ts';
import { notLeader } from '../problems.ts';
import { createBatchProjector, type Projector } from '../projector.ts';
import {
  createPruner,
  defaultArchiveDir,
  journalRetainOf,
  type PruneResult,
  type Pruner,
} from '../retention.ts';
import { lastBackup } from '../storage-status.ts';
import { type Outgoing, outgoingOf, shardSubject } from './events.ts';
import {
  appendInputs,
  findKeyed,
  markPublished,
  outboxMarks,
  readInputs,
  readSnapshot,
  shardJournal,
  shardStorage,
  writeSnapshot,
} from './journal.ts';
import { createKeyWindow } from './keys.ts';
import { type ProjectedEntry, projectionOf, writeShardProjection } from './projection.ts';

export { shardSubject } from './events.ts';
export const shardConsumer = (shard: number): string => `orders-shard-${shard}`;
/** A message handed to a node that died before committing it goes to the next leader after this. */
export const SHARD_ACK_WAIT_MS = 1000;
/**
 * A shard's consumer: its channel applies message n only after n − 1, so no message may be lost to
 * the bus's retention, however long the shard has no leader (the bus keeps `orders.shard.>` until
 * consumed and refuses the consumer otherwise).
 */
const SHARD_CONSUMER = { ackWaitMs: SHARD_ACK_WAIT_MS, keep: 'until-consumed' } as const;
/** Most publishes in flight at once from one node's outbox. */
const PUBLISH_WINDOW = 32;
/** How long a close waits for the queue to be committed and the outbox sent. */
const CLOSE_FLUSH_MS = 5000;
/** How often a standby reads the leader's new journal entries. */
const FOLLOW_EVERY_MS = 200;

export interface ShardNodeOptions {
  db: Db;
  bus: Bus;
  config: ExchangeConfig;
  layout: ShardLayout;
  shard: number;
  logger: Logger;
  clock?: () => number;
  leaseMs?: number;
  holder?: string;
  /** most inputs per journal batch (default 1,000) */
  maxBatch?: number;
  /** a snapshot every this many journaled inputs (default 100,000; 0: never) */
  snapshotEvery?: number;
  /** most journal entries per projection of the read tables (default 5,000) */
  projectMaxBatch?: number;
  /** how long a projection waits for more entries when no read waits for the tables (default 50 ms) */
  projectGatherMs?: number;
  /**
   * journal entries kept in the table behind the newest; older ones a usable snapshot covers go to
   * the archive (retention.ts). null: never. Default BOURSE_JOURNAL_RETAIN, else 100,000
   */
  journalRetain?: number | null;
  /** where archived segments go (shard-<k>-…); default BOURSE_ARCHIVE_DIR or <data dir>/journal-archive */
  archiveDir?: string;
  /** retention runs this often and after each snapshot (default 60 s; 0: after snapshots only) */
  pruneIntervalMs?: number;
}

export type ShardNodeRole = 'starting' | 'standby' | 'leader' | 'fenced' | 'closed';

export interface ShardNodeService {
  readonly shard: number;
  role(): ShardNodeRole;
  /** resolves once this node leads (recovered, consuming) */
  readonly leading: Promise<void>;
  /**
   * A client's command to the risk side, answered once journaled. With `key` (an order's
   * client_order_id), a command already journaled under it is not applied again: the answer is
   * the original's, with `replayed`.
   */
  submit(command: RiskCommand, key?: string): Promise<RiskEvent[] & { replayed?: boolean }>;
  /** submit(), answered as a record: also the command's journal seq (null for a replayed one). */
  run(command: RiskCommand, key?: string): Promise<Submitted>;
  /**
   * The command journaled under `key` for this account and command type (what a replayed answer
   * answers), with its journal seq; null if the journal has none. Reads the journal: for replays.
   */
  original(command: RiskCommand, key: string): Promise<{ seq: number; command: RiskCommand } | null>;
  admin(command: AdminCommand): Promise<ShardStep>;
  /**
   * The matching shard's verdict on an order this node holds: its view once booked (or traded,
   * cancelled, expired) there, or the refusal; null if none came within `timeoutMs`. answer() for
   * `new_order`, read as one view: call it as soon as the order's submit resolved.
   */
  verdict(orderId: number, timeoutMs: number): Promise<OrderView | RejectedVerdict | null>;
  /**
   * The events this risk shard settles that answer a command just routed for the order: for
   * `new_order` its matching shard's first word on it (booked, traded, refused), for `cancel` its
   * cancellation or the refusal, for `replace` its replacement or the refusal — all the events of
   * that settlement, so the caller sees the last view and legs. null if none within `timeoutMs`.
   * Call it as soon as the command's submit resolved: answers are not kept for later callers.
   */
  answer(
    orderId: number,
    command: 'new_order' | 'cancel' | 'replace',
    timeoutMs: number,
  ): Promise<RiskEvent[] | null>;
  /** journal, snapshots, outbox and the last backup, in the orders service's shape */
  storageStatus(): Promise<StorageStatus>;
  /** an order's client_order_id, while the node's key window holds it */
  clientOrderId(orderId: number): string | null;
  /** the state machine, for reads (do not change it) */
  state(): ShardNode;
  /** last journaled seq */
  seq(): number;
  /** who holds the shard's lease as this node knows it (its own name, its epoch: 0 until it leads); null on PGlite */
  lease(): { holder: string; epoch: number } | null;
  /** messages journaled and not yet handed to the bus */
  unpublished(): number;
  /** how far this node has written its journal into the read tables (0 while it does not lead) */
  projectedSeq(): number;
  /**
   * Resolves true once the read tables hold this shard's journal up to `seq`, false if not within
   * `timeoutMs`: the leader's own projection, or on any other node (standby, fenced, closed) the
   * watermark in the database, which is the leader's.
   */
  projected(seq: number, timeoutMs: number): Promise<boolean>;
  /** the seq of the snapshot this node started from, or null (replayed the journal from its start) */
  restoredFrom(): number | null;
  /**
   * A standby's lag: the journal entries its last read of the leader's journal found new (it reads
   * every FOLLOW_EVERY_MS), as the orders service's standby reports it; 0 while leading.
   */
  lag(): number;
  /** archives what retention allows now (joins a run in progress); null while not leading */
  prune(): Promise<PruneResult | null>;
  /**
   * Stops. `flush: false` is a crash as far as the shard is concerned: nothing more is committed,
   * published or acknowledged (the bus redelivers what was in flight).
   */
  close(options?: { flush?: boolean }): Promise<void>;
}

export interface Submitted {
  events: RiskEvent[];
  /** answered from the key window: the original command's answer, nothing applied again */
  replayed: boolean;
  seq: number | null;
}

export interface RejectedVerdict {
  rejected: RejectReason;
}

interface Pending {
  input: ShardInput;
  resolve(step: Answered): void;
  reject(err: Error): void;
}

const EMPTY: ShardStep = { events: [], market: [], messages: [], accounts: [] };

interface Answered extends ShardStep {
  /** a keyed command answered from the window, not applied again */
  replayed?: boolean;
  /** the journal seq of the input (absent for a replayed or repeated one) */
  seq?: number;
}

export async function startShardNode(options: ShardNodeOptions): Promise<ShardNodeService> {
  const { db, bus, config, layout, shard, logger } = options;
  const clock = options.clock ?? Date.now;
  const maxBatch = options.maxBatch ?? 1000;
  const log = logger.child({ shard });
  let node = createShardNode(config, shard, layout);
  const snapshotEvery = options.snapshotEvery ?? 100_000;
  let lastSnapshotSeq = 0;
  let restoredFrom: number | null = null;
  let snapshotting: Promise<void> | null = null;
  let role: ShardNodeRole = 'starting';
  let seq = 0;
  let stopped = false;
  let unsubscribe: Unsubscribe | null = null;
  const queue: Pending[] = [];
  let pumping: Promise<void> | null = null;
  // the outbox: [seq, what it sends] in journal order, handed to the bus one after another
  const outbox: [number, Outgoing[]][] = [];
  const keys = createKeyWindow();
  let outboxCount = 0;
  let publishing: Promise<void> | null = null;
  // the read tables: written by the leader only, from what each entry changed as it was applied
  let projector: Projector<ProjectedEntry> | null = null;
  // journal retention: the leader's, started once it leads
  const archiveDir = options.archiveDir ?? defaultArchiveDir();
  let pruner: Pruner | null = null;

  // Every shard's consumer exists before this node can send anything: a message to a shard that has
  // never led yet then waits for it, instead of coming before its consumer (which would start after
  // it: a gap its channel would wait on for ever).
  for (let k = 0; k < layout.matchingShards; k++)
    await bus.declareDurable(shardConsumer(k), shardSubject(k), SHARD_CONSUMER);

  const leadership: Leadership | null = await openLeadership(db, {
    shard,
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    ...(options.holder !== undefined && { holder: options.holder }),
  });
  const fencing: Fencing | null = leadership && {
    shard,
    epoch: () => leadership.epoch(),
    leaseMs: leadership.leaseMs,
  };

  /**
   * What a caller whose input this node will not commit is answered (closed, lease lost, commit
   * refused by the fence): 503 not-leader, nothing executed, so it may go to the new leader.
   */
  const fencedOut = (detail: string) => notLeader('fenced', detail);

  function enqueue(input: ShardInput): Promise<Answered> {
    if (stopped || role === 'fenced')
      return Promise.reject(
        fencedOut(`orders shard ${shard} is ${stopped ? 'closed' : 'no longer the leader of its shard'}`),
      );
    return new Promise((resolve, reject) => {
      queue.push({ input, resolve, reject });
      kick();
    });
  }

  // Started on a later tick: a batch of repeats alone journals nothing and would finish before
  // `pumping` was even set, leaving it set for good.
  function kick(): void {
    if (role === 'leader' && pumping === null) pumping = Promise.resolve().then(pump);
  }

  async function pump(): Promise<void> {
    try {
      while (queue.length > 0 && !stopped && role === 'leader') {
        const batch = queue.splice(0, maxBatch);
        const rows: [number, ShardInput][] = [];
        const steps: Answered[] = [];
        const sent: Outgoing[] = [];
        const changed: ProjectedEntry[] = [];
        for (const p of batch) {
          const input = numbered(p.input);
          if ((input.kind === 'route' || input.kind === 'settle') && isDuplicate(node, input)) {
            steps.push(EMPTY);
            continue;
          }
          const earlier = input.kind === 'command' ? keys.answer(input) : undefined;
          if (earlier !== undefined) {
            steps.push({ ...EMPTY, events: earlier, replayed: true });
            continue;
          }
          seq += 1;
          noteNumbered(input);
          const step = applyInput(node, input);
          keys.record(input, step.events, seq);
          rows.push([seq, input]);
          steps.push({ ...step, seq });
          sent.push(...outgoingOf(seq, input, step, keys.clientIdOf));
          changed.push(projectionOf(seq, input, step, node, keys.clientIdOf));
        }
        if (rows.length > 0) {
          try {
            await appendInputs(db, shard, rows, fencing);
          } catch (err) {
            // The state now holds inputs the journal may not: stop; a restart replays the journal.
            fail(err as Error, batch);
            return;
          }
        }
        if (stopped) {
          // a crash, as far as anyone can tell: no answers, no acknowledgements
          for (const p of batch) p.reject(new Error(`shard ${shard} stopped`));
          return;
        }
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(steps[i]!);
        for (const step of steps) if (step !== EMPTY && !step.replayed) settleAnswers(step.events);
        if (sent.length > 0) queueOut(seq, sent);
        if (changed.length > 0) projector?.offer(changed);
        if (snapshotEvery > 0 && seq - lastSnapshotSeq >= snapshotEvery && snapshotting === null) snapshot();
      }
    } finally {
      pumping = null;
    }
  }

  /** Captured now (a copy), written in the background; the next is due `snapshotEvery` later. */
  function snapshot(): void {
    const at = seq;
    const stored = { node: captureNode(node), keys: keys.save() };
    lastSnapshotSeq = at;
    snapshotting = writeSnapshot(db, shard, at, stored)
      .then(() => {
        log.info({ seq: at }, 'orders shard: snapshot written');
        void pruner?.run();
      })
      .catch((err) => log.warn({ err, seq: at }, 'orders shard: snapshot not written'))
      .finally(() => {
        snapshotting = null;
      });
  }

  /**
   * A node that starts cold begins from the newest usable snapshot, then reads the journal after
   * it; so does one that finds the journal archived past what it holds (a standby that fell
   * behind). Retention archives only what such a snapshot covers: without one, it refuses.
   */
  async function restore(): Promise<void> {
    const marks = await outboxMarks(db, shard);
    const found = await readSnapshot(db, shard, Math.min(marks.published, marks.projected));
    if ((found?.seq ?? 0) < marks.archived)
      throw new Error(
        `orders shard ${shard}: the journal is archived up to ${marks.archived} (in ${archiveDir}) and no usable snapshot covers it`,
      );
    if (found === null) return;
    node = restoreNode(config, found.snapshot.node, shard);
    keys.load(found.snapshot.keys);
    seq = found.seq;
    lastSnapshotSeq = found.seq;
    restoredFrom = found.seq;
    log.info({ seq }, 'orders shard: restored from a snapshot');
  }

  // callers waiting for the settlement that answers a command they routed (answer())
  type Watch = { command: 'new_order' | 'cancel' | 'replace'; resolve(events: RiskEvent[]): void };
  const watching = new Map<number, Watch[]>();
  const answers = (w: Watch, id: number, ev: RiskEvent): boolean => {
    if (ev.type === 'rejected') return ev.command === w.command && ev.id === id;
    if (!('order' in ev) || ev.order.id !== id) return false;
    if (w.command === 'new_order') return true;
    return ev.type === (w.command === 'cancel' ? 'canceled' : 'replaced');
  };
  const settleAnswers = (events: RiskEvent[]) => {
    if (watching.size === 0) return;
    for (const ev of events) {
      const id = ev.type === 'rejected' ? ev.id : 'order' in ev ? ev.order.id : undefined;
      const watches = id === undefined ? undefined : watching.get(id);
      if (watches === undefined) continue;
      const rest = watches.filter((w) => !answers(w, id!, ev));
      for (const w of watches) if (!rest.includes(w)) w.resolve(events);
      if (rest.length > 0) watching.set(id!, rest);
      else watching.delete(id!);
    }
  };

  function answer(
    orderId: number,
    command: Watch['command'],
    timeoutMs: number,
  ): Promise<RiskEvent[] | null> {
    return new Promise((resolve) => {
      const w: Watch = {
        command,
        resolve: (events) => {
          clearTimeout(timer);
          resolve(events);
        },
      };
      const timer = setTimeout(() => {
        const rest = (watching.get(orderId) ?? []).filter((x) => x !== w);
        if (rest.length > 0) watching.set(orderId, rest);
        else watching.delete(orderId);
        resolve(null);
      }, timeoutMs);
      watching.set(orderId, [...(watching.get(orderId) ?? []), w]);
    });
  }

  // the highest order id journaled, refused orders' included, so that no id is given twice
  let lastNumbered = 0;
  const noteNumbered = (input: ShardInput) => {
    if (input.kind === 'command' && input.command.type === 'new_order')
      lastNumbered = Math.max(lastNumbered, input.command.id);
  };

  /** A new order without an id (0) gets the next of this shard's ids, journaled with it. */
  function numbered(input: ShardInput): ShardInput {
    if (input.kind !== 'command' || input.command.type !== 'new_order' || input.command.id !== 0)
      return input;
    const last = Math.max(node.risk.lastOrderId, lastNumbered);
    const n = Math.floor(last / (IDS_PER_ORDER * layout.riskShards)) + 1;
    return { ...input, command: { ...input.command, id: orderIdAt(n, shard, layout) } };
  }

  function fail(err: Error, batch: Pending[]): void {
    log.error({ err }, 'orders shard: journal write failed; stopping');
    // refused by the fence: nothing of the batch was written (any other failure: unknown)
    const stopping = fencedOut(`orders shard ${shard} stopped leading: ${err.message}`);
    for (const p of batch) p.reject(err instanceof FencedError ? stopping : err);
    stepDown(stopping);
  }

  /**
   * Stops leading for good (lease lost, journal refused): what was still queued was never applied,
   * so its callers are refused (they would wait for ever), and nothing more is consumed or archived.
   */
  function stepDown(refusal: Error): void {
    role = 'fenced';
    for (const p of queue.splice(0)) p.reject(refusal);
    void stopConsuming();
    void pruner?.close();
  }

  function queueOut(at: number, messages: Outgoing[]): void {
    outbox.push([at, messages]);
    outboxCount += messages.length;
    if (publishing === null) publishing = publish();
  }

  // The outbox mark, written beside the publishing, not in its way: awaited between rounds, each
  // write (a commit) held back every message journaled meanwhile — at 100 orders/s on 2 shards
  // (bench:cluster) a round took ~70 ms, ~40 of them the mark, and each route or settle message
  // waited ~65 ms on average before it was sent. One write at a time, always of the furthest point
  // reached, so the mark only moves forward; a mark behind what went out only means a node that
  // takes over sends those messages again, which the receivers drop.
  let marking: Promise<void> | null = null;
  let markWanted = 0;
  function mark(done: number): void {
    markWanted = Math.max(markWanted, done);
    if (marking === null) marking = writeMarks();
  }
  async function writeMarks(): Promise<void> {
    try {
      let written = 0;
      while (markWanted > written && !stopped) {
        const at = markWanted;
        await markPublished(db, shard, at).catch((err) =>
          log.warn({ err }, 'orders shard: outbox mark failed'),
        );
        written = at;
      }
    } finally {
      marking = null;
    }
  }

  /**
   * Hands the outbox to the bus in journal order, many publishes in flight at once (each waits for
   * JetStream's store acknowledgement: one at a time, a busy node spent its time waiting on them),
   * then moves the mark past every entry whose messages were all stored (mark()). A refused publish is
   * retried with backoff; what went out after it may then be stored before it, which receivers
   * allow for (channel numbers, event seqs), and nothing is lost.
   */
  async function publish(): Promise<void> {
    try {
      let backoff = 100;
      while (outbox.length > 0 && !stopped) {
        const sending: Promise<boolean>[] = [];
        const sent: Outgoing[][] = [];
        let taken = 0;
        for (const [, messages] of outbox) {
          if (taken >= PUBLISH_WINDOW) break;
          const part = messages.slice(0, PUBLISH_WINDOW - taken);
          taken += part.length;
          sent.push(part);
          for (const m of part)
            sending.push(
              bus.publish(m.subject, m.data).then(
                () => true,
                () => false,
              ),
            );
        }
        const ok = await Promise.all(sending);
        if (stopped) return;
        // drop what was stored; what was refused stays, in order, for the next round
        let k = 0;
        sent.forEach((part, e) => {
          const messages = outbox[e]![1];
          const kept = part.filter(() => !ok[k++]);
          outboxCount -= part.length - kept.length;
          messages.splice(0, part.length, ...kept);
        });
        let done = 0;
        while (outbox.length > 0 && outbox[0]![1].length === 0) done = outbox.shift()![0];
        if (done > 0) mark(done);
        if (ok.includes(false)) {
          log.warn({ refused: ok.filter((x) => !x).length }, 'orders shard: publishes refused; retrying');
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 5000);
        } else backoff = 100;
      }
    } finally {
      publishing = null;
    }
  }

  // What journaled inputs beyond the outbox mark send, kept while following or recovering, to be
  // sent by this node if it takes over (the old leader may have died before sending them).
  const tail: [number, Outgoing[]][] = [];
  // Likewise what they change in the read tables beyond their watermark, to be projected by this node.
  const unprojected: ProjectedEntry[] = [];
  let projectedUpTo = 0;

  /** Applies the journal's entries after `seq` (a standby following, or a node taking over). */
  async function catchUp(): Promise<void> {
    const marks = await outboxMarks(db, shard);
    if (marks.archived > seq) {
      // what this node has not read yet left the table: start again from a snapshot past it
      log.warn({ seq, archived: marks.archived }, 'orders shard: journal archived past this node; restoring');
      tail.splice(0);
      unprojected.splice(0);
      await restore();
    }
    const sentUpTo = marks.published;
    projectedUpTo = marks.projected;
    while (tail.length > 0 && tail[0]![0] <= sentUpTo) tail.shift();
    while (unprojected.length > 0 && unprojected[0]!.seq <= projectedUpTo) unprojected.shift();
    for await (const [at, input] of readInputs(db, shard, seq)) {
      // archived while this read went on: the next round restores
      if (at !== seq + 1) throw new Error(`orders shard ${shard}: journal entry ${seq + 1} is gone`);
      noteNumbered(input);
      const step = applyInput(node, input);
      keys.record(input, step.events, at);
      seq = at;
      if (at > sentUpTo) tail.push([at, outgoingOf(at, input, step, keys.clientIdOf)]);
      if (at > projectedUpTo) unprojected.push(projectionOf(at, input, step, node, keys.clientIdOf));
    }
  }

  function startProjecting(): void {
    projector = createBatchProjector<ProjectedEntry>(projectedUpTo, {
      maxBatch: options.projectMaxBatch ?? 5000,
      gatherMs: options.projectGatherMs ?? 50,
      write: (batch) => writeShardProjection(db, node, batch, fencing),
      onError: (err, attempt) =>
        err instanceof FencedError
          ? log.error({ err }, 'orders shard: projection refused (fenced); projecting stops')
          : log.error({ err, attempt }, 'orders shard: projection failed; retrying'),
    });
    projector.offer(unprojected.splice(0));
  }

  function startPruning(): void {
    pruner = createPruner({
      db,
      archiveDir,
      journal: shardJournal(shard, fencing),
      retain: journalRetainOf(options.journalRetain),
      intervalMs: options.pruneIntervalMs ?? 60_000,
      committedSeq: () => seq,
      onPruned: (r) =>
        log.info(
          { archived: r.archived, archivedSeq: r.archivedSeq, archiveDir },
          'orders shard: journal archived',
        ),
      onError: (err) =>
        err instanceof FencedError
          ? log.warn({ err }, 'orders shard: journal retention refused (fenced)')
          : log.warn({ err }, 'orders shard: journal retention failed (retrying later)'),
    });
  }

  /** A standby applies what the leader journals, so a takeover has only the last entries to read. */
  let following: Promise<void> | null = null;
  let follow = false;
  let lastLag = 0;
  async function followJournal(): Promise<void> {
    while (follow && !stopped) {
      try {
        const before = seq;
        await catchUp();
        lastLag = seq - before;
      } catch (err) {
        log.warn({ err }, 'orders shard: following the journal failed; retrying');
      }
      await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
    }
  }

  async function stopConsuming(): Promise<void> {
    const u = unsubscribe;
    unsubscribe = null;
    if (u) await u().catch(() => {});
  }

  async function lead(): Promise<void> {
    await restore();
    if (leadership) {
      role = 'standby';
      follow = true;
      following = followJournal();
      await leadership.acquire();
      follow = false;
      await following;
      leadership.onLost((err) => {
        log.error({ err }, 'orders shard: lease lost; fenced');
        stepDown(fencedOut(`orders shard ${shard} lost its lease: no longer the leader`));
      });
    }
    if (stopped) return;
    // the old leader's last entries, then what it may not have sent
    await catchUp();
    for (const [at, out] of tail.splice(0)) queueOut(at, out);
    startProjecting();
    startPruning();
    role = 'leader';
    unsubscribe = await bus.subscribe<ShardMessage>(
      shardSubject(shard),
      async (msg) => {
        if (!isShardMessage(msg.data, shard)) {
          log.warn({ subject: msg.subject }, 'orders shard: malformed message dropped');
          return;
        }
        try {
          await enqueue(msg.data);
        } catch {
          // not committed here (stopped, fenced): the next leader must get it
          throw new RedeliverError(`orders shard ${shard} did not commit it`);
        }
      },
      { durable: shardConsumer(shard), ...SHARD_CONSUMER },
    );
    kick();
    log.info({ seq, epoch: leadership?.epoch() ?? null }, 'orders shard: leading');
  }

  const leading = lead();
  leading.catch((err) => log.error({ err }, 'orders shard: could not take the lead'));

  async function run(command: RiskCommand, key?: string): Promise<Submitted> {
    const input: ShardInput = { kind: 'command', command: { ...command, ts: clock() } };
    if (key !== undefined) input.key = key;
    const step = await enqueue(input);
    return { events: step.events, replayed: step.replayed === true, seq: step.seq ?? null };
  }

  return {
    shard,
    role: () => (stopped ? 'closed' : role),
    leading,
    lease: () => leadership && { holder: leadership.holder, epoch: leadership.epoch() },
    submit: async (command, key) => {
      const { events, replayed } = await run(command, key);
      return replayed ? Object.assign(events.slice(), { replayed: true }) : events;
    },
    run,
    original: async (command, key) => {
      if (!('account' in command)) return null;
      // the window keeps each key's original; a key restored from an older snapshot has none
      const kept = keys.original(command, key);
      if (kept !== null) return kept;
      const found = await findKeyed(db, shard, command.type, command.account, key);
      return found && found.input.kind === 'command'
        ? { seq: found.seq, command: found.input.command }
        : null;
    },
    admin: (command) => enqueue({ kind: 'admin', command: { ...command, ts: clock() } }),
    verdict: async (orderId, timeoutMs) => {
      const events = await answer(orderId, 'new_order', timeoutMs);
      if (events === null) return null;
      // the settlement's first word on the order: its refusal, or its last view (traded at once: filled)
      const first = events.find((e) =>
        e.type === 'rejected'
          ? e.command === 'new_order' && e.id === orderId
          : 'order' in e && e.order.id === orderId,
      );
      if (first?.type === 'rejected') return { rejected: first.reason };
      return lastViewOf(events, orderId)?.view ?? null;
    },
    answer,
    storageStatus: async () => ({
      ...(await shardStorage(db, shard, seq, clock(), archiveDir)),
      lastBackup: await lastBackup(db),
    }),
    clientOrderId: (orderId) => keys.clientIdOf(orderId),
    state: () => node,
    seq: () => seq,
    unpublished: () => outboxCount,
    projectedSeq: () => projector?.projectedSeq() ?? 0,
    async projected(at, timeoutMs) {
      const until = Date.now() + timeoutMs;
      const own = projector;
      if (own !== null && role === 'leader' && !stopped) {
        const done = await settledWithin(own.caughtUp(at), timeoutMs);
        if (done && own.projectedSeq() >= at) return true;
      }
      // not projecting here (or no longer): the leader's watermark
      for (;;) {
        if ((await outboxMarks(db, shard)).projected >= at) return true;
        if (Date.now() >= until) return false;
        await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS / 4));
      }
    },
    restoredFrom: () => restoredFrom,
    lag: () => (role === 'leader' ? 0 : lastLag),
    prune: () => (pruner !== null && role === 'leader' && !stopped ? pruner.run() : Promise.resolve(null)),
    async close({ flush = true } = {}) {
      // what is queued is committed and what is committed is sent, for a while (a bus or database
      // that is down must not hold a shutdown forever: the next leader sends the rest)
      const until = Date.now() + CLOSE_FLUSH_MS;
      while (
        flush &&
        (pumping !== null || queue.length > 0 || outbox.length > 0 || marking !== null) &&
        role === 'leader'
      ) {
        if (Date.now() > until) {
          log.warn(
            { queued: queue.length, unpublished: outboxCount },
            'orders shard: closing before all was sent',
          );
          break;
        }
        await settledWithin(pumping ?? publishing ?? marking ?? Promise.resolve(), 20);
      }
      if (flush && projector !== null && role === 'leader')
        await settledWithin(projector.close(), Math.max(0, until - Date.now()));
      stopped = true;
      projector?.stop();
      await pruner?.close();
      if (flush && snapshotting) await settledWithin(snapshotting, CLOSE_FLUSH_MS);
      await stopConsuming();
      for (const p of queue.splice(0)) p.reject(new Error(`shard ${shard} closed`));
      await leadership?.close().catch(() => {});
    },
  };
}

function isShardMessage(data: unknown, shard: number): data is ShardMessage {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as { kind?: unknown; env?: { from?: unknown; to?: unknown; seq?: unknown; body?: unknown } };
  return (
    (m.kind === 'route' || m.kind === 'settle') &&
    typeof m.env === 'object' &&
    m.env !== null &&
    Number.isSafeInteger(m.env.from) &&
    m.env.to === shard &&
    Number.isSafeInteger(m.env.seq) &&
    typeof m.env.body === 'object'
  );
}
