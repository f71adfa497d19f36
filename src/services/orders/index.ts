/**
 * The orders service: accounts, orders, trades and the order books of the symbols it owns.
 *
 *   const orders = await createOrdersService({ db, bus, clock, logger });
 *   await orders.register(app);          // internal HTTP API under /internal/orders (routes.ts)
 *   orders.client                        // the same API in-process (client.ts)
 *   await orders.close();                // drain: every accepted command is committed first
 *
 * Commit path (docs/design.md): the sequencer applies each command to the engine and group-commits
 * its journal row; the acknowledgement waits for that commit only. The projector then writes the
 * derived tables, the publisher sends the events (the journal is their outbox), and snapshots of
 * the engine are written now and then. Start-up restores the last snapshot, replays the journal
 * after it, lets the projector catch up, and refuses to start if the tables disagree with the
 * engine (recovery.ts). The database must be migrated.
 */
import type { FastifyInstance } from 'fastify';
import type { ExchangeConfig } from '../../domain/exchange.ts';
import type { CreateExchange, Exchange } from '../../engine/api.ts';
import { createExchange } from '../../engine/index.ts';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OrdersClient } from './client.ts';
import { type CommittedBook, committedBookOf } from './committed-book.ts';
import { createHandlers } from './handlers.ts';
import { createIdempotencyWindow } from './idempotency.ts';
import { findKeyedCommand, loadRecentKeys } from './journal.ts';
import type { Leadership } from './leadership.ts';
import { FencedError, type Fencing, writeJournal } from './persistence.ts';
import { createProjector } from './projector.ts';
import { createPublisher } from './publisher.ts';
import {
  compareDerivedTables,
  type RecoverOptions,
  RecoveryError,
  type Restored,
  restore,
} from './recovery.ts';
import {
  createPruner,
  defaultArchiveDir,
  journalRetainOf,
  ordersJournal,
  type PruneResult,
} from './retention.ts';
import { DEFAULT_PREFIX, ordersRoutes } from './routes.ts';
import { createSequencer, type Sequencer, type SequencerState } from './sequencer.ts';
import { createSnapshotter, type Snapshotter } from './snapshots.ts';
import { storageStatus } from './storage-status.ts';

export type { OrdersClient } from './client.ts';
export { httpOrdersClient, OrdersApiError } from './client.ts';
export { compareDerivedTables, RecoveryError, replayJournal, restore, verifyOrders } from './recovery.ts';
export { defaultArchiveDir } from './retention.ts';
export { DEFAULT_PREFIX } from './routes.ts';
export type { CommandInput, Sequencer, SequencerStats, SubmitOutcome } from './sequencer.ts';

/**
 * The exchange rules the journal was written under. Replay must use the same ones: recovery
 * detects a change (a different verdict or different derived rows) and refuses to start.
 */
export const DEFAULT_EXCHANGE_CONFIG: ExchangeConfig = {
  fees: { makerBps: 1, takerBps: 3 },
  selfTradePrevention: 'cancel_resting',
  feeAccount: 'bourse-fees',
};

export interface OrdersServiceConfig {
  exchange?: ExchangeConfig;
  /** most commands per transaction; default BOURSE_COMMIT_MAX_BATCH or 2000 */
  commitMaxBatch?: number;
  /** applied-but-uncommitted commands beyond which submits get 503 (default 100,000) */
  maxQueued?: number;
  /** compare the derived tables with the recovered engine on start (default true) */
  verifyOnStart?: boolean;
  /** most commands per projection transaction; default BOURSE_PROJECT_MAX_BATCH or 20,000 */
  projectMaxBatch?: number;
  /** how long a projection waits for more commands when no read waits for the tables; default BOURSE_PROJECT_GATHER_MS or 50 */
  projectGatherMs?: number;
  /** commands between engine snapshots (0: never by count); default BOURSE_SNAPSHOT_EVERY or 100,000 */
  snapshotEvery?: number;
  /** ms between snapshots while commands come in (0: never by time); default BOURSE_SNAPSHOT_INTERVAL_MS or 300,000 */
  snapshotIntervalMs?: number;
  /** how long an idempotency key is honoured; default BOURSE_IDEMPOTENCY_WINDOW_MS or 24 h */
  idempotencyWindowMs?: number;
  /** most idempotency keys held in memory (older ones are looked up in the database); default 1,000,000 */
  idempotencyMaxKeys?: number;
  /**
   * journal commands kept in the table behind the last committed one once a snapshot covers them
   * (older ones are archived, retention.ts); null: keep everything. Default BOURSE_JOURNAL_RETAIN
   * or 100,000
   */
  journalRetain?: number | null;
  /** where archived journal segments go; default BOURSE_ARCHIVE_DIR or <BOURSE_DATA_DIR>/journal-archive */
  archiveDir?: string;
  /** ms between retention runs (also after every snapshot); default 60,000 */
  pruneIntervalMs?: number;
  /** the engine factory (tests inject faults) */
  createExchange?: CreateExchange;
}

