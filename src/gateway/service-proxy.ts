/**
 * The market-data and reporting services' public routes, forwarded as they are. Unlike the users
 * service, these trust the gateway to authenticate: every route needs credentials here, and the
 * request goes on with the caller's identity and the account it acts on (the caller's own, or the
 * client a broker or admin names with `account_id`, checked here) in the forwarded-identity
 * headers, which only the internal token makes a service believe. Whatever the client sent in
 * those headers is dropped: only a fixed list of request headers passes (proxy.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { identityHeaders } from '../platform/http/forwarded-identity.ts';
import type { Upstream } from '../platform/http/upstream/upstream.ts';
import type { RouteClass } from './config.ts';
import { accountOf, type EdgeRouteConfig, type GatewayContext, identityOf } from './context.ts';
import { fail } from './problems.ts';
import { forward } from './proxy.ts';
import { idempotencyKeyHeaders, SECURITY } from './routes/common.ts';

/** [method, path, summary, rate class] for the OpenAPI document; a catch-all per prefix forwards the rest */
export const MARKET_DATA_ROUTES: readonly [HTTPMethods, string, string, RouteClass?][] = [
  ['GET', '/v2/stocks/:symbol/bars', 'Candles (timeframe 1Min, 5Min, 15Min, 1Hour, 1Day)'],
  ['GET', '/v2/stocks/:symbol/trades/latest', 'Latest consolidated trade'],
  ['GET', '/v2/stocks/:symbol/quotes/latest', 'Latest consolidated quote'],
  [
    'GET',
    '/v2/stocks/:symbol/trades',
    'Recent trades (start, end, sort, limit, page_token over the recent tape)',
  ],
  ['GET', '/v2/stocks/:symbol/quotes', 'Quote history, 7 days (start, end, sort, limit, page_token)'],
  ['GET', '/v2/stocks/:symbol/bars/latest', 'Latest minute bar'],
  ['GET', '/v2/stocks/:symbol/snapshot', 'Snapshot of a symbol'],
  ['GET', '/v2/stocks/bars', 'Candles of many symbols'],
  ['GET', '/v2/stocks/trades', 'Recent trades of many symbols'],
  ['GET', '/v2/stocks/quotes', 'Quotes of many symbols'],
  ['GET', '/v2/stocks/bars/latest', 'Latest minute bars of many symbols'],
  ['GET', '/v2/stocks/trades/latest', 'Latest trades of many symbols'],
  ['GET', '/v2/stocks/quotes/latest', 'Latest quotes of many symbols'],
  ['GET', '/v2/stocks/snapshots', 'Snapshots of many symbols'],
  [
    'GET',
    '/v1beta1/news',
    'News (Alpaca shape; start, end, sort, limit, page_token); an upgrade is the news stream',
  ],
  ['GET', '/v1/market-data/instruments', 'Instruments with market data'],
  ['GET', '/v1/market-data/:symbol/depth', 'Order book depth'],
  [
    'GET',
    '/v1/market-data/:symbol/indicators',
    'Indicator series (SMA, EMA, RSI, MACD, Bollinger, VWAP, ATR)',
  ],
  ['GET', '/v1/market-data/news', 'News by symbol'],
  ['GET', '/v1/market-data/movers', 'Top gainers, losers and most active'],
  ['GET', '/v1/market-data/alerts', 'Unusual volume'],
  ['GET', '/v1/market-data/feeds', 'Admin: configured feeds'],
  ['POST', '/v1/market-data/feeds', 'Admin: add a feed'],
  ['PATCH', '/v1/market-data/feeds/:id', 'Admin: change a feed'],
  ['DELETE', '/v1/market-data/feeds/:id', 'Admin: remove a feed'],
  ['GET', '/v1/market-data/feeds/status', 'Admin: feed health'],
  ['POST', '/v1/market-data/import', 'Admin: import daily or intraday OHLCV (CSV or JSON body)', 'orders'],
];

