/**
 * The users service's public routes, forwarded as they are (it validates and authorises them
 * itself; the gateway only rate-limits them, and adds the login limits). The documented routes
 * are listed for the OpenAPI document; a catch-all per prefix forwards routes added since.
 * `/internal/*` is never forwarded. Every forwarded request carries the internal token: the users
 * service's server answers nothing without it. The notifications WebSocket is piped through (ws-proxy.ts).
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { FORWARDED_HEADERS, internalTokenHeader } from '../platform/http/forwarded-identity.ts';
import { resendable, type Upstream } from '../platform/http/upstream/upstream.ts';
import type { RateLimiter } from '../platform/ratelimit/types.ts';
import { DEVICE_HEADER, presentedDeviceToken } from '../services/users/client.ts';
import type { GatewayConfig, RouteClass } from './config.ts';
import type { EdgeRouteConfig } from './context.ts';
import { takeOrRefuse } from './limits.ts';
import type { GatewayMetrics } from './metrics.ts';
import { alpacaCode, PROBLEM_JSON } from './problems.ts';
import { idempotencyKeyHeaders } from './routes/common.ts';

const BODY_LIMIT = 64 * 1024;

/** [method, path, summary, rate class]; documented with the users service's schemas (openapi.ts) */
export const USERS_ROUTES: readonly [HTTPMethods, string, string, RouteClass?][] = [
  [
    'POST',
    '/users',
    'Register: {username, email, password} → 201 {username, email, id}; joining a brokerage needs an invite_code',
    'login',
  ],
  ['GET', '/users', 'List users (admin: all; broker: their brokerage’s clients)'],
  ['GET', '/users/me', 'Your profile'],
  ['PATCH', '/users/me', 'Change your profile or password'],
  ['GET', '/users/:id', 'A user (yourself, your clients, or anyone for an admin)'],
  ['PATCH', '/users/:id', 'Admin: change a user’s role, brokerage or status'],
  ['POST', '/auth/login', 'Log in: → access JWT (≈15 min) and refresh token', 'login'],
  ['POST', '/auth/refresh', 'Rotate the refresh token (reusing an old one ends the session)', 'login'],
  ['POST', '/auth/logout', 'End this session'],
  ['POST', '/auth/logout-all', 'End all your sessions'],
  ['POST', '/auth/keys/rotate', 'Admin: rotate the JWT signing key'],
  ['GET', '/.well-known/jwks.json', 'Public keys that verify access tokens'],
  ['POST', '/api-keys', 'Create an API key pair (the secret is shown once)'],
  ['GET', '/api-keys', 'Your API keys'],
  ['DELETE', '/api-keys/:id', 'Revoke an API key'],
  ['POST', '/brokerages', 'Admin: create a brokerage'],
  ['GET', '/brokerages', 'Brokerages'],
  ['GET', '/brokerages/:id', 'A brokerage'],
  [
    'POST',
    '/brokerages/:id/invites',
    'Broker/admin: a single-use, expiring invite code to join the brokerage',
  ],
  ['GET', '/notifications', 'Your notifications inbox'],
  ['POST', '/notifications/:id/read', 'Mark a notification read'],
  ['POST', '/notifications/read-all', 'Mark all your notifications read'],
  ['POST', '/alerts', 'Set a price alert'],
  ['GET', '/alerts', 'Your price alerts'],
  ['GET', '/alerts/:id', 'A price alert'],
  ['DELETE', '/alerts/:id', 'Delete a price alert'],
  ['GET', '/v2/watchlists', 'Your watchlists'],
  ['POST', '/v2/watchlists', 'Create a watchlist {name, symbols}'],
  ['GET', '/v2/watchlists/:id', 'A watchlist'],
  ['POST', '/v2/watchlists/:id', 'Add a symbol {symbol}'],
  ['PUT', '/v2/watchlists/:id', 'Rename a watchlist or replace its symbols'],
  ['DELETE', '/v2/watchlists/:id', 'Delete a watchlist'],
  ['DELETE', '/v2/watchlists/:id/:symbol', 'Remove a symbol from a watchlist'],
  ['GET', '/v2/watchlists::by_name', 'A watchlist by name (?name=)'],
  ['POST', '/v2/watchlists::by_name', 'Add a symbol to the watchlist named ?name='],
  ['PUT', '/v2/watchlists::by_name', 'Rename or replace the watchlist named ?name='],
  ['DELETE', '/v2/watchlists::by_name', 'Delete the watchlist named ?name='],
];

const PREFIXES = ['/users', '/auth', '/.well-known', '/api-keys', '/brokerages', '/notifications', '/alerts'];

