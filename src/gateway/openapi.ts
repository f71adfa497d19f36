/**
 * The OpenAPI 3.0 document, generated from the route schemas (@fastify/swagger), served at
 * /openapi.json, with Swagger UI at /docs (its assets come from the package: no CDN).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { EdgeRouteConfig } from './context.ts';

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
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
