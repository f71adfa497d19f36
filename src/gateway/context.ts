/** What the gateway's routes share, and what a request carries once it passed the edge hooks. */
import type { FastifyRequest } from 'fastify';
import type { Acting } from './auth/acting.ts';
import { ACCOUNT_HEADER } from './auth/acting.ts';
import type { Identity, UsersCall } from './auth/credentials.ts';
import type { GatewayConfig, RouteClass } from './config.ts';
import type { GatewayMetrics } from './metrics.ts';
import { unauthorized } from './problems.ts';
import type { Quotes } from './quotes.ts';
import type { OrdersCall } from './services.ts';

export interface GatewayContext {
  config: GatewayConfig;
  orders: OrdersCall;
  users: UsersCall;
  quotes: Quotes;
  acting: Acting;
  metrics: GatewayMetrics;
}

/** Per-route settings, in the route's `config`. */
export interface EdgeRouteConfig {
  /** 'required' (default for the public API): 401 without credentials */
  auth?: 'required' | 'optional' | 'none';
  /** rate-limit class (default 'reads'); false: not limited (health probes, metrics) */
  rateClass?: RouteClass | false;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
  }
  interface FastifyContextConfig extends EdgeRouteConfig {}
}

/** The caller, for a route that required authentication. */
export function identityOf(req: FastifyRequest): Identity {
  if (!req.identity) throw unauthorized();
  return req.identity;
}

/** The account this request acts on: the caller's own, or the client a broker/admin names. */
export function accountOf(ctx: GatewayContext, req: FastifyRequest): Promise<string> {
  const query = (req.query as { account_id?: string } | undefined)?.account_id;
  const header = req.headers[ACCOUNT_HEADER];
  return ctx.acting.accountOf(
    identityOf(req),
    { query, header: typeof header === 'string' ? header : undefined },
    req.id,
  );
}

/** Standard error responses of every route, for the OpenAPI document and the serializer. */
export const PROBLEMS = ['4xx', '5xx'] as const;
