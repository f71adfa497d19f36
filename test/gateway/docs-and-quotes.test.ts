/** The OpenAPI document and docs, cached quotes with ETag / 304 and invalidation, and operations routes. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { USERS_ROUTES } from '../../src/gateway/proxy.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { eventually, OPS, type Stack, startStack, type TestUser } from './stack.ts';

describeWithPostgres('docs, quotes and operations', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let trader: TestUser;

  beforeAll(async () => {
    stack = await startStack(await makeDb());
    await stack.list('QTE', 5_000);
    trader = await stack.user();
    await stack.fund(trader.id, 10_000);
    await stack.shares(trader.id, 'QTE', 100, 500_000);
  });
  afterAll(() => stack?.close());

  it('documents every public route with schemas and examples', async () => {
    const res = await stack.req({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: unknown; responses: Record<string, unknown>; summary?: string }>
      >;
    };
    expect(doc.openapi).toBe('3.0.3');
    for (const [path, methods] of [
      ['/v2/account', ['get']],
      ['/v2/clock', ['get']],
      ['/v2/assets', ['get']],
      ['/v2/assets/{symbol_or_asset_id}', ['get']],
      ['/v2/orders', ['get', 'post', 'delete']],
      ['/v2/orders/{order_id}', ['get', 'patch', 'delete']],
      ['/v2/orders:by_client_order_id', ['get']],
      ['/v2/positions', ['get']],
      ['/v2/positions/{symbol}', ['get', 'delete']],
      ['/v2/account/activities', ['get']],
      ['/market-data', ['get', 'post']],
      ['/users', ['get', 'post']],
      ['/auth/login', ['post']],
    ] as const) {
      for (const method of methods) {
        const op = doc.paths[path]?.[method];
        expect(op, `${method} ${path}`).toBeDefined();
        expect(op?.summary, `${method} ${path}`).toBeTruthy();
      }
    }
    const submit = JSON.stringify(doc.paths['/v2/orders']!.post);
    expect(submit).toContain('"example"');
    expect(submit).toContain('limit_price');
    expect(Object.keys(doc.paths)).not.toContain('/internal/verify');

    const docs = await stack.req({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs|jsdelivr)/);
  });

  it('documents the forwarded users routes with the users service’s schemas and examples', async () => {
    const res = await stack.req({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    type Media = { schema?: Record<string, unknown>; example?: unknown };
    type Op = {
      summary?: string;
      parameters?: { in: string; name: string; schema?: unknown }[];
      requestBody?: { content?: Record<string, Media> };
      responses: Record<string, { description?: string; content?: Record<string, Media> }>;
    };
    const doc = res.json() as { paths: Record<string, Record<string, Op>> };
    const noBody = new Set([
      'POST /auth/logout-all',
      'POST /auth/keys/rotate',
      'POST /notifications/read-all',
    ]);
    for (const [method, url] of USERS_ROUTES) {
      const key = `${method} ${url}`;
      // '::' is find-my-way's escaped ':' (/v2/watchlists:by_name), not a parameter
      const path = url.replace(/(?<!:):(\w+)/g, '{$1}').replace(/::/g, ':');
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op, key).toBeDefined();
      expect(op?.summary, key).toBeTruthy();
      const ok = Object.entries(op?.responses ?? {}).find(([code]) => /^2/.test(code));
      expect(ok, `${key}: a 2xx answer`).toBeDefined();
      if (ok?.[0] !== '204') expect(ok?.[1].content?.['application/json']?.schema, key).toBeDefined();
      expect(op?.responses['4XX'] ?? op?.responses['4xx'], `${key}: problems`).toBeDefined();
      if (/\{\w+\}/.test(path))
        expect(
          op?.parameters?.some((p) => p.in === 'path'),
          key,
        ).toBe(true);
      if ((method === 'POST' || method === 'PATCH') && !noBody.has(key) && !/\{id\}\/read$/.test(path))
        expect(op?.requestBody?.content?.['application/json']?.schema, `${key}: request body`).toBeDefined();
    }
    // OpenAPI 3.0 has no 'null' type: nullable fields are written with `nullable: true`
    expect(JSON.stringify(doc.paths)).not.toMatch(/"type":\[/);
    const me = doc.paths['/users/me']!.get!.responses['200']!.content!['application/json']!.schema!;
    expect((me.properties as Record<string, unknown>).display_name).toMatchObject({
      type: 'string',
      nullable: true,
    });
    for (const [path, code] of [
      ['/users', '201'],
      ['/auth/login', '200'],
      ['/auth/refresh', '200'],
      ['/api-keys', '201'],
      ['/alerts', '201'],
    ] as const) {
      const op = doc.paths[path]!.post!;
      expect(
        op.requestBody?.content?.['application/json']?.example,
        `POST ${path}: request example`,
      ).toBeDefined();
      expect(
        op.responses[code]?.content?.['application/json']?.example,
        `POST ${path}: answer example`,
      ).toBeDefined();
    }
    expect(doc.paths['/auth/login']!.post!.requestBody!.content!['application/json']!.example).toMatchObject({
      username: expect.any(String),
      password: expect.any(String),
    });
  });

  it('serves quotes from the cache with an ETag, and refreshes them when the book changes', async () => {
    const ask = await stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: trader.auth,
      payload: {
        symbol: 'QTE',
        qty: '10',
        side: 'sell',
        type: 'limit',
        time_in_force: 'gtc',
        limit_price: '51.00',
      },
    });
    expect(ask.statusCode, ask.body).toBe(200);
    const first = await eventually(async () => {
      const res = await stack.req({
        method: 'GET',
        url: '/market-data?symbols=QTE,NOPE',
        headers: trader.auth,
      });
      const snap = (
        res.json() as { snapshots: Record<string, { latest_quote: { ask_price: string | null } }> }
      ).snapshots.QTE;
      return snap?.latest_quote.ask_price === '51.00' ? res : undefined;
    });
    expect(Object.keys((first.json() as { snapshots: object }).snapshots)).toEqual(['QTE']);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await stack.req({
      method: 'GET',
      url: '/market-data?symbols=QTE,NOPE',
      headers: { ...trader.auth, 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);

    await stack.req({
      method: 'POST',
      url: '/v2/orders',
      headers: trader.auth,
      payload: {
        symbol: 'QTE',
        qty: '5',
        side: 'sell',
        type: 'limit',
        time_in_force: 'gtc',
        limit_price: '50.50',
      },
    });
    // the md.book event drops the cached snapshot: the new best ask shows, and the ETag changes
    const moved = await eventually(async () => {
      const res = await stack.req({ method: 'GET', url: '/market-data?symbols=QTE', headers: trader.auth });
      const q = (res.json() as { snapshots: Record<string, { latest_quote: { ask_price: string } }> })
        .snapshots.QTE;
      return q?.latest_quote.ask_price === '50.50' ? res : undefined;
    });
    expect(moved.headers.etag).not.toBe(etag);
  });

  it('answers health, readiness and metrics, and propagates request ids', async () => {
    expect((await stack.req({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await stack.req({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready' });
    const res = await stack.req({
      method: 'GET',
      url: '/v2/clock',
      headers: { ...trader.auth, 'x-request-id': 'trace-42' },
    });
    expect(res.headers['x-request-id']).toBe('trace-42');
    const metrics = await stack.req({ method: 'GET', url: '/metrics', headers: OPS });
    expect(metrics.body).toContain(
      'bourse_gateway_requests_total{method="GET",route="/v2/clock",status="200"}',
    );
    expect(metrics.body).toContain('bourse_gateway_request_duration_seconds_bucket');
    expect(metrics.body).toMatch(/bourse_gateway_orders_total\{outcome="accepted"\} \d+/);
    expect(metrics.body).toContain('bourse_gateway_breaker_state');
  });
});
