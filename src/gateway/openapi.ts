/**
 * The OpenAPI 3.0 document, generated from the route schemas (@fastify/swagger), served at
 * /openapi.json, with Swagger UI at /docs (its assets come from the package: no CDN).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { usersApiDocs } from '../services/users/client.ts';
import type { EdgeRouteConfig } from './context.ts';

/**
 * The users service's routes are forwarded as raw bytes (proxy.ts): their route schemas carry a
 * summary only, so Fastify neither validates nor serialises them. Their request and answer schemas,
 * with examples, are added here, to the document only, from the service's own documentation table.
 */
function documentForwardedRoute({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: { method: string | string[] };
}): { schema: FastifySchema; url: string } {
  const tags = (schema as { tags?: unknown } | undefined)?.tags;
  if (!Array.isArray(tags) || !tags.includes('users') || typeof route.method !== 'string')
    return { schema, url };
  const docs = usersApiDocs[`${route.method} ${url}`];
  // a copy: @fastify/swagger rewrites schemas for OpenAPI 3.0 (`type: [x, 'null']` → `nullable`)
  return docs ? { schema: { ...schema, ...structuredClone(docs) }, url } : { schema, url };
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    transform: documentForwardedRoute,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Bourse API',
        version: '1.0.0',
        description:
          'The public trading API follows Alpaca’s Trading API v2 (paths, snake_case fields, decimal strings), ' +
          'so Alpaca client libraries work by changing the base URL and keys. Errors are RFC 9457 ' +
          'problem+json that also carry Alpaca’s `code` and `message`. Every answer has RateLimit-* headers.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKeyId: { type: 'apiKey', in: 'header', name: 'APCA-API-KEY-ID' },
          apiKeySecret: { type: 'apiKey', in: 'header', name: 'APCA-API-SECRET-KEY' },
        },
      },
      tags: [
        { name: 'account' },
        { name: 'orders' },
        { name: 'positions' },
        { name: 'assets' },
        { name: 'market data' },
        { name: 'users', description: 'Forwarded to the users service' },
        { name: 'operations' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } as never });
  app.get(
    '/openapi.json',
    { schema: { hide: true }, config: { auth: 'none', rateClass: 'reads' } satisfies EdgeRouteConfig },
    async () => app.swagger(),
  );
}