export interface OrdersServiceDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  config?: OrdersServiceConfig;
  /**
   * This process leads its shard (leadership.ts, issue 11): every journal commit and projection
   * is fenced by its epoch, and a lost lease stops the sequencer. Absent: unfenced (PGlite, tests).
   */
  leadership?: Leadership;
  /** the state a hot standby followed up to the takeover (standby.ts); absent: restore() */
  restored?: Restored;
}

export interface OrdersService {
  readonly sequencer: Sequencer;
  /** the in-process client: the handlers themselves */
  readonly client: OrdersClient;
  /** Mounts the internal HTTP API (encapsulated: its error handler and validators stay inside). */
  register(app: FastifyInstance, opts?: { prefix?: string }): Promise<void>;
  /** Takes an engine snapshot now; resolves once it is written (or given up: see the log). */
  snapshot(): Promise<void>;
  /** the derived tables reflect the journal up to here */
  projectedSeq(): number;
  /** the outbox: every event up to `publishedSeq` went through; `retrying` wait for the bus */
  outbox(): { publishedSeq: number; retrying: number };
  /** Archives and prunes what retention allows now (it also runs on a timer and after snapshots). */
  prune(): Promise<PruneResult | null>;
  readonly archiveDir: string;
  /** Refuses new commands, commits everything accepted, waits for publishes. Leaves db and bus open. */
  close(): Promise<void>;
}

interface Views {
  book: CommittedBook;
  clientOrderIds: Map<number, string>;
}

