/**
 * The API gateway: the one door of Bourse. It knows the services by URL only (several instances
 * each), authenticates at the edge, rate-limits, caches hot reads, balances, breaks circuits,
 * retries what is safe, and serves the Alpaca-shaped public trading API and the OpenAPI docs.
 *
 *   const gateway = await createGateway({ logger, upstreams: { orders: [url], users: [url] },
 *                                         usersInternalToken, cache, limiter, bus });
 *   await gateway.app.listen({ port, host });
 *   …
 *   await gateway.close();        // the app and the upstream pools; not the cache, limiter or bus
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Bus } from '../platform/bus/types.ts';
import type { Cache } from '../platform/cache/types.ts';
import { installProblemHandlers, problemServerOptions } from '../platform/http/problem.ts';
import type { UpstreamTls } from '../platform/http/upstream/http.ts';
import { createUpstream, type Upstream } from '../platform/http/upstream/upstream.ts';
import type { Logger } from '../platform/logger.ts';
import type { RateLimiter } from '../platform/ratelimit/types.ts';
import {
  ALPACA_NEWS_STREAM_PATH,
  ALPACA_STREAM_PATHS,
  ALPACA_UNSUPPORTED_STREAMS,
} from '../services/market-data/client.ts';
import { type OrdersClient, ROLE_HEADER } from '../services/orders/client.ts';
import type { UsersClient } from '../services/users/client.ts';
import { readAsAlpaca } from './alpaca/body.ts';
import { createActing } from './auth/acting.ts';
import { createCredentials } from './auth/credentials.ts';
import { type GatewayConfig, type GatewayConfigInput, resolveGatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { installEdgeHooks } from './edge.ts';
import { GATEWAY_PROBLEMS } from './errors.ts';
import { BREAKER_VALUE, createMetrics, type GatewayMetrics, watchWsRelay } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { opsRoutes } from './ops.ts';
import { usersProxy } from './proxy.ts';
import { createQuotes } from './quotes.ts';
import { accountRoutes } from './routes/account.ts';
import { activityRoutes } from './routes/activities.ts';
import { type AdminDeps, adminRoutes } from './routes/admin.ts';
import { calendarConfigRoutes } from './routes/calendar-config.ts';
import { marketDataRoutes } from './routes/market-data.ts';
import { orderRoutes } from './routes/orders.ts';
import { positionRoutes } from './routes/positions.ts';
import { unsupportedRoutes } from './routes/unsupported.ts';
import { servicesProxy } from './service-proxy.ts';
import { ordersCall, shardedOrdersCall, usersCall } from './services.ts';
import { createTradeStream } from './trade-stream.ts';
import { validatorCompiler } from './validation.ts';
import { registerWeb } from './web.ts';
import { pipeWebSockets } from './ws-proxy.ts';

export type { UpstreamTls } from '../platform/http/upstream/http.ts';
export type { Upstream } from '../platform/http/upstream/upstream.ts';
export {
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigVariables,
  loadGatewayConfig,
} from './config.ts';

export interface UpstreamUrls {
  /** the orders service's instances (one shard: its leader and standbys); empty with `ordersShards` */
  orders: string[];
  /**
   * a sharded deployment (shard nodes): each shard's instances, shard k at index k, and how the
   * shards' clients make one (shardedOrdersClient over the layout: the gateway knows no layout)
   */
  ordersShards?: {
    urls: readonly (readonly string[])[];
    client(shards: readonly OrdersClient[]): OrdersClient;
  };
  users: string[];
  /** the public market-data and reporting routes go there; without them those routes answer 503 */
  marketData?: string[];
  reporting?: string[];
}

