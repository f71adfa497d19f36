/**
 * The orders service: accounts, orders, trades and the order books of the symbols it owns.
 *
 *   const orders = await createOrdersService({ db, bus, clock, logger });
 *   await orders.register(app);          // internal HTTP API under /internal/orders (routes.ts)
 *   orders.client                        // the same API in-process (client.ts)
 *   await orders.close();                // drain: every accepted command is committed first
 *
 * Start-up recovers the state by replaying the journal into a fresh engine and refuses to start
 * if the derived tables disagree with the replay (recovery.ts). The database must be migrated.
 */
import type { FastifyInstance } from 'fastify';
import type { ExchangeConfig } from '../../domain/exchange.ts';
import type { CreateExchange } from '../../engine/api.ts';
import { createExchange } from '../../engine/index.ts';
import type { Bus } from '../../platform/bus/types.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OrdersClient } from './client.ts';
import { type CommittedBook, committedBookOf } from './committed-book.ts';
import { createHandlers } from './handlers.ts';
import { buildBatchRows, type CommittedExchange, loadCommittedExchange, writeBatch } from './persistence.ts';
import { createPublisher } from './publisher.ts';
import { type Recovered, recover } from './recovery.ts';
import { DEFAULT_PREFIX, ordersRoutes } from './routes.ts';
import { createSequencer, type Sequencer, type SequencerState } from './sequencer.ts';

export type { OrdersClient } from './client.ts';
export { httpOrdersClient, OrdersApiError } from './client.ts';
export { compareDerivedTables, RecoveryError, replayJournal } from './recovery.ts';
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
  /** compare the derived tables with the replay on start (default true) */
  verifyOnStart?: boolean;
  /** the engine factory (tests inject faults) */
  createExchange?: CreateExchange;
}

export interface OrdersServiceDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  config?: OrdersServiceConfig;
}

export interface OrdersService {
  readonly sequencer: Sequencer;
  /** the in-process client: the handlers themselves */
  readonly client: OrdersClient;
  /** Mounts the internal HTTP API (encapsulated: its error handler and validators stay inside). */
  register(app: FastifyInstance, opts?: { prefix?: string }): Promise<void>;
  /** Refuses new commands, commits everything accepted, waits for publishes. Leaves db and bus open. */
  close(): Promise<void>;
}

interface Views {
  book: CommittedBook;
  clientOrderIds: Map<number, string>;
  exchange: CommittedExchange;
}

async function viewsOf(db: Db, recovered: Recovered): Promise<Views> {
  const engine = recovered.state.engine;
  return {
    book: committedBookOf(engine),
    clientOrderIds: recovered.openClientOrderIds,
    exchange: await loadCommittedExchange(db, engine),
  };
}

function envBatch(): number | undefined {
  const raw = process.env.BOURSE_COMMIT_MAX_BATCH;
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export async function createOrdersService(deps: OrdersServiceDeps): Promise<OrdersService> {
  const { db, bus, clock } = deps;
  const logger = deps.logger.child({ service: 'orders' });
  const config = deps.config ?? {};
  const recoverOptions = {
    createExchange: config.createExchange ?? createExchange,
    exchangeConfig: config.exchange ?? DEFAULT_EXCHANGE_CONFIG,
    verify: config.verifyOnStart ?? true,
  };

  const started = Date.now();
  let recovered: Recovered;
  try {
    recovered = await recover(db, recoverOptions);
  } catch (err) {
    logger.fatal({ err }, 'orders: recovery failed; refusing to start');
    throw err;
  }
  logger.info(
    { commands: recovered.commands, ms: Date.now() - started, openOrders: recovered.openClientOrderIds.size },
    'orders: state recovered from the journal',
  );

  let views = await viewsOf(db, recovered);
  const publisher = createPublisher(bus, (err, subject) =>
    logger.warn({ err, subject }, 'orders: publish failed (the database has the record)'),
  );

  const sequencer = createSequencer(
    recovered.state,
    {
      persist: (batch) => writeBatch(db, buildBatchRows(batch, views.exchange)),
      committed: (batch) => publisher.committed(batch, views),
      recover: async (): Promise<SequencerState> => {
        const again = await recover(db, recoverOptions);
        views = await viewsOf(db, again);
        return again.state;
      },
      onCommitError: (err, lost) =>
        logger.error(
          { err, rejected: lost },
          'orders: commit failed; rejecting uncommitted commands and rebuilding',
        ),
      onRecoverError: (err, attempt) => logger.error({ err, attempt }, 'orders: rebuild failed; retrying'),
      onRecovered: (state) =>
        logger.warn({ lastSeq: state.lastSeq }, 'orders: state rebuilt from the database'),
    },
    {
      clock,
      maxBatch: config.commitMaxBatch ?? envBatch() ?? 2000,
      maxQueued: config.maxQueued ?? 100_000,
    },
  );

  const client = createHandlers({
    db,
    sequencer,
    book: () => views.book,
    clientOrderIds: () => views.clientOrderIds,
  });

  return {
    sequencer,
    client,
    register: async (app, opts = {}) => {
      await app.register(ordersRoutes(client), { prefix: opts.prefix ?? DEFAULT_PREFIX });
    },
    close: async () => {
      await sequencer.close();
      await publisher.settled();
      logger.info({ stats: sequencer.stats() }, 'orders: closed');
    },
  };
}