const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'idempotency-key',
  'if-none-match',
  'user-agent',
  'apca-api-key-id',
  'apca-api-secret-key',
];

/**
 * The device token, from the header or a browser's cookie, passed on as the header (no cookie
 * leaves). Only a token's own characters: anything else could not even be sent as a header.
 */
function deviceTokenHeader(req: FastifyRequest): Record<string, string> {
  const token = presentedDeviceToken(req.headers);
  return token !== undefined && /^[A-Za-z0-9._-]{1,256}$/.test(token) ? { [DEVICE_HEADER]: token } : {};
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
  'upgrade',
]);

export interface ProxyDeps {
  users: Upstream;
  /** sent with every forwarded request (the users service's server requires it); it also proves that
   * the client address it is given comes from the gateway */
  internalToken: string;
  limiter: RateLimiter;
  config: GatewayConfig;
  metrics: GatewayMetrics;
}

/** Forwards a request to one of the upstream's instances as it is, with `extra` headers added. */
export async function forward(
  upstream: Upstream,
  req: FastifyRequest,
  reply: FastifyReply,
  extra: Record<string, string> = {},
): Promise<FastifyReply> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[name];
    if (typeof v === 'string') headers[name] = v;
  }
  Object.assign(headers, extra);
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = typeof prior === 'string' ? `${prior}, ${req.ip}` : req.ip;
  // a streamed body (an import, service-proxy.ts) is piped on as it arrives, and cannot be sent twice
  const body = Buffer.isBuffer(req.body) ? req.body : isStream(req.body) ? req.body : undefined;
  const request = { method: req.method, path: req.url, headers, body };
  const res = await upstream.send({ requestId: req.id, retry: resendable(request) }, request);
  for (const [name, value] of Object.entries(res.headers)) {
    if (!HOP_BY_HOP.has(name) && !name.startsWith('ratelimit-') && value !== undefined)
      reply.header(name, value);
  }
  const isProblem = String(res.headers['content-type'] ?? '').startsWith(PROBLEM_JSON);
  return reply
    .code(res.status)
    .send(isProblem ? withAlpacaFields(res.body) : res.body.length > 0 ? res.body : undefined);
}

function isStream(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function';
}

/** The users service's problems get the Alpaca `code` and `message` every gateway error carries. */
function withAlpacaFields(body: Buffer): Buffer {
  try {
    const p = JSON.parse(body.toString('utf8')) as {
      status?: number;
      title?: string;
      detail?: string;
      code?: unknown;
    };
    if (p.code !== undefined || typeof p.status !== 'number') return body;
    return Buffer.from(
      JSON.stringify({ ...p, code: alpacaCode(p.status), message: p.detail ?? p.title ?? '' }),
    );
  } catch {
    return body;
  }
}

/**
 * Login attempts per client IP, before the users service sees them. Nothing here is per username:
 * a limit any address can use up would let an attacker keep the owner out. The users service
 * throttles per (account, client) and admits known devices (its throttle.ts).
 */
function loginLimits(deps: ProxyDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    await takeOrRefuse(
      deps.limiter,
      reply,
      `login-ip:${req.ip}`,
      deps.config.loginPerIp,
      'Too many login attempts from this address',
      () => deps.metrics.rateLimited.inc({ class: 'login' }),
    );
  };
}

export async function usersProxy(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  // bodies pass through untouched, whatever their type
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  // the caller's address as this gateway sees it (BOURSE_TRUST_PROXY applied): the users service
  // throttles logins per client, and trusts this only with the internal token
  const handler = (req: FastifyRequest, reply: FastifyReply) =>
    forward(deps.users, req, reply, {
      ...deviceTokenHeader(req),
      ...internalTokenHeader(deps.internalToken),
      [FORWARDED_HEADERS.clientAddress]: req.ip,
    });

  for (const [method, url, summary, rateClass = 'reads'] of USERS_ROUTES) {
    const config: EdgeRouteConfig = { auth: 'optional', rateClass };
    app.route({
      method,
      url,
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['users'],
        summary,
        description: 'Forwarded to the users service, which validates and authorises it.',
        headers: idempotencyKeyHeaders,
      },
      ...(url === '/auth/login' && { preHandler: loginLimits(deps) }),
      handler,
    });
  }
  for (const prefix of PREFIXES) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: `${prefix}/*`,
      config: { auth: 'optional', rateClass: 'reads' } satisfies EdgeRouteConfig,
      bodyLimit: BODY_LIMIT,
      schema: { hide: true, headers: idempotencyKeyHeaders },
      handler,
    });
  }
}
