/** Health, readiness and Prometheus metrics: never rate-limited, never authenticated. */
import type { FastifyInstance } from 'fastify';
import type { EdgeRouteConfig } from './context.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Upstream } from './upstream/upstream.ts';

const open: EdgeRouteConfig = { auth: 'none', rateClass: false };

export async function opsRoutes(
  app: FastifyInstance,
  deps: { upstreams: readonly Upstream[]; required: readonly Upstream[]; metrics: GatewayMetrics },
): Promise<void> {
  const tags = ['operations'];
  app.get('/healthz', { config: open, schema: { tags, summary: 'The gateway is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      config: open,
      schema: {
        tags,
        summary: 'Every required service has an instance in the rotation that can take a request now',
      },
    },
    async (_req, reply) => {
      const upstreams = Object.fromEntries(deps.upstreams.map((u) => [u.name, u.instances()]));
      // an instance whose breaker is open, or whose every connection is taken with requests
      // waiting, serves nothing more now: a load balancer should send the traffic elsewhere
      const ready = deps.required.every((u) =>
        u.instances().some((i) => i.healthy && i.breaker !== 'open' && !i.exhausted),
      );
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', upstreams });
    },
  );

  app.get(
    '/metrics',
    { config: open, schema: { tags, summary: 'Prometheus metrics' } },
    async (_req, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
}
