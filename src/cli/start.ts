import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { ShardLayout } from '../engine/shards/layout.ts';
import { createGateway, type Gateway, loadGatewayConfig } from '../gateway/index.ts';
import { openBus } from '../platform/bus/open.ts';
import { openCache } from '../platform/cache/open.ts';
import { systemClock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import { hasInternalToken, requireInternalToken } from '../platform/http/forwarded-identity.ts';
import { installProblemHandlers, problemServerOptions } from '../platform/http/problem.ts';
import { BALANCED_BASE_URL, balancedFetch } from '../platform/http/upstream/fetch.ts';
import { createUpstream } from '../platform/http/upstream/upstream.ts';
import type { Logger } from '../platform/logger.ts';
import { openRateLimiter } from '../platform/ratelimit/open.ts';
import type { RateLimiter } from '../platform/ratelimit/types.ts';
import { createMarketDataService, type MarketDataService } from '../services/market-data/index.ts';
import { type OrdersClient, resendableOrdersRequest } from '../services/orders/client.ts';
import {
  createOrdersService,
  DEFAULT_EXCHANGE_CONFIG,
  httpOrdersClient,
  type OrdersService,
} from '../services/orders/index.ts';
import { ROLE_HEADER } from '../services/orders/problems.ts';
import { DEFAULT_PREFIX, ordersRoutes } from '../services/orders/routes.ts';
import { shardedOrdersClient } from '../services/orders/sharded-client.ts';
import { type ShardNodeService, startShardNode } from '../services/orders/shards/node-service.ts';
import { createShardOrdersClient } from '../services/orders/shards/orders-client.ts';
import { createShardReads } from '../services/orders/shards/reads.ts';
import { SHARD_PREFIX, shardRoutes } from '../services/orders/shards/routes.ts';
import { type OrdersNode, startOrdersNode } from '../services/orders/standby.ts';
import { createReportingService, type ReportingService } from '../services/reporting/index.ts';
import { createHttpUsersClient, type UsersClient } from '../services/users/client.ts';
import { createUsersService, ensureAdmin, type UsersService } from '../services/users/index.ts';
import { takeBackup } from './backup.ts';
import { addDemoFeeds } from './demo/feeds.ts';
import { seedDemoHistory } from './demo/history.ts';
import { type DemoMarket, demoSymbols, startDemoMarket } from './demo/market-maker.ts';
import { DEMO_NEWS_SYMBOLS, NEWSROOM_PATH, registerNewsroom } from './demo/newsroom.ts';
import { ordersVenue } from './demo/orders-venue.ts';
import { startPaperFunding } from './demo/paper-funding.ts';
import { type InternalCredential, internalCredential } from './internal-credential.ts';
import { openPlatform } from './platform.ts';

/** the built web terminal (`npm run build:web`, which `npm start` runs when web/ changed) */
const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Where the processes of a cluster find each other (README's configuration table). */
export const clusterVariables: { name: string; default: string | undefined; description: string }[] = [
  {
    name: 'BOURSE_ORDERS_URLS',
    default: undefined,
    description:
      "`--role gateway` (and market-data, reporting, fix): base URLs of the orders instances, comma-separated: requests go to the shard's leader among them (leader and standbys may all be listed).",
  },
  {
    name: 'BOURSE_ORDERS_SHARD_URLS',
    default: undefined,
    description:
      "A sharded deployment (`--role orders-shard` nodes, docs/design.md \"Orders shards\"), instead of BOURSE_ORDERS_URLS, for `--role gateway`, market-data, reporting and fix: each shard's instances, shard 0 first, shards separated by `;` and a shard's instances by `,` (`http://a0,http://b0;http://a1,http://b1`). Account calls go to the account's risk shard, symbol calls to the symbol's matching shard, administration to every shard; within a shard, to its leader. The number of shards is the number of groups (BOURSE_ORDERS_SHARDS, if set, must agree).",
  },
  {
    name: 'BOURSE_USERS_URLS',
    default: undefined,
    description:
      '`--role gateway` (and market-data, reporting, fix): base URLs of the users instances, comma-separated (round-robin).',
  },
  {
    name: 'BOURSE_MARKET_DATA_URLS',
    default: undefined,
    description: '`--role gateway`: base URLs of the market-data instances. Unset: its routes answer 503.',
  },
  {
    name: 'BOURSE_REPORTING_URLS',
    default: undefined,
    description: '`--role gateway`: base URLs of the reporting instances. Unset: its routes answer 503.',
  },
  {
    name: 'BOURSE_URL',
    default: undefined,
    description:
      '`bourse import` and `bourse backup` (on PGlite): the running Bourse to talk to. Unset: http://localhost:$PORT.',
  },
];

export const ROLES = [
  'all',
  'gateway',
  'orders',
  'orders-shard',
  'users',
  'market-data',
  'reporting',
  'fix',
] as const;
export type Role = (typeof ROLES)[number];

export interface Running {
  /** the public server: the gateway for `all` and `gateway`, the service itself otherwise */
  app: FastifyInstance;
  url: string;
  /**
   * the services' own server (internal: every route but the health checks needs the internal
   * token), and the routes it serves; absent in `--role gateway`
   */
  internal?: { app: FastifyInstance; url: string; routes: readonly { method: string; url: string }[] };
  /** the FIX 4.4 order-entry port, when this process serves it */
  fixPort?: number;
  /** Graceful stop: refuse new requests, finish in-flight commits, close the platform. */
  stop(): Promise<void>;
}

function httpServer(logger: Logger, component: string, tls?: InternalCredential['tls']): FastifyInstance {
  const problems = { service: component, notFound: true };
  const app = Fastify({
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    // per-request lines would drown the log at trading volumes; errors still log
    logController: new LogController({ disableRequestLogging: true }),
    // what the server refuses before a service's routes (414, 431, unknown routes): problem+json
    ...problemServerOptions(problems),
    // mutual TLS: a client without a certificate signed by the deployment's CA never gets a byte in
    ...(tls && { https: { ...tls, requestCert: true, rejectUnauthorized: true } }),
  }) as unknown as FastifyInstance;
  installProblemHandlers(app, problems);
  return app;
}

/**
 * A shard node's part of /healthz's details, in the shape `--role orders` gives (role, shard,
 * holder, epoch, seq, lag): the gateway's admin status gathers both kinds by shard the same way.
 */
function shardStatus(node: ShardNodeService) {
  const lease = node.lease();
  const role = node.role();
  return {
    role: role === 'fenced' || role === 'closed' ? 'lost' : role === 'leader' ? 'leader' : 'standby',
    shard: node.shard,
    holder: lease?.holder ?? null,
    epoch: lease?.epoch ?? 0,
    seq: node.seq(),
    lag: node.lag(),
    unpublished: node.unpublished(),
  };
}

function urlList(env: NodeJS.ProcessEnv, name: string, required = true): string[] {
  const urls = (env[name] ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (required && urls.length === 0)
    throw new Error(`${name} must list the service's base URLs (comma-separated)`);
  return urls;
}

/**
 * BOURSE_ORDERS_SHARD_URLS: shard k's base URLs at index k, or undefined when unset (an unsharded
 * deployment: BOURSE_ORDERS_URLS). Anything malformed is a startup error naming what is wrong.
 */
export function ordersShardUrls(env: NodeJS.ProcessEnv): string[][] | undefined {
  const name = 'BOURSE_ORDERS_SHARD_URLS';
  const raw = (env[name] ?? '').trim();
  if (raw === '') return undefined;
  if ((env.BOURSE_ORDERS_URLS ?? '').trim() !== '')
    throw new Error(
      `${name} and BOURSE_ORDERS_URLS are both set: a deployment is sharded (${name}) or not (BOURSE_ORDERS_URLS)`,
    );
  const seen = new Map<string, number>();
  const shards = raw.split(';').map((group, k) => {
    const urls = group
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (urls.length === 0)
      throw new Error(
        `${name}: shard ${k} lists no URL (shards are separated by ';', a shard's instances by ',': "http://a0,http://b0;http://a1,http://b1")`,
      );
    for (const url of urls) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Error(`${name}: shard ${k}: "${url}" is not a URL`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw new Error(`${name}: shard ${k}: "${url}" is not an http(s) URL`);
      const other = seen.get(url);
      if (other !== undefined)
        throw new Error(`${name}: "${url}" is listed for shard ${other} and shard ${k}`);
      seen.set(url, k);
    }
    return urls;
  });
  const declared = (env.BOURSE_ORDERS_SHARDS ?? '').trim();
  if (declared !== '' && Number(declared) !== shards.length)
    throw new Error(
      `${name} lists ${shards.length} shard(s) but BOURSE_ORDERS_SHARDS is ${declared}: every process must agree on the number of shards`,
    );
  return shards;
}

/** The layout the shard nodes run (risk shard k and matching shard k on node k), from the number of shards. */
export function shardLayout(shards: number): ShardLayout {
  return { riskShards: shards, matchingShards: shards };
}

/**
 * Starts one process of Bourse.
 *
 * - `all`: every service in this process. The services listen on a loopback-only internal port;
 *   the gateway listens on PORT and proxies to them by URL, as it would across machines, but
 *   makes its typed calls (orders, token checks) through their in-process clients.
 *   The internal token is generated per process unless configured.
 * - `orders`, `users`, `market-data`, `reporting`: that service alone on PORT (cluster mode, several
 *   instances behind gateways). Market data, reporting and FIX reach orders and users through the
 *   gateway's balancer over every URL of BOURSE_ORDERS_URLS / BOURSE_USERS_URLS (the orders shard's
 *   leader found by its role, as the gateway finds it). Every route of a service's server but the
 *   health checks needs the internal token (BOURSE_INTERNAL_TOKEN, or derived from BOURSE_SECRET): without one a
 *   role refuses to start. With BOURSE_INTERNAL_TLS_* the server also requires a client certificate.
 * - `fix`: FIX 4.4 order entry alone on BOURSE_FIX_PORT (health checks on PORT), in front of the
 *   orders instances of BOURSE_ORDERS_URLS, API keys checked by BOURSE_USERS_URLS; `all` serves
 *   FIX too unless BOURSE_FIX_PORT is off.
 * - `gateway`: the edge alone, with BOURSE_ORDERS_URLS / BOURSE_USERS_URLS (and optionally
 *   BOURSE_MARKET_DATA_URLS / BOURSE_REPORTING_URLS) naming the instances, and NATS_URL for the
 *   trading stream's trade_updates (no database).
 * - `orders-shard`: one orders shard node (BOURSE_ORDERS_SHARD of BOURSE_ORDERS_SHARDS) as leader or
 *   standby: its own door (/internal/orders-shard) and the orders service's API (/internal/orders).
 *   A sharded deployment gives the gateway, market data, reporting and FIX BOURSE_ORDERS_SHARD_URLS
 *   (each shard's instances) instead of BOURSE_ORDERS_URLS: one balancer per shard, combined by
 *   shardedOrdersClient.
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
  // a sharded deployment's orders shards, for the roles that call them (checked before anything opens)
  const shardUrls = ['gateway', 'market-data', 'reporting', 'fix'].includes(role)
    ? ordersShardUrls(process.env)
    : undefined;
  const credential = await internalCredential(config, role);
  const platform = needsServices ? await openPlatform(config, logger, { migrate: true }) : undefined;
  if (platform) closers.push(() => platform.close());
  // one rate limiter (one Redis connection) for the process: login throttling, FIX and the
  // gateway's buckets use keys of their own in it, as they do in a shared Redis across processes
  let limiter: RateLimiter | undefined;
  const processLimiter = async (): Promise<RateLimiter> => {
    if (!limiter) {
      const opened = await openRateLimiter(config);
      closers.push(() => opened.close());
      limiter = opened;
    }
    return limiter;
  };

  let orders: OrdersService | undefined;
  let ordersNode: OrdersNode | undefined;
  let shardNode: ShardNodeService | undefined;
  let users: UsersService | undefined;
  if (platform && role === 'orders' && platform.db.kind === 'postgres') {
    // one writer per shard: this process leads it, or follows as its hot standby (issue 11)
    const node = await startOrdersNode(
      {
        db: platform.db,
        bus: platform.bus,
        clock: systemClock,
        logger,
        config: { journalRetain: config.orders.journalRetain, archiveDir: config.orders.archiveDir },
      },
      {
        shard: config.orders.shard,
        leaseMs: config.orders.leaseMs,
        // a standby that cannot take over stops (its supervisor starts it again): SIGTERM runs the
        // usual shutdown
        onFatal: () => process.kill(process.pid, 'SIGTERM'),
      },
    );
    closers.push(() => node.close());
    ordersNode = node;
  } else if (platform && role === 'orders-shard') {
    // risk shard k + matching shard k (issue 11): leads its shard or waits as its standby
    if (config.orders.shard >= config.orders.shards)
      throw new Error(
        `BOURSE_ORDERS_SHARD ${config.orders.shard} is not below BOURSE_ORDERS_SHARDS ${config.orders.shards}`,
      );
    const node = await startShardNode({
      db: platform.db,
      bus: platform.bus,
      config: DEFAULT_EXCHANGE_CONFIG,
      layout: shardLayout(config.orders.shards),
      shard: config.orders.shard,
      logger,
      ...(config.instanceId && { holder: config.instanceId }),
      leaseMs: config.orders.leaseMs,
      snapshotEvery: config.orders.snapshotEvery,
      // journal retention as the orders service's (BOURSE_JOURNAL_RETAIN, BOURSE_ARCHIVE_DIR)
      journalRetain: config.orders.journalRetain,
      archiveDir: config.orders.archiveDir,
    });
    closers.push(() => node.close());
    shardNode = node;
  } else if (platform && (role === 'all' || role === 'orders')) {
    const o = await createOrdersService({
      db: platform.db,
      bus: platform.bus,
      clock: systemClock,
      logger,
      config: { journalRetain: config.orders.journalRetain, archiveDir: config.orders.archiveDir },
    });
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
      config: {
        secret: config.secret,
        dataDir: config.dataDir,
        internalTokens: credential.accept,
        ...(config.instanceId && { instanceId: config.instanceId }),
      },
      // login throttling state, shared by every users instance on one Redis
      limiter: await processLimiter(),
    });
    closers.push(() => u.close());
    users = u;
  }

  // Market data, reporting and FIX see orders and users through their clients: in-process in
  // `all`; in their own role over HTTP, through the gateway's balancer (platform/http/upstream) over
  // every configured instance: round-robin, health checks, breakers, retries of what is safe to
  // send again, and the orders shard's leader found by its role (docs/design.md, "Routing").
  const env = process.env;
  let ordersClient: OrdersClient | undefined = orders?.client;
  let usersClient: UsersClient | undefined = users?.client;
  // what this process's services accept; what its clients send is the first of them
  const internalToken = credential.accept;
  if (role === 'market-data' || role === 'reporting' || role === 'fix') {
    // the gateway's settings for it (BOURSE_UPSTREAM_TIMEOUT_MS, BOURSE_HEALTH_INTERVAL_MS,
    // BOURSE_LEADER_WAIT_MS); mutual TLS on its pools when configured
    const balancing = loadGatewayConfig(env);
    const upstream = (name: string, urls: string[], roleHeader?: string) => {
      const u = createUpstream(name, urls, balancing, logger, {}, credential.tls, roleHeader);
      // closed after the services that call through it (closers run in reverse)
      closers.push(() => u.close());
      return u;
    };
    // one shard's instances (or the unsharded service's): its leader found by its role
    const ordersOver = (name: string, urls: string[]) =>
      httpOrdersClient(BALANCED_BASE_URL, {
        internalToken: credential.send,
        fetch: balancedFetch(upstream(name, urls, ROLE_HEADER), { retry: resendableOrdersRequest }),
      });
    ordersClient = shardUrls
      ? shardedOrdersClient(
          shardUrls.map((urls, k) => ordersOver(`orders-${k}`, urls)),
          shardLayout(shardUrls.length),
        )
      : ordersOver('orders', urlList(env, 'BOURSE_ORDERS_URLS'));
    usersClient = createHttpUsersClient({
      baseUrl: BALANCED_BASE_URL,
      internalToken: credential.send,
      // every users-client call is a read or a verification: safe to send again (as the gateway's)
      fetch: balancedFetch(upstream('users', urlList(env, 'BOURSE_USERS_URLS')), { retry: () => true }),
    });
  }
  let marketData: MarketDataService | undefined;
  let reporting: ReportingService | undefined;
  // the services' own address, known once they listen (below): news feeds with a path poll it
  let announceServicesUrl: (url: string) => void = () => {};
  const servicesUrlKnown = new Promise<string>((resolve) => {
    announceServicesUrl = resolve;
  });
  if (platform && ordersClient && usersClient && (role === 'all' || role === 'market-data')) {
    const md = await createMarketDataService({
      db: platform.db,
      bus: platform.bus,
      clock: systemClock,
      logger,
      orders: ordersClient,
      users: usersClient,
      internalToken,
      config: {
        localUrl: () => servicesUrlKnown,
        ...(config.instanceId && { instanceId: config.instanceId }),
        // several market-data processes on one database: one of them simulates and publishes bars
        ...(role === 'market-data' &&
          platform.db.kind === 'postgres' && {
            elect: {
              leaseMs: config.orders.leaseMs,
              ...(config.instanceId && { holder: config.instanceId }),
            },
          }),
      },
    });
    closers.push(() => md.close());
    marketData = md;
  }
  if (platform && usersClient && (role === 'all' || role === 'reporting')) {
    const r = await createReportingService({
      db: platform.db,
      users: usersClient,
      logger,
      clock: systemClock,
      internalToken,
    });
    closers.push(() => r.close());
    reporting = r;
  }

  let fixPort: number | undefined;
  if (platform && ordersClient && usersClient && (role === 'all' || role === 'fix')) {
    if (config.fixPort === null && role === 'fix')
      throw new Error('--role fix needs BOURSE_FIX_PORT (it is off)');
    if (config.fixPort !== null) {
      const fixConfig = { ...config, fixPort: config.fixPort };
      const clients = { orders: ordersClient, users: usersClient };
      // loaded only when served: the FIX engine takes a while to load
      const { startFix } = await import('./fix.ts');
      fixPort = (await startFix(fixConfig, logger, platform, clients, await processLimiter(), closers)).port;
    }
  }

  // The services' own HTTP server: loopback-only behind the gateway in `all`, on HOST in a service
  // role, and internal in both: nothing but the health checks answers without the internal token.
  let servicesUrl: string | undefined;
  let internalServer: Running['internal'];
  if (needsServices) {
    // mutual TLS is for the hops between processes; `all`'s loopback hop stays in this process
    const internal = httpServer(
      logger,
      role === 'all' ? 'internal' : role,
      role === 'all' ? undefined : credential.tls,
    );
    const routes: { method: string; url: string }[] = [];
    internal.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
    });
    // the demo newsroom is the stand-in for an outside news site: the news feed fetches it as it
    // would any other, without the internal token
    const anonymous = ['/healthz', '/readyz', ...(config.demo && role === 'all' ? [NEWSROOM_PATH] : [])];
    requireInternalToken(internal, credential.accept, anonymous);
    if (orders) await orders.register(internal);
    if (ordersNode) await ordersNode.register(internal);
    if (shardNode) {
      await internal.register(shardRoutes(shardNode), { prefix: SHARD_PREFIX });
      // the orders service's own API on the shard node, so its callers (httpOrdersClient, through
      // shardedOrdersClient) need nothing else: reads from the node's projection tables
      await internal.register(
        ordersRoutes(createShardOrdersClient(shardNode, createShardReads(platform!.db, shardNode))),
        { prefix: DEFAULT_PREFIX },
      );
    }
    if (users) await users.register(internal);
    if (marketData) await marketData.register(internal);
    if (reporting) await reporting.register(internal);
    if (config.demo && role === 'all')
      registerNewsroom(internal, { seed: config.seed, symbols: DEMO_NEWS_SYMBOLS, now: () => Date.now() });
    // anonymous callers learn up or down; the details are for callers with the internal token
    const details = (req: { headers: Record<string, string | string[] | undefined> }) =>
      hasInternalToken(req.headers, credential.accept)
        ? {
            role,
            db: platform?.db.kind,
            bus: platform?.bus.kind,
            ...(ordersNode && { orders: ordersNode.status() }),
            ...(shardNode && { orders: shardStatus(shardNode) }),
            ...(marketData && { market_data: marketData.leader() }),
          }
        : {};
    // a standby is alive but not ready (no traffic); a leader that lost its lease is neither:
    // liveness restarts it, and it comes back as a standby. A node that has just taken the lock
    // but has not started its service yet still answers as a standby. The role goes out as a
    // header too, on both probes: the gateway routes to the leader by it (upstream/health.ts).
    const shardRole = (): 'leader' | 'standby' | 'fenced' | undefined => {
      if (shardNode) {
        const r = shardNode.role();
        return r === 'leader' ? 'leader' : r === 'fenced' || r === 'closed' ? 'fenced' : 'standby';
      }
      if (!ordersNode) return undefined;
      const role = ordersNode.status().role;
      if (role === 'lost') return 'fenced';
      return role === 'leader' && ordersNode.service() ? 'leader' : 'standby';
    };
    internal.get('/healthz', async (req, reply) => {
      if (!ready) return reply.code(503).send({ status: 'starting' });
      const shard = shardRole();
      if (shard) reply.header(ROLE_HEADER, shard);
      if (shard === 'fenced') return reply.code(503).send({ status: 'fenced', ...details(req) });
      return { status: 'ok', ...details(req) };
    });
    internal.get('/readyz', async (req, reply) => {
      if (!ready) return reply.code(503).send({ status: 'starting' });
      const shard = shardRole();
      if (shard) reply.header(ROLE_HEADER, shard);
      if (shard === 'standby' || shard === 'fenced')
        return reply.code(503).send({ status: shard, ...details(req) });
      await platform?.db.query('SELECT 1');
      return { status: 'ready', ...details(req) };
    });
    const listenOn =
      role === 'all' ? { port: 0, host: '127.0.0.1' } : { port: config.port, host: config.host };
    const address = await internal.listen(listenOn);
    closers.push(() => internal.close());
    const scheme = new URL(address).protocol;
    servicesUrl = `${scheme}//127.0.0.1:${new URL(address).port}`;
    announceServicesUrl(servicesUrl);
    internalServer = { app: internal, url: servicesUrl, routes };
    if (role !== 'all') {
      ready = true;
      return {
        app: internal,
        url: `${scheme}//localhost:${new URL(address).port}`,
        internal: internalServer,
        fixPort,
        stop: stopAll,
      };
    }
  }

  // The gateway: `all` points it at the internal server; `gateway` at the configured instances.
  const cache = await openCache(config, logger);
  closers.push(() => cache.close());
  // The trading stream's trade_updates are the orders service's events: `all` has them on its own
  // bus; `--role gateway` (no platform) opens the cluster's NATS for them, one connection whose
  // subscriptions are per client socket and live (not a durable consumer shared with the other
  // gateways, which would split the events between them). Without NATS_URL it has no bus and its
  // /stream says trade_updates is not available: a bus of its own would never carry an event.
  let bus = platform?.bus;
  if (!bus && config.natsUrl) {
    const opened = await openBus(config, logger);
    closers.push(() => opened.close());
    logger.info({ bus: opened.kind }, 'event bus open (trade_updates)');
    bus = opened;
  }
  const gateway: Gateway = await createGateway({
    logger,
    upstreams: servicesUrl
      ? { orders: [servicesUrl], users: [servicesUrl], marketData: [servicesUrl], reporting: [servicesUrl] }
      : {
          orders: shardUrls ? [] : urlList(env, 'BOURSE_ORDERS_URLS'),
          ...(shardUrls && {
            ordersShards: {
              urls: shardUrls,
              client: (shards: readonly OrdersClient[]) =>
                shardedOrdersClient(shards, shardLayout(shardUrls.length)),
            },
          }),
          users: urlList(env, 'BOURSE_USERS_URLS'),
          marketData: urlList(env, 'BOURSE_MARKET_DATA_URLS', false),
          reporting: urlList(env, 'BOURSE_REPORTING_URLS', false),
        },
    usersInternalToken: credential.send,
    // `all`: the typed calls stay in this process (no loopback hop); the raw proxies use the URL
    ...(role === 'all' && { inProcess: { orders: orders?.client, users: users?.client } }),
    opsTokens: [...(config.metricsTokens ?? []), ...credential.accept],
    // `all` reaches its own loopback server in plain HTTP; `--role gateway` the others' over mutual TLS
    ...(role === 'gateway' && credential.tls && { tls: credential.tls }),
    cache,
    limiter: await processLimiter(),
    bus,
    config: { ...loadGatewayConfig(env), shutdownTimeoutMs: config.shutdownTimeoutMs },
    webRoot: WEB_ROOT,
    // all-in-one: the process that owns the database (the only one that may open a PGlite folder)
    ...(platform && role === 'all' && { backup: (out, file) => takeBackup(platform.db, out, file) }),
  });
  closers.push(() => gateway.close());
  // the demo market is set up before the doors open, so the first page already shows a market
  if (config.demo && orders && users && platform) {
    const unsubscribe = await startPaperFunding(platform.bus, orders.client, logger);
    closers.push(unsubscribe);
  }
  // a few days of history first, ending at the demo's starting prices: the first chart is a market
  if (config.demo && marketData && platform) {
    const seeded = await seedDemoHistory(platform.db, {
      symbols: demoSymbols,
      seed: config.seed,
      now: Date.now(),
    });
    if (seeded.length > 0) logger.info({ symbols: seeded }, 'demo history written');
  }
  if (config.demo && orders) {
    const demo: DemoMarket = await startDemoMarket({
      venue: ordersVenue(orders.client),
      seed: config.seed,
      rate: config.demoRate,
      onError: (err) => logger.warn({ err }, 'demo market step failed'),
    });
    // stopped first: closers run in reverse
    closers.push(() => demo.stop());
    logger.info('demo market running');
  }
  if (config.demo && marketData && servicesUrl && platform) {
    await addDemoFeeds(platform.db, marketData, {
      newsPath: NEWSROOM_PATH,
      seed: config.seed,
      now: Date.now(),
    });
  }
  const address = await gateway.app.listen({ port: config.port, host: config.host });
  const url = `http://localhost:${new URL(address).port}`;

  ready = true;

  let stopping: Promise<void> | undefined;
  return {
    app: gateway.app,
    url,
    internal: internalServer,
    fixPort,
    stop: () => {
      ready = false;
      stopping ??= stopAll();
      return stopping;
    },
  };
}
