/**
 * The market-data and reporting routes, forwarded: credentials are required at the edge, the
 * service gets the caller's identity and the account it acts on in headers it can trust (the
 * internal token), a client cannot forge those headers, and a broker may name only their own clients.
 * The upstream here is a small service that answers what it was told, through the real
 * forwarded-identity reader the services use.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway/index.ts';
import { createMemoryCache } from '../../src/platform/cache/memory.ts';
import { readForwardedIdentity } from '../../src/platform/http/forwarded-identity.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWithPostgres } from '../support/services.ts';
import { expectProblem, logger, RELAXED, type Stack, startStack, type TestUser } from './stack.ts';

describeWithPostgres('gateway → market data and reporting', () => {
  const makeDb = scoped(makePostgresDb);
  let stack: Stack;
  let echo: FastifyInstance;
  let gateway: Gateway;
  let investor: TestUser;

  beforeAll(async () => {
    stack = await startStack(await makeDb());
    const token = stack.users.internalToken;
    echo = Fastify({ logger: false });
    echo.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    echo.all('/*', async (req) => ({
      method: req.method,
      url: req.url,
      identity: readForwardedIdentity(req.headers, token),
      body: req.body ?? null,
      transferEncoding: req.headers['transfer-encoding'] ?? null,
    }));
    const url = await echo.listen({ port: 0, host: '127.0.0.1' });
    gateway = await createGateway({
      logger,
      upstreams: { orders: [stack.url], users: [stack.url], marketData: [url] },
      usersInternalToken: token,
      cache: createMemoryCache(),
      limiter: createMemoryRateLimiter(),
      config: RELAXED,
    });
    investor = await stack.user();
  });
  afterAll(async () => {
    await gateway?.close();
    await echo?.close();
    await stack?.close();
  });

  const req = (
    url: string,
    headers: Record<string, string> = {},
    method: 'GET' | 'POST' = 'GET',
    payload?: string,
  ) => gateway.app.inject({ method, url, headers, ...(payload !== undefined && { payload }) });

  it('forwards with the caller identity and own account, whatever identity headers the client sent', async () => {
    const res = await req('/v2/stocks/AAPL/bars?timeframe=1Min', {
      ...investor.auth,
      'x-bourse-role': 'admin',
      'x-bourse-user-id': 'someone-else',
      'x-bourse-internal-token': 'guess',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { url: string; identity: Record<string, unknown> };
    expect(body.url).toBe('/v2/stocks/AAPL/bars?timeframe=1Min');
    expect(body.identity).toMatchObject({
      userId: investor.id,
      role: 'investor',
      accountId: investor.id,
      username: investor.username,
    });
  });

  it('passes a body through (an import) and documents the routes', async () => {
    const admin = await stack.admin();
    const csv = 'Date,Close\n2024-01-02,10.5\n';
    const res = await req(
      '/v1/market-data/import?symbol=ACME',
      { ...admin.auth, 'content-type': 'text/csv' },
      'POST',
      csv,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ method: 'POST', body: csv, identity: { role: 'admin' } });
    const doc = (await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v2/stocks/{symbol}/bars', '/v1/reports/statement', '/v1/admin/halts']),
    );
  });

  it('streams an import body on (chunked, whatever its size), while other bodies stay capped', async () => {
    const admin = await stack.admin();
    const csv = `Date,Close\n${'2024-01-02,10.5\n'.repeat(20_000)}`;
    expect(csv.length).toBeGreaterThan(256 * 1024);
    const res = await req(
      '/v1/market-data/import?symbol=ACME',
      { ...admin.auth, 'content-type': 'text/csv' },
      'POST',
      csv,
    );
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const body = res.json() as { body: string; transferEncoding: string | null };
    expect(body.body).toBe(csv);
    // piped as it arrived: no content-length was known to the gateway's upstream request
    expect(body.transferEncoding).toBe('chunked');
    const big = await req(
      '/v1/market-data/feeds',
      { ...admin.auth, 'content-type': 'application/json' },
      'POST',
      JSON.stringify({ id: 'x'.repeat(100_000) }),
    );
    expect(big.statusCode).toBe(413);
  });

  it('needs credentials, and refuses bad ones, before anything is forwarded', async () => {
    expectProblem(await req('/v1/market-data/news'), 401);
    expectProblem(await req('/v1/market-data/news', { authorization: 'Bearer nonsense' }), 401);
  });

  it('lets a broker act for their own client and no one else', async () => {
    const brokerage = await stack.brokerage();
    const broker = await stack.user({ role: 'broker', brokerageId: brokerage });
    const client = await stack.user({ brokerageId: brokerage });
    const mine = await req(`/v1/market-data/news?account_id=${client.id}`, broker.auth);
    expect((mine.json() as { identity: { accountId: string; role: string } }).identity).toMatchObject({
      accountId: client.id,
      role: 'broker',
      brokerageId: brokerage,
    });
    expectProblem(await req(`/v1/market-data/news?account_id=${investor.id}`, broker.auth), 403);
    expectProblem(await req(`/v1/market-data/news?account_id=${client.id}`, investor.auth), 403);
  });

  it('answers 503 for a service that is not configured', async () => {
    expectProblem(await req('/v1/reports/statement?from=2024-01-01&to=2024-01-31', investor.auth), 503);
  });
});
