/**
 * The hooks every request passes at the edge, in this order: authenticate (credentials → identity,
 * or anonymous), take a token from the caller's bucket for the route's class, then refuse
 * anonymous callers of routes that need an identity. Wrong credentials are refused after the
 * bucket is charged (to the client IP), so guessing keys is rate-limited too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../platform/ratelimit/types.ts';
import type { Credentials, Identity } from './auth/credentials.ts';
import type { GatewayConfig } from './config.ts';
import type { EdgeRouteConfig } from './context.ts';
import { takeOrRefuse } from './limits.ts';
import type { GatewayMetrics } from './metrics.ts';
import { GatewayError, unauthorized } from './problems.ts';

export interface EdgeDeps {
  config: GatewayConfig;
  credentials: Credentials;
  limiter: RateLimiter;
  metrics: GatewayMetrics;
}

const callerKey = (identity: Identity | null, req: FastifyRequest): string =>
  identity === null
    ? `ip:${req.ip}`
    : identity.method === 'api_key'
      ? `key:${identity.credentialId}`
      : `user:${identity.userId}`;

export function installEdgeHooks(app: FastifyInstance, deps: EdgeDeps): void {
  const { config, credentials, limiter, metrics } = deps;
  app.decorateRequest('identity', null);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', req.id);
    const edge = (req.routeOptions.config ?? {}) as EdgeRouteConfig;
    const auth = edge.auth ?? 'optional';
    const rateClass = edge.rateClass ?? 'reads';
    let identity: Identity | null = null;
    let refusal: unknown;
    if (auth !== 'none') {
      try {
        identity = await credentials.authenticate(req.headers, req.id);
      } catch (err) {
        // proxied routes authenticate themselves: a bad token there is the users service's to refuse
        if (!(err instanceof GatewayError) || auth === 'required') refusal = err;
      }
    }
    req.identity = identity;
    if (rateClass !== false) {
      await takeOrRefuse(
        limiter,
        reply,
        `${rateClass}:${callerKey(identity, req)}`,
        config.rateLimits[rateClass],
        `Rate limit of ${rateClass} requests reached`,
        () => metrics.rateLimited.inc({ class: rateClass }),
      );
    }
    if (refusal !== undefined) throw refusal;
    if (auth === 'required' && identity === null) {
      throw unauthorized(
        'Authenticate with "Authorization: Bearer <token>" or APCA-API-KEY-ID + APCA-API-SECRET-KEY',
      );
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: reply.statusCode });
    metrics.duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500)
      req.log.warn({ status: reply.statusCode, url: req.url }, 'gateway: 5xx answer');
    else
      req.log.debug({ status: reply.statusCode, url: req.url, ms: reply.elapsedTime }, 'gateway: answered');
  });
}
