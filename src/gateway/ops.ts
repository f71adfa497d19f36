/**
 * Health, readiness and Prometheus metrics: never rate-limited. What they say about the inside
 * (instance URLs, breaker states, request totals) is for operators only: anonymous `/readyz` answers
 * ready or not and nothing more, its details need an ops token or an admin; `/metrics` needs an ops
 * token (BOURSE_METRICS_TOKEN or the internal token) as `Authorization: Bearer`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FORWARDED_HEADERS, isInternalToken } from '../platform/http/forwarded-identity.ts';
import type { Upstream } from '../platform/http/upstream/upstream.ts';
import type { EdgeRouteConfig } from './context.ts';
import type { GatewayMetrics } from './metrics.ts';
import { unauthorized } from './problems.ts';

const open: EdgeRouteConfig = { auth: 'none', rateClass: false };

/** An ops token as a bearer token, or the internal token in its own header (constant-time). */
function hasOpsToken(req: FastifyRequest, tokens: readonly string[]): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return isInternalToken(bearer, tokens) || isInternalToken(req.headers[FORWARDED_HEADERS.token], tokens);
}

export async function opsRoutes(
  app: FastifyInstance,
  deps: {
    upstreams: readonly Upstream[];
    required: readonly Upstream[];
    metrics: GatewayMetrics;
    /** unlock `/metrics` and `/readyz`'s details */
    tokens: readonly string[];
  },
): Promise<void> {
  const tags = ['operations'];
  app.get('/healthz', { config: open, schema: { tags, summary: 'The gateway is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      // an admin's credentials unlock the details; anonymous callers just get ready or not
      config: { auth: 'optional', rateClass: false } satisfies EdgeRouteConfig,
      schema: {
        tags,
        summary:
          'Every required service has an instance in the rotation that can take a request now (details for an admin or with the ops token)',
      },
    },
    async (req, reply) => {
      // an instance whose breaker is open, or whose every connection is taken with requests
      // waiting, serves nothing more now: a load balancer should send the traffic elsewhere
      const ready = deps.required.every((u) =>
        u.instances().some((i) => i.healthy && i.breaker !== 'open' && !i.exhausted),
      );
      const status = ready ? 'ready' : 'unavailable';
      reply.code(ready ? 200 : 503);
      if (!(req.identity?.role === 'admin' || hasOpsToken(req, deps.tokens))) return reply.send({ status });
      const upstreams = Object.fromEntries(deps.upstreams.map((u) => [u.name, u.instances()]));
      return reply.send({ status, upstreams });
    },
  );

  app.get(
    '/metrics',
    {
      config: open,
      schema: { tags, summary: 'Prometheus metrics (Authorization: Bearer <BOURSE_METRICS_TOKEN>)' },
    },
    async (req, reply) => {
      if (!hasOpsToken(req, deps.tokens))
        throw unauthorized('Metrics need "Authorization: Bearer <BOURSE_METRICS_TOKEN>"');
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