async function viewsOf(db: Db, engine: Exchange): Promise<Views> {
  const { rows } = await db.query<{ id: number; client_order_id: string }>(
    `SELECT id, client_order_id FROM orders
      WHERE status IN ('held', 'new', 'partially_filled') AND client_order_id IS NOT NULL`,
  );
  return {
    book: committedBookOf(engine),
    clientOrderIds: new Map(rows.map((r) => [r.id, r.client_order_id])),
  };
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  const n = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

const DAY_MS = 86_400_000;

/** How recovery (and a standby's following) replays the journal under this configuration. */
export function recoverOptionsOf(config: OrdersServiceConfig): RecoverOptions {
  return {
    createExchange: config.createExchange ?? createExchange,
    exchangeConfig: config.exchange ?? DEFAULT_EXCHANGE_CONFIG,
    archiveDir: config.archiveDir ?? defaultArchiveDir(),
  };
}

export async function createOrdersService(deps: OrdersServiceDeps): Promise<OrdersService> {
  const { db, bus, clock, leadership } = deps;
  const logger = deps.logger.child({ service: 'orders' });
  const config = deps.config ?? {};
  const archiveDir = config.archiveDir ?? defaultArchiveDir();
  const recoverOptions = recoverOptionsOf(config);
  const fencing: Fencing | undefined = leadership && {
    shard: leadership.shard,
    epoch: () => leadership.epoch(),
    leaseMs: leadership.leaseMs,
  };
  const windowMs = config.idempotencyWindowMs ?? envInt('BOURSE_IDEMPOTENCY_WINDOW_MS') ?? DAY_MS;
  const maxKeys = config.idempotencyMaxKeys ?? envInt('BOURSE_IDEMPOTENCY_MAX_KEYS') ?? 1_000_000;
  const onSkipped = (seq: number, why: string) =>
    logger.warn({ seq, why }, 'orders: snapshot unusable, trying an older one');

  const started = Date.now();
  let restored: Restored;
  try {
    restored = deps.restored ?? (await restore(db, recoverOptions, onSkipped));
  } catch (err) {
    logger.fatal({ err }, 'orders: recovery failed; refusing to start');
    throw err;
  }

  const publisher = createPublisher(
    bus,
    (err, subject) => logger.warn({ err, subject }, 'orders: publish failed (the database has the record)'),
    restored.publishedSeq,
  );
  const projector = await createProjector(db, restored.projectedSeq, {
    maxBatch: config.projectMaxBatch ?? envInt('BOURSE_PROJECT_MAX_BATCH') ?? 20_000,
    gatherMs: config.projectGatherMs ?? envInt('BOURSE_PROJECT_GATHER_MS') ?? 50,
    publishedSeq: () => publisher.publishedSeq(),
    onError: (err, attempt) =>
      err instanceof FencedError
        ? logger.error({ err }, 'orders: projection refused (fenced); projecting stops')
        : logger.error({ err, attempt }, 'orders: projection failed; retrying'),
    fencing,
  });
  /** Hands recovered entries to the projector and the outbox; resolves once the tables caught up. */
  async function catchUp(r: Restored, after: number): Promise<void> {
    // in memory it may be further than the tables recorded (a rebuild while running)
    const published = Math.max(publisher.publishedSeq(), r.publishedSeq);
    if (published < r.snapshotSeq) {
      logger.warn(
        { publishedSeq: published, snapshotSeq: r.snapshotSeq },
        'orders: events between these were never confirmed sent and cannot be sent again',
      );
    }
    publisher.republish(r.tail.filter((e) => e.seq > Math.max(after, published)));
    projector.offer(r.tail);
    await projector.caughtUp(r.lastSeq);
  }
  const restoredMs = Date.now() - started;
  await catchUp(restored, 0);
  const caughtUpMs = Date.now() - started;

  if (config.verifyOnStart ?? true) {
    const differences = await compareDerivedTables(db, restored.engine.exportState(), restored.lastSeq);
    if (differences.length > 0) {
      const err = new RecoveryError('derived tables disagree with the journal replay', differences);
      logger.fatal({ err }, 'orders: recovery failed; refusing to start');
      throw err;
    }
  }

  const verifiedMs = Date.now() - started;
  const recent = await loadRecentKeys(db, clock.now(), windowMs, maxKeys);
  const idempotency = createIdempotencyWindow({ windowMs, maxKeys, coversSince: recent.coversSince });
  for (const [key, seq, ts] of recent.keys) idempotency.add(key, seq, ts);
  let views = await viewsOf(db, restored.engine);
  logger.info(
    {
      snapshotSeq: restored.snapshotSeq,
      replayed: restored.replayed,
      lastSeq: restored.lastSeq,
      ms: Date.now() - started,
      restoredMs,
      caughtUpMs,
      verifiedMs,
      openOrders: views.clientOrderIds.size,
      idempotencyKeys: idempotency.size(),
    },
    'orders: state recovered (snapshot + journal)',
  );

  // created below; the sequencer's hooks run only after it exists
  let snapshotter: Snapshotter | null = null;

  const sequencer = createSequencer(
    {
      engine: restored.engine,
      lastSeq: restored.lastSeq,
      lastOrderId: restored.lastOrderId,
      lastTs: restored.lastTs,
      idempotency,
    },
    {
      persist: (batch) => writeJournal(db, batch, fencing),
      isFenced: (err) => err instanceof FencedError,
      onFenced: (err, rejected) =>
        logger.error({ err, rejected }, 'orders: fenced out of the journal; this instance stops writing'),
      committed: (batch) => {
        publisher.committed(batch, views);
        projector.offer(batch);
        idempotency.prune(clock.now(), projector.projectedSeq());
        snapshotter?.committed(batch[batch.length - 1]!.seq);
      },
      recover: async (previous): Promise<SequencerState> => {
        const committedBefore = projector.offeredSeq();
        const again = await restore(db, recoverOptions, onSkipped);
        // entries of a commit that reported failure but reached the disk
        const landed = again.tail.filter((e) => e.seq > committedBefore);
        await catchUp(again, committedBefore);
        previous.idempotency.truncateAfter(committedBefore);
        for (const e of landed) {
          if (e.idempotencyKey !== null) previous.idempotency.add(e.idempotencyKey, e.seq, e.command.ts);
        }
        views = await viewsOf(db, again.engine);
        return {
          engine: again.engine,
          lastSeq: again.lastSeq,
          lastOrderId: again.lastOrderId,
          lastTs: again.lastTs,
          idempotency: previous.idempotency,
        };
      },
      onCommitError: (err, lost) =>
        logger.error(
          { err, rejected: lost },
          'orders: commit failed; rejecting uncommitted commands and rebuilding',
        ),
      onRecoverError: (err, attempt) => logger.error({ err, attempt }, 'orders: rebuild failed; retrying'),
      onRecovered: (state) =>
        logger.warn(
          { lastSeq: state.lastSeq },
          'orders: state rebuilt from the last snapshot and the journal',
        ),
    },
    {
      clock,
      maxBatch: config.commitMaxBatch ?? envInt('BOURSE_COMMIT_MAX_BATCH') ?? 2000,
      maxQueued: config.maxQueued ?? 100_000,
    },
  );

  const snapshots = (snapshotter = createSnapshotter(
    {
      db,
      every: config.snapshotEvery ?? envInt('BOURSE_SNAPSHOT_EVERY') ?? 100_000,
      intervalMs: config.snapshotIntervalMs ?? envInt('BOURSE_SNAPSHOT_INTERVAL_MS') ?? 300_000,
      now: () => clock.now(),
      capture: () => sequencer.capture(),
      whenCommitted: (seq) => sequencer.whenCommitted(seq),
      whenProjected: (seq) => projector.caughtUp(seq),
      onWriting: (seq) => logger.info({ seq }, 'orders: writing snapshot'),
      onWritten: (seq, info) => {
        logger.info({ seq, ...info }, 'orders: snapshot written');
        void pruner.run();
      },
      onError: (err) => logger.warn({ err }, 'orders: snapshot not written (the journal has everything)'),
    },
    restored.snapshotSeq,
  ));
  const pruner = createPruner({
    db,
    archiveDir,
    journal: ordersJournal({
      minAgeMs: windowMs,
      now: () => clock.now(),
      publishedSeq: () => publisher.publishedSeq(),
    }),
    retain: journalRetainOf(config.journalRetain),
    intervalMs: config.pruneIntervalMs ?? 60_000,
    committedSeq: () => sequencer.committedSeq(),
    onPruned: (r) =>
      logger.info(
        { archived: r.archived, archivedSeq: r.archivedSeq, archiveDir },
        'orders: journal archived',
      ),
    onError: (err) => logger.warn({ err }, 'orders: journal retention failed (retrying later)'),
  });
  // the lease lost (session ended, paused past it): stop before the journal has to refuse us
  leadership?.onLost((err) => sequencer.fence(err));
  // a long tail after the last snapshot (or none yet): take one now rather than replay it again
  snapshots.committed(restored.lastSeq);

  const client = createHandlers({
    db,
    sequencer,
    book: () => views.book,
    clientOrderIds: () => views.clientOrderIds,
    fresh: () => projector.caughtUp(sequencer.committedSeq()),
    findOldKey: async (kind, account, key) => {
      const since = clock.now() - windowMs;
      // memory holds the whole window: a key it does not know is new (or older than the window)
      if (sequencer.idempotencyCoversSince() <= since) return null;
      return findKeyedCommand(db, kind, account, key, since);
    },
    storageStatus: () =>
      storageStatus(
        db,
        {
          committed: sequencer.committedSeq(),
          projected: projector.projectedSeq(),
          published: publisher.publishedSeq(),
          archiveDir,
        },
        clock.now(),
      ),
  });

  return {
    sequencer,
    client,
    register: async (app, opts = {}) => {
      await app.register(ordersRoutes(client), { prefix: opts.prefix ?? DEFAULT_PREFIX });
    },
    snapshot: () => snapshots.take(),
    projectedSeq: () => projector.projectedSeq(),
    outbox: () => ({ publishedSeq: publisher.publishedSeq(), retrying: publisher.retrying() }),
    prune: () => pruner.run(),
    archiveDir,
    close: async () => {
      await pruner.close();
      // a fenced instance leaves the shard's records to the leader
      const fenced = sequencer.status() === 'fenced' || leadership?.role() === 'lost';
      await sequencer.close();
      // the next start then replays nothing
      if (!fenced && sequencer.status() === 'closed' && sequencer.committedSeq() > snapshots.lastSeq())
        await snapshots.take();
      await snapshots.close();
      await projector.close();
      await publisher.close();
      // projections record the outbox watermark as it was when they were written: bring it up to date
      if (!fenced)
        await db.query('UPDATE exchange_state SET published_seq = GREATEST(published_seq, $1) WHERE id = 1', [
          publisher.publishedSeq(),
        ]);
      logger.info({ stats: sequencer.stats() }, 'orders: closed');
    },
  };
}