export interface GatewayDeps {
  logger: Logger;
  /** base URLs of each service's instances */
  upstreams: UpstreamUrls;
  /**
   * the internal token (UsersService.internalToken, derived from BOURSE_SECRET): it authenticates the
   * gateway to the users service, and the identity it forwards to market data and reporting
   */
  usersInternalToken: string;
  /**
   * tokens that unlock `/metrics` and `/readyz`'s details (as a bearer token, or the internal token
   * header): BOURSE_METRICS_TOKEN and the accepted internal tokens. Default: the internal token.
   */
  opsTokens?: readonly string[];
  /** undici connect options for every upstream (mutual TLS: ca, cert, key) */
  tls?: UpstreamTls;
  cache: Cache;
  limiter: RateLimiter;
  /** invalidates cached quotes on md.trade.* / md.book.*; without it they simply expire */
  bus?: Bus;
  config?: GatewayConfigInput;
  /** the built web terminal (web/dist), served at `/`; without it, no terminal routes */
  webRoot?: string;
  /**
   * all-in-one: the services' in-process clients, which the typed calls (orders, token and API-key
   * verification, acting-for checks) use instead of HTTP to `upstreams`
   */
  inProcess?: { orders?: OrdersClient; users?: UsersClient };
  /** the database backup behind GET /v1/admin/backup (all-in-one only; see routes/admin.ts) */
  backup?: AdminDeps['backup'];
}

export interface Gateway {
  /** ready, not listening */
  app: FastifyInstance;
  config: GatewayConfig;
  /** `orders`: the unsharded service's balancer, or shard 0's; `ordersShards`: every shard's, in order */
  upstreams: {
    orders: Upstream;
    ordersShards?: readonly Upstream[];
    users: Upstream;
    marketData?: Upstream;
    reporting?: Upstream;
  };
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

/** after the shutdown deadline, how long the ended requests have to answer before connections are cut */
const CLOSE_GRACE_MS = 1_000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const config = resolveGatewayConfig(deps.config);
  const logger = deps.logger.child({ component: 'gateway' });
  const metrics = createMetrics();
  const events = {
    breaker: (upstream: string, instance: string, state: keyof typeof BREAKER_VALUE) =>
      metrics.breaker.set({ upstream, instance }, BREAKER_VALUE[state]),
    health: (upstream: string, instance: string, healthy: boolean) =>
      metrics.healthy.set({ upstream, instance }, healthy ? 1 : 0),
    retry: (upstream: string) => metrics.retries.inc({ upstream }),
    attempt: (upstream: string, instance: string, outcome: 'answered' | 'not_leader' | 'failed') =>
      metrics.attempts.inc({ upstream, instance, outcome }),
  };
  const make = (name: string, urls: readonly string[], roleHeader?: string) => {
    const upstream = createUpstream(name, urls, config, logger, events, deps.tls, roleHeader);
    for (const url of urls) {
      metrics.breaker.set({ upstream: name, instance: url }, 0);
      metrics.healthy.set({ upstream: name, instance: url }, 1);
    }
    return upstream;
  };
  const sharded = deps.upstreams.ordersShards;
  // only a shard's leader takes orders requests: its instances say which they are
  const ordersShards = sharded?.urls.map((urls, k) => make(`orders-${k}`, urls, ROLE_HEADER));
  const upstreams: Gateway['upstreams'] = {
    orders: ordersShards?.[0] ?? make('orders', deps.upstreams.orders, ROLE_HEADER),
    ...(ordersShards && { ordersShards }),
    users: make('users', deps.upstreams.users),
    ...(deps.upstreams.marketData?.length && { marketData: make('market-data', deps.upstreams.marketData) }),
    ...(deps.upstreams.reporting?.length && { reporting: make('reporting', deps.upstreams.reporting) }),
  };
  // every balancer once (shard 0's is both `orders` and the first of `ordersShards`)
  const every: Upstream[] = [
    ...(ordersShards ?? [upstreams.orders]),
    upstreams.users,
    ...(upstreams.marketData ? [upstreams.marketData] : []),
    ...(upstreams.reporting ? [upstreams.reporting] : []),
  ];
  const ordersUpstreams = ordersShards ?? [upstreams.orders];

