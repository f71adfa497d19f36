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
 *   leader   the orders shard's own lease and epoch (leadership.ts): a standby waits in the
 *            database, then replays the journal and leads; a leader that lost its lease can no
 *            longer commit (fenced) and stops
 *
 * Not built yet (docs/design.md): snapshots (takeover replays the whole journal), the HTTP API and
 * the gateway's routing to shard nodes, projection into the orders tables, executions on the bus.
 */
import type { ExchangeConfig } from '../../../domain/exchange.ts';
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
import { type Bus, RedeliverError, type Unsubscribe } from '../../../platform/bus/types.ts';
import type { Db } from '../../../platform/db/types.ts';
import type { Logger } from '../../../platform/logger.ts';
import { type Leadership, openLeadership } from '../leadership.ts';
import type { Fencing } from '../persistence.ts';
import { appendInputs, markPublished, publishedSeq, readInputs } from './journal.ts';

export const shardSubject = (shard: number): string => `orders.shard.${shard}`;
export const shardConsumer = (shard: number): string => `orders-shard-${shard}`;
/** A message handed to a node that died before committing it goes to the next leader after this. */
export const SHARD_ACK_WAIT_MS = 1000;

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
}

export type ShardNodeRole = 'starting' | 'standby' | 'leader' | 'fenced' | 'closed';

export interface ShardNodeService {
  readonly shard: number;
  role(): ShardNodeRole;
  /** resolves once this node leads (recovered, consuming) */
  readonly leading: Promise<void>;
  /** a client's command to the risk side, answered once journaled */
  submit(command: RiskCommand): Promise<RiskEvent[]>;
  admin(command: AdminCommand): Promise<ShardStep>;
  /** the state machine, for reads (do not change it) */
  state(): ShardNode;
  /** last journaled seq */
  seq(): number;
  /** messages journaled and not yet handed to the bus */
  unpublished(): number;
  /**
   * Stops. `flush: false` is a crash as far as the shard is concerned: nothing more is committed,
   * published or acknowledged (the bus redelivers what was in flight).
   */
  close(options?: { flush?: boolean }): Promise<void>;
}

interface Pending {
  input: ShardInput;
  resolve(step: ShardStep): void;
  reject(err: Error): void;
}

const EMPTY: ShardStep = { events: [], market: [], messages: [] };

