/**
 * The reporting service: statements, positions and P&L, performance, brokerage and market
 * reports, as JSON, CSV or PDF. It owns no data: it reads the orders service's tables and
 * market-data's md_candles with read-only SQL, and users through the users service's client.
 *
 *   const reporting = createReportingService({ db, users, logger, clock, internalToken });
 *   await reporting.register(app);   // GET /v1/reports/... (routes.ts), behind the gateway
 *   await reporting.close();
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { InternalTokens } from '../../platform/http/forwarded-identity.ts';
import type { Logger } from '../../platform/logger.ts';
import type { UsersClient } from '../users/client.ts';
import { reportingRoutes } from './routes.ts';

export type { ReportingClient } from './client.ts';
export { httpReportingClient, ReportingApiError } from './client.ts';

export interface ReportingServiceConfig {
  /**
   * What a brokerage earns: this many basis points of its clients' traded notional; null (the
   * default) means the exchange fees its clients paid.
   */
  commissionBps?: number | null;
  /** how many of the largest positions across clients the brokerage report lists (default 10) */
  largestPositions?: number;
}

export interface ReportingServiceDeps {
  db: Db;
  users: UsersClient;
  logger: Logger;
  clock: Clock;
  /** the gateway's shared internal token: only requests carrying it have an identity (several while rotating) */
  internalToken: InternalTokens;
  config?: ReportingServiceConfig;
}

export interface ReportingService {
  register(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
}

export function createReportingService(deps: ReportingServiceDeps): ReportingService {
  const logger = deps.logger.child({ service: 'reporting' });
  const commissionBps = deps.config?.commissionBps ?? null;
  if (commissionBps !== null && !(Number.isSafeInteger(commissionBps) && commissionBps >= 0)) {
    throw new RangeError(`commissionBps must be a non-negative integer, got ${commissionBps}`);
  }
  const routes = reportingRoutes({
    db: deps.db,
    users: deps.users,
    clock: deps.clock,
    internalToken: deps.internalToken,
    brokerage: { commissionBps, largest: deps.config?.largestPositions ?? 10 },
  });
  return {
    register: async (app) => {
      await app.register(routes);
      logger.info('reporting: routes registered');
    },
    // nothing of its own to release: the db, users client and logger belong to the caller
    close: async () => {},
  };
}