  const orders =
    sharded && ordersShards && !deps.inProcess?.orders
      ? shardedOrdersCall(ordersShards, config, deps.usersInternalToken, sharded.client)
      : ordersCall(upstreams.orders, config, deps.usersInternalToken, deps.inProcess?.orders);
  const users = usersCall(upstreams.users, config, deps.usersInternalToken, deps.inProcess?.users);
  const quotes = await createQuotes({ cache: deps.cache, bus: deps.bus, orders, config, metrics });
  const ctx: GatewayContext = {
    config,
    orders,
    users,
    quotes,
    acting: createActing(config, users),
    metrics,
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // a line per request would drown the log at trading volumes: edge.ts logs at debug, 5xx at warn
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // a malformed URL, an over-long path parameter (414) or headers (431): problem+json too
    ...problemServerOptions(GATEWAY_PROBLEMS),
  });
  app.setValidatorCompiler(validatorCompiler);
  installProblemHandlers(app, { ...GATEWAY_PROBLEMS, notFound: true });

  const credentials = createCredentials(config, users);
  const tradeStream = createTradeStream({ credentials, bus: deps.bus, logger });
  installEdgeHooks(app, {
    config,
    credentials,
    limiter: deps.limiter,
    metrics,
  });
  readAsAlpaca(app);
  await registerOpenApi(app);
  await opsRoutes(app, {
    upstreams: every,
    required: [...ordersUpstreams, upstreams.users],
    metrics,
    tokens: deps.opsTokens ?? [deps.usersInternalToken],
  });
  for (const routes of [accountRoutes, orderRoutes, positionRoutes, activityRoutes, marketDataRoutes]) {
    await routes(app, ctx);
  }
  await calendarConfigRoutes(app);
  await unsupportedRoutes(app);
  await adminRoutes(app, ctx, {
    upstreams: every,
    orders: ordersUpstreams,
    marketData: upstreams.marketData,
    internalToken: deps.usersInternalToken,
    backup: deps.backup,
  });
  await app.register(async (scope) =>
    usersProxy(scope, {
      users: upstreams.users,
      internalToken: deps.usersInternalToken,
      limiter: deps.limiter,
      config,
      metrics,
    }),
  );
  await app.register(async (scope) =>
    servicesProxy(scope, {
      ctx,
      internalToken: deps.usersInternalToken,
      marketData: upstreams.marketData,
      reporting: upstreams.reporting,
    }),
  );
  if (deps.webRoot) await registerWeb(app, { root: deps.webRoot });
  const webSockets = pipeWebSockets(
    app.server,
    {
      '/notifications/stream': upstreams.users,
      '/v1/market-data/stream': upstreams.marketData,
      ...Object.fromEntries(
        [
          ...ALPACA_STREAM_PATHS,
          ALPACA_NEWS_STREAM_PATH,
          ...ALPACA_UNSUPPORTED_STREAMS.map(([path]) => path),
        ].map((path) => [path, upstreams.marketData]),
      ),
    },
    { internalToken: deps.usersInternalToken, tls: deps.tls, local: tradeStream.upgrade },
  );
  watchWsRelay(metrics, webSockets.stats);
  let closing: Promise<void> | undefined;
  // a request that was in flight when the close began ends its keep-alive connection with its
  // answer (Fastify does it for the requests that arrive later), so the server can close
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  await app.ready();

  // WebSocket streams end at once; requests in flight may finish until the deadline, then their
  // upstream calls are ended, so they answer 503 and nothing an instance does (or fails to do)
  // can hold the shutdown
  async function closeGateway(): Promise<void> {
    let lastly: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      logger.warn(
        { shutdownTimeoutMs: config.shutdownTimeoutMs },
        'gateway: shutdown deadline reached, ending the upstream calls in flight',
      );
      for (const upstream of every) upstream.abort();
      // once those have had time to answer, the connections of whatever still holds the server
      lastly = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
    }, config.shutdownTimeoutMs);
    webSockets.closeAll();
    tradeStream.closeAll();
    try {
      await app.close();
      await quotes.close();
      await Promise.all(every.map((u) => u.close()));
    } finally {
      clearTimeout(deadline);
      clearTimeout(lastly);
    }
  }

  return {
    app,
    config,
    upstreams,
    metrics,
    close() {
      closing ??= closeGateway();
      return closing;
    },
  };
}