export async function startShardNode(options: ShardNodeOptions): Promise<ShardNodeService> {
  const { db, bus, config, layout, shard, logger } = options;
  const clock = options.clock ?? Date.now;
  const maxBatch = options.maxBatch ?? 1000;
  const log = logger.child({ shard });
  let node = createShardNode(config, shard, layout);
  let role: ShardNodeRole = 'starting';
  let seq = 0;
  let stopped = false;
  let unsubscribe: Unsubscribe | null = null;
  const queue: Pending[] = [];
  let pumping: Promise<void> | null = null;
  // the outbox: [seq, messages] in journal order, handed to the bus one after another
  const outbox: [number, ShardMessage[]][] = [];
  let outboxCount = 0;
  let publishing: Promise<void> | null = null;

  // Every shard's consumer exists before this node can send anything: a message to a shard that has
  // never led yet then waits for it, instead of coming before its consumer (which would start after
  // it: a gap its channel would wait on for ever).
  for (let k = 0; k < layout.matchingShards; k++)
    await bus.declareDurable(shardConsumer(k), shardSubject(k), { ackWaitMs: SHARD_ACK_WAIT_MS });

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

  function enqueue(input: ShardInput): Promise<ShardStep> {
    if (stopped || role === 'fenced') return Promise.reject(new Error(`shard ${shard} is not leading`));
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
        const steps: ShardStep[] = [];
        const sent: ShardMessage[] = [];
        for (const p of batch) {
          const input = numbered(p.input);
          if ((input.kind === 'route' || input.kind === 'settle') && isDuplicate(node, input)) {
            steps.push(EMPTY);
            continue;
          }
          seq += 1;
          const step = applyInput(node, input);
          rows.push([seq, input]);
          steps.push(step);
          sent.push(...step.messages);
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
        if (sent.length > 0) queueOut(seq, sent);
      }
    } finally {
      pumping = null;
    }
  }

  /** A new order without an id (0) gets the next of this shard's ids, journaled with it. */
  function numbered(input: ShardInput): ShardInput {
    if (input.kind !== 'command' || input.command.type !== 'new_order' || input.command.id !== 0)
      return input;
    const n = Math.floor(node.risk.lastOrderId / (IDS_PER_ORDER * layout.riskShards)) + 1;
    return { kind: 'command', command: { ...input.command, id: orderIdAt(n, shard, layout) } };
  }

  function fail(err: Error, batch: Pending[]): void {
    log.error({ err }, 'orders shard: journal write failed; stopping');
    role = 'fenced';
    for (const p of [...batch, ...queue.splice(0)]) p.reject(err);
    void stopConsuming();
  }

  function queueOut(at: number, messages: ShardMessage[]): void {
    outbox.push([at, messages]);
    outboxCount += messages.length;
    if (publishing === null) publishing = publish();
  }

  async function publish(): Promise<void> {
    try {
      let backoff = 100;
      while (outbox.length > 0 && !stopped) {
        const [at, messages] = outbox[0]!;
        while (messages.length > 0 && !stopped) {
          const m = messages[0]!;
          try {
            await bus.publish(shardSubject(m.env.to), m);
            messages.shift();
            outboxCount -= 1;
            backoff = 100;
          } catch (err) {
            log.warn({ err }, 'orders shard: publish refused; retrying');
            await new Promise((r) => setTimeout(r, backoff));
            backoff = Math.min(backoff * 2, 5000);
          }
        }
        if (stopped) return;
        outbox.shift();
        await markPublished(db, shard, at).catch((err) =>
          log.warn({ err }, 'orders shard: outbox mark failed'),
        );
      }
    } finally {
      publishing = null;
    }
  }

  async function recover(): Promise<void> {
    node = createShardNode(config, shard, layout);
    const sentUpTo = await publishedSeq(db, shard);
    let resend: ShardMessage[] = [];
    for await (const [at, input] of readInputs(db, shard)) {
      const step = applyInput(node, input);
      seq = at;
      if (at > sentUpTo) resend.push(...step.messages);
      if (resend.length >= 10_000) {
        queueOut(at, resend);
        resend = [];
      }
    }
    if (resend.length > 0) queueOut(seq, resend);
  }

  async function stopConsuming(): Promise<void> {
    const u = unsubscribe;
    unsubscribe = null;
    if (u) await u().catch(() => {});
  }

  async function lead(): Promise<void> {
    if (leadership) {
      role = 'standby';
      await leadership.acquire();
      leadership.onLost((err) => {
        log.error({ err }, 'orders shard: lease lost; fenced');
        role = 'fenced';
        void stopConsuming();
      });
    }
    if (stopped) return;
    await recover();
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
      { durable: shardConsumer(shard), ackWaitMs: SHARD_ACK_WAIT_MS },
    );
    kick();
    log.info({ seq, epoch: leadership?.epoch() ?? null }, 'orders shard: leading');
  }

  const leading = lead();
  leading.catch((err) => log.error({ err }, 'orders shard: could not take the lead'));

  return {
    shard,
    role: () => (stopped ? 'closed' : role),
    leading,
    submit: async (command) =>
      (await enqueue({ kind: 'command', command: { ...command, ts: clock() } })).events,
    admin: (command) => enqueue({ kind: 'admin', command: { ...command, ts: clock() } }),
    state: () => node,
    seq: () => seq,
    unpublished: () => outboxCount,
    async close({ flush = true } = {}) {
      if (flush) {
        while ((pumping !== null || queue.length > 0 || outbox.length > 0) && role === 'leader') {
          await (pumping ?? publishing ?? new Promise((r) => setTimeout(r, 10)));
        }
      }
      stopped = true;
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