export const REPORTING_ROUTES: readonly [HTTPMethods, string, string, RouteClass?][] = [
  ['GET', '/v1/reports/statement', 'Account statement for a period (format=json|csv|pdf)'],
  ['GET', '/v1/reports/positions', 'Positions with FIFO realised and unrealised P&L'],
  ['GET', '/v1/reports/performance', 'Equity curve, TWR, drawdown, volatility, Sharpe, benchmark'],
  [
    'GET',
    '/v2/account/portfolio/history',
    'Alpaca portfolio history: daily equity, P&L, time-weighted P&L %',
  ],
  ['GET', '/v1/reports/brokerage', 'Broker: the brokerage’s clients, volumes, commissions, P&L'],
  ['GET', '/v1/reports/brokerage/clients/:userId', 'Broker: one client'],
  ['GET', '/v1/reports/market/:symbol', 'Market analysis of a symbol for a period'],
];

/**
 * The one query parameter the gateway reads on a forwarded route (the account acted on): checked
 * here, so a malformed one is the client's 422, never a failed call to the users service. The
 * service validates the rest.
 */
const ACTING_QUERY = {
  type: 'object',
  properties: {
    account_id: { type: 'string', format: 'uuid', description: 'Broker/admin: act for this client' },
  },
} as const;

/** Imports are streamed through (see mount); every other forwarded body is small. */
const BODY_LIMIT = 64 * 1024;

export interface ServiceProxyDeps {
  ctx: GatewayContext;
  internalToken: string;
  marketData?: Upstream;
  reporting?: Upstream;
}

function forwarder(ctx: GatewayContext, internalToken: string, upstream: Upstream | undefined, name: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!upstream) throw fail(503, 'unavailable', 'Service unavailable', `no ${name} service is configured`);
    const identity = identityOf(req);
    const accountId = await accountOf(ctx, req);
    return forward(
      upstream,
      req,
      reply,
      identityHeaders(
        {
          userId: identity.userId,
          role: identity.role,
          brokerageId: identity.brokerageId,
          username: identity.username,
          accountId,
        },
        internalToken,
      ),
    );
  };
}

function mount(
  app: FastifyInstance,
  routes: readonly [HTTPMethods, string, string, RouteClass?][],
  prefixes: readonly string[],
  tag: string,
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  for (const [method, url, summary, rateClass = 'reads'] of routes) {
    if (url.endsWith('/import')) {
      // an import body is piped to the service as it arrives (whatever its size, never held here)
      void app.register(async (streaming) => {
        streaming.removeAllContentTypeParsers();
        streaming.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
        streaming.route({
          method,
          url,
          config: { auth: 'required', rateClass } satisfies EdgeRouteConfig,
          schema: {
            tags: [tag],
            summary,
            security: SECURITY,
            description: `Forwarded to the ${tag} service.`,
            querystring: ACTING_QUERY,
            headers: idempotencyKeyHeaders,
          },
          handler,
        });
      });
      continue;
    }
    app.route({
      method,
      url,
      config: { auth: 'required', rateClass } satisfies EdgeRouteConfig,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: [tag],
        summary,
        security: SECURITY,
        description: `Forwarded to the ${tag} service.`,
        querystring: ACTING_QUERY,
        headers: idempotencyKeyHeaders,
      },
      handler,
    });
  }
  for (const prefix of prefixes) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: `${prefix}/*`,
      config: { auth: 'required', rateClass: 'reads' } satisfies EdgeRouteConfig,
      bodyLimit: BODY_LIMIT,
      schema: { hide: true, headers: idempotencyKeyHeaders },
      handler,
    });
  }
}

export async function servicesProxy(app: FastifyInstance, deps: ServiceProxyDeps): Promise<void> {
  // bodies pass through untouched, whatever their type
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  mount(
    app,
    MARKET_DATA_ROUTES,
    ['/v2/stocks', '/v1/market-data'],
    'market data',
    forwarder(deps.ctx, deps.internalToken, deps.marketData, 'market-data'),
  );
  mount(
    app,
    REPORTING_ROUTES,
    ['/v1/reports'],
    'reports',
    forwarder(deps.ctx, deps.internalToken, deps.reporting, 'reporting'),
  );
}
