import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { createGateway, type Gateway, loadGatewayConfig } from '../gateway/index.ts';
import { openCache } from '../platform/cache/open.ts';
import { systemClock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { openRateLimiter } from '../platform/ratelimit/open.ts';
import { createOrdersService, type OrdersService } from '../services/orders/index.ts';
import { createUsersService, ensureAdmin, type UsersService } from '../services/users/index.ts';
import { deriveKeys } from '../services/users/secret.ts';
import { type DemoMarket, startDemoMarket } from './demo/market-maker.ts';
import { ordersVenue } from './demo/orders-venue.ts';
import { startPaperFunding } from './demo/paper-funding.ts';
import { openPlatform } from './platform.ts';

export const ROLES = ['all', 'gateway', 'orders', 'users'] as const;
export type Role = (typeof ROLES)[number];

export interface Running {
  /** the public server: the gateway for `all` and `gateway`, the service itself otherwise */
  app: FastifyInstance;
  url: string;
  /** Graceful stop: refuse new requests, finish in-flight commits, close the platform. */
  stop(): Promise<void>;
}

function httpServer(logger: Logger, component: string): FastifyInstance {
  return Fastify({
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    // per-request lines would drown the log at trading volumes; errors still log
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
}

function urlList(env: NodeJS.ProcessEnv, name: string): string[] {
  const urls = (env[name] ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error(`${name} must list the service's base URLs (comma-separated)`);
  return urls;
}

/**
 * Starts one process of Bourse.
 *
 * - `all`: every service in this process. The services listen on a loopback-only internal port;
 *   the gateway listens on PORT and reaches them by URL, exactly as it would across machines.
 * - `orders`, `users`: that service alone on PORT (cluster mode, several instances behind gateways).
 * - `gateway`: the edge alone, with BOURSE_ORDERS_URLS / BOURSE_USERS_URLS naming the instances.
 */
export async function start(config: Config, logger: Logger, role: Role): Promise<Running> {
  const closers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    return await startRole(config, logger, role, closers, stopAll);
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

async function startRole(
  config: Config,
  logger: Logger,
  role: Role,
  closers: (() => Promise<void>)[],
  stopAll: () => Promise<void>,
): Promise<Running> {
  let ready = false;
  const needsServices = role !== 'gateway';
  const platform = needsServices ? await openPlatform(config, logger, { migrate: true }) : undefined;
  if (platform) closers.push(() => platform.close());

  let orders: OrdersService | undefined;
  let users: UsersService | undefined;
  if (platform && (role === 'all' || role === 'orders')) {
    const o = await createOrdersService({ db: platform.db, bus: platform.bus, clock: systemClock, logger });
    closers.push(() => o.close());
    orders = o;
  }
  if (platform && (role === 'all' || role === 'users')) {
    const usersLogger = logger.child({ service: 'users' }) as FastifyBaseLogger;
    await ensureAdmin(
      { db: platform.db, clock: systemClock, logger: usersLogger },
      { password: config.adminPassword },
    );
    const u = await createUsersService({
      db: platform.db,
      bus: platform.bus,
      clock: systemClock,
      logger: usersLogger,
      config: { secret: config.secret, dataDir: config.dataDir },
    });
    closers.push(() => u.close());
    users = u;
  }

  // The services' own HTTP server: loopback-only behind the gateway in `all`, public in a service role.
  let servicesUrl: string | undefined;
  if (needsServices) {
    const internal = httpServer(logger, role === 'all' ? 'internal' : role);
    if (orders) await orders.register(internal);
    if (users) await users.register(internal);
    internal.get('/healthz', async (_req, reply) =>
      ready
        ? { status: 'ok', role, db: platform?.db.kind, bus: platform?.bus.kind }
        : reply.code(503).send({ status: 'starting' }),
    );
    internal.get('/readyz', async (_req, reply) => {
      if (!ready) return reply.code(503).send({ status: 'starting' });
      await platform?.db.query('SELECT 1');
      return { status: 'ready' };
    });
    const listenOn =
      role === 'all' ? { port: 0, host: '127.0.0.1' } : { port: config.port, host: config.host };
    const address = await internal.listen(listenOn);
    closers.push(() => internal.close());
    servicesUrl = `http://127.0.0.1:${new URL(address).port}`;
    if (role !== 'all') {
      ready = true;
      return { app: internal, url: `http://localhost:${new URL(address).port}`, stop: stopAll };
    }
  }

  // The gateway: `all` points it at the internal server; `gateway` at the configured instances.
  const cache = await openCache(config, logger);
  closers.push(() => cache.close());
  const limiter = await openRateLimiter(config);
  closers.push(() => limiter.close());
  const env = process.env;
  const gateway: Gateway = await createGateway({
    logger,
    upstreams: servicesUrl
      ? { orders: [servicesUrl], users: [servicesUrl] }
      : { orders: urlList(env, 'BOURSE_ORDERS_URLS'), users: urlList(env, 'BOURSE_USERS_URLS') },
    usersInternalToken: users?.internalToken ?? internalTokenFrom(config),
    cache,
    limiter,
    bus: platform?.bus,
    config: loadGatewayConfig(env),
  });
  closers.push(() => gateway.close());
  // the demo market is set up before the doors open, so the first page already shows a market
  if (config.demo && orders && users && platform) {
    const unsubscribe = await startPaperFunding(platform.bus, orders.client, logger);
    closers.push(unsubscribe);
  }
  if (config.demo && orders) {
    const demo: DemoMarket = await startDemoMarket({
      venue: ordersVenue(orders.client),
      seed: config.seed,
      onError: (err) => logger.warn({ err }, 'demo market step failed'),
    });
    // stopped first: closers run in reverse
    closers.push(() => demo.stop());
    logger.info('demo market running');
  }
  const address = await gateway.app.listen({ port: config.port, host: config.host });
  const url = `http://localhost:${new URL(address).port}`;

  ready = true;

  let stopping: Promise<void> | undefined;
  return {
    app: gateway.app,
    url,
    stop: () => {
      ready = false;
      stopping ??= stopAll();
      return stopping;
    },
  };
}

function internalTokenFrom(config: Config): string {
  if (!config.secret)
    throw new Error('BOURSE_SECRET must be set for --role gateway (it derives the internal token)');
  return deriveKeys(config.secret).internalToken;
}
