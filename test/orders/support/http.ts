/** The HTTP client over Fastify's inject(): the real routes and client, no sockets. */
import Fastify, { type FastifyInstance } from 'fastify';
import { httpOrdersClient, type OrdersClient } from '../../../src/services/orders/client.ts';
import type { OrdersService } from '../../../src/services/orders/index.ts';
import { TEST_INTERNAL_TOKEN } from './process.ts';

export function injectFetch(app: FastifyInstance): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: init.headers as Record<string, string>,
      payload: init.body as string | undefined,
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, String(v));
    return new Response(res.body === '' ? null : res.body, { status: res.statusCode, headers });
  }) as typeof fetch;
}

export async function appFor(service: OrdersService): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await service.register(app);
  await app.ready();
  return app;
}

export async function httpClientFor(
  service: OrdersService,
): Promise<{ app: FastifyInstance; client: OrdersClient }> {
  const app = await appFor(service);
  return {
    app,
    client: httpOrdersClient('http://orders.test', {
      internalToken: TEST_INTERNAL_TOKEN,
      fetch: injectFetch(app),
    }),
  };
}
