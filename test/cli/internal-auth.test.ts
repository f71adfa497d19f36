/**
 * Internal APIs are internal: every route of every service's own server needs the deployment's
 * internal token (401 problem+json without it or with a wrong one), the route list is read from the
 * server itself so a new route is covered without anyone adding it here, the attack list of issue 9
 * (deposit, withdraw, cancel/replace/place someone's orders, halt, session, instruments) changes
 * nothing, and the health, readiness and metrics answers reveal no address to anonymous callers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, start } from '../../src/cli/start.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';

const logger = createLogger({ level: 'silent' });
const CURRENT = 'internal-token-current-0123456789abcdef';
const NEXT = 'internal-token-next-0123456789abcdefghij';
const METRICS = 'metrics-token-0123456789abcdefghijklmnop';
const TOKEN_HEADER = 'x-bourse-internal-token';
const INTERNAL_TOKEN_TYPE = 'https://bourse.dev/problems/internal-token';
const VICTIM = '00000000-0000-4000-8000-0000000000a1';
/** what an anonymous answer must not contain: a URL, a loopback address, a port */
const ADDRESS = /https?:\/\/|127\.0\.0\.1|localhost|:\d{4,5}\b/;
/** the body, less the problem `type` URIs (public documentation links, not addresses) */
const withoutProblemTypes = (body: string): string => body.replaceAll('https://bourse.dev/problems/', '');

/** A concrete URL for a registered route: every parameter and wildcard filled in. */
function concrete(url: string): string {
  return url
    .replace(/:symbol\b[^/]*/g, 'AAPL')
    .replace(/:[^/]+/g, VICTIM)
    .replace(/\*$/, 'x');
}

function expectInternalTokenRefusal(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, `${what}: ${res.body}`).toBe(401);
  expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
  expect(res.json(), what).toMatchObject({ type: INTERNAL_TOKEN_TYPE, status: 401 });
}

describe('internal APIs of `bourse start` (all-in-one, embedded defaults)', () => {
  let dir: string;
  let running: Running;
  let internal: FastifyInstance;
  const inject = (opts: InjectOptions) => internal.inject(opts);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bourse-internal-'));
    const config = loadConfig({
      BOURSE_DATA_DIR: dir,
      BOURSE_DEMO: 'off',
      BOURSE_FIX_PORT: 'off',
      PORT: '0',
      HOST: '127.0.0.1',
      BOURSE_INTERNAL_TOKEN: `${CURRENT},${NEXT}`,
      BOURSE_METRICS_TOKEN: METRICS,
    });
    running = await start(config, logger, 'all');
    internal = running.internal!.app;
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on loopback only', () => {
    expect(new URL(running.internal!.url).hostname).toBe('127.0.0.1');
    const address = internal.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
  });

  it('refuses every route of every service without the token or with a wrong one, and serves it with either accepted token', async () => {
    const routes = running.internal!.routes.filter((r) => r.url !== '/healthz' && r.url !== '/readyz');
    const urls = routes.map((r) => r.url);
    // the services are all there: the list is the server's own, not one kept by hand
    for (const prefix of [
      '/internal/orders/',
      '/internal/users',
      '/users',
      '/v1/market-data/',
      '/v1/reports/',
    ])
      expect(
        urls.some((u) => u.startsWith(prefix)),
        prefix,
      ).toBe(true);
    expect(routes.length).toBeGreaterThan(60);

    for (const { method, url } of routes) {
      const what = `${method} ${url}`;
      const request = { method: method as 'GET', url: concrete(url) };
      expectInternalTokenRefusal(await inject(request), `${what} without a token`);
      expectInternalTokenRefusal(
        await inject({ ...request, headers: { [TOKEN_HEADER]: 'not-the-token-0123456789abcdefghij' } }),
        `${what} with a wrong token`,
      );
      // a prefix of the token, or the token with something added, is as wrong as any other
      expectInternalTokenRefusal(
        await inject({ ...request, headers: { [TOKEN_HEADER]: CURRENT.slice(0, -1) } }),
        `${what} with a truncated token`,
      );
      for (const token of [CURRENT, NEXT]) {
        const res = await inject({ ...request, headers: { [TOKEN_HEADER]: token } });
        const type = res.headers['content-type']?.toString().startsWith('application/problem+json')
          ? (res.json() as { type?: string }).type
          : undefined;
        expect(type, `${what} with an accepted token: ${res.statusCode} ${res.body.slice(0, 200)}`).not.toBe(
          INTERNAL_TOKEN_TYPE,
        );
      }
    }
    // a path no service serves: refused before anyone looks it up
    expectInternalTokenRefusal(await inject({ method: 'GET', url: '/internal/nothing-here' }), '404 path');
  });

  it("turns away issue 9's attack list on the orders service and changes nothing", async () => {
    const orders = `/internal/orders/accounts/${VICTIM}`;
    const attacks: InjectOptions[] = [
      { method: 'POST', url: `${orders}/deposits`, payload: { amount: 100_000_000 } },
      { method: 'POST', url: `${orders}/share-transfers`, payload: { symbol: 'AAPL', qty: 1000 } },
      { method: 'POST', url: `${orders}/withdrawals`, payload: { amount: 5_000_000 } },
      {
        method: 'POST',
        url: `${orders}/orders`,
        payload: { symbol: 'AAPL', side: 'buy', type: 'limit', qty: 1, price: 10_000 },
      },
      { method: 'PATCH', url: `${orders}/orders/1`, payload: { qty: 2 } },
      { method: 'DELETE', url: `${orders}/orders/1` },
      { method: 'POST', url: '/internal/orders/admin/halt', payload: { symbol: null, halted: true } },
      { method: 'POST', url: '/internal/orders/admin/session', payload: { state: 'closed' } },
      { method: 'GET', url: '/internal/orders/instruments' },
      { method: 'GET', url: `${orders}/balance` },
    ];
    for (const attack of attacks) {
      expectInternalTokenRefusal(await inject(attack), `${attack.method} ${attack.url}`);
      expectInternalTokenRefusal(
        await inject({ ...attack, headers: { [TOKEN_HEADER]: 'guess-guess-guess-guess-guess-guess' } }),
        `${attack.method} ${attack.url} (wrong token)`,
      );
    }
    const auth = { [TOKEN_HEADER]: CURRENT };
    const balance = await inject({ method: 'GET', url: `${orders}/balance`, headers: auth });
    expect(balance.statusCode, balance.body).toBe(200);
    expect(balance.json()).toMatchObject({ cash: 0 });
    const exchange = await inject({ method: 'GET', url: '/internal/orders/exchange', headers: auth });
    expect(exchange.json()).toMatchObject({ marketHalted: false });
  });

  it("relays the gateway's WebSocket with the token; the internal port refuses one without it", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const user = {
      username: 'wsuser',
      email: 'wsuser@example.com',
      password: 'correct horse battery staple',
    };
    expect((await post('/users', user)).status).toBe(201);
    const login = await post('/auth/login', { username: user.username, password: user.password });
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    const upgrade = (base: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/notifications/stream`, {
          headers: { authorization: `Bearer ${access_token}` },
        });
        // the close handshake goes through the relay too: done when the client sees the close
        ws.on('open', () => {
          ws.on('close', () => resolve(101));
          ws.close();
        });
        // with this listener, ending the refused request is ours to do (ws leaves it open)
        ws.on('unexpected-response', (req, res) => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        ws.on('error', reject);
      });
    expect(await upgrade(running.url)).toBe(101);
    expect(await upgrade(running.internal!.url)).toBe(401);
  });

  it('answers anonymous health and readiness on the internal port with up or down only', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const anonymous = await inject({ method: 'GET', url });
      expect(anonymous.statusCode).toBe(200);
      expect(Object.keys(anonymous.json())).toEqual(['status']);
      const detailed = await inject({ method: 'GET', url, headers: { [TOKEN_HEADER]: CURRENT } });
      expect(detailed.json()).toMatchObject({ role: 'all', db: 'pglite' });
    }
  });

  it("keeps the gateway's /readyz and /metrics free of addresses for anonymous callers", async () => {
    const gateway = running.app;
    const ready = await gateway.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    expect(ready.body).not.toMatch(ADDRESS);

    const metrics = await gateway.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(401);
    expect(metrics.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(withoutProblemTypes(metrics.body)).not.toMatch(ADDRESS);
    expect(metrics.body).not.toContain('bourse_gateway');
    const wrong = await gateway.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS.slice(1)}` },
    });
    expect(wrong.statusCode).toBe(401);

    // an operator sees it all: with the metrics token, or the internal token
    for (const token of [METRICS, CURRENT, NEXT]) {
      const res = await gateway.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('bourse_gateway_breaker_state');
    }
    const details = await gateway.inject({
      method: 'GET',
      url: '/readyz',
      headers: { authorization: `Bearer ${METRICS}` },
    });
    expect(details.json()).toMatchObject({ status: 'ready', upstreams: { orders: expect.any(Array) } });
  });
});

describe('a `--role` process', () => {
  it('refuses to start without an internal token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bourse-role-'));
    try {
      for (const role of [
        'orders',
        'orders-shard',
        'users',
        'market-data',
        'reporting',
        'fix',
        'gateway',
      ] as const) {
        const config = loadConfig({ BOURSE_DATA_DIR: dir, BOURSE_DEMO: 'off', PORT: '0' });
        await expect(start(config, logger, role), role).rejects.toThrow(
          /BOURSE_INTERNAL_TOKEN or BOURSE_SECRET/,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--role users on a real port: 401 for anything without the token, minimal health', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bourse-users-'));
    const users = await start(
      loadConfig({
        BOURSE_DATA_DIR: dir,
        BOURSE_DEMO: 'off',
        BOURSE_FIX_PORT: 'off',
        PORT: '0',
        HOST: '0.0.0.0',
        BOURSE_INTERNAL_TOKEN: CURRENT,
      }),
      logger,
      'users',
    );
    try {
      const url = users.url;
      const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
      const register = {
        username: 'mallory',
        email: 'mallory@example.com',
        password: 'correct horse battery',
      };
      for (const [method, path, body] of [
        ['POST', '/users', register],
        ['POST', '/auth/login', { username: 'admin', password: 'x' }],
        ['GET', '/internal/users', undefined],
        ['POST', '/internal/verify', { access_token: 'x' }],
      ] as const) {
        // none, or a token this deployment does not accept (NEXT is not configured here)
        const refused: Record<string, string>[] = [{}, { [TOKEN_HEADER]: NEXT }];
        for (const headers of refused) {
          const res = await call(method, path, headers, body);
          expect(res.status, `${method} ${path}`).toBe(401);
          expect(((await res.json()) as { type: string }).type).toBe(INTERNAL_TOKEN_TYPE);
        }
      }
      const registered = await call('POST', '/users', { [TOKEN_HEADER]: CURRENT }, register);
      expect(registered.status).toBe(201);
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${url}${path}`);
        const body = await res.text();
        expect(res.status).toBe(200);
        expect(JSON.parse(body)).toEqual({ status: path === '/healthz' ? 'ok' : 'ready' });
        expect(body).not.toMatch(ADDRESS);
      }
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
    } finally {
      await users.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('--role orders-shard on a real port: every route 401 without the token and nothing changes; served with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bourse-shard-'));
    const shard = await start(
      loadConfig({
        BOURSE_DATA_DIR: dir,
        BOURSE_DEMO: 'off',
        BOURSE_FIX_PORT: 'off',
        PORT: '0',
        HOST: '0.0.0.0',
        BOURSE_INTERNAL_TOKEN: CURRENT,
        BOURSE_ORDERS_SHARDS: '1',
      }),
      logger,
      'orders-shard',
    );
    try {
      const url = shard.url;
      const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
      // every route the server has, read from it, so a new one is covered
      const routes = shard.internal!.routes.filter((r) => r.url.startsWith('/internal/orders-shard'));
      expect(routes.length).toBeGreaterThanOrEqual(10);
      for (const r of routes) {
        const path = r.url.replace(':account', 'attacker').replace(':id', '4');
        const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : { amount: 1_000_000 };
        for (const headers of [{}, { [TOKEN_HEADER]: NEXT }] as Record<string, string>[]) {
          const res = await call(r.method, path, headers, body);
          expect(res.status, `${r.method} ${path}`).toBe(401);
          expect(((await res.json()) as { type: string }).type).toBe(INTERNAL_TOKEN_TYPE);
        }
      }
      const status = await call('GET', '/internal/orders-shard/status', { [TOKEN_HEADER]: CURRENT });
      expect(await status.json()).toMatchObject({ shard: 0, shards: 1, role: 'leader', seq: 0, accounts: 1 });
      const deposit = await call(
        'POST',
        '/internal/orders-shard/accounts/investor-1/deposits',
        { [TOKEN_HEADER]: CURRENT },
        { amount: 500 },
      );
      expect(deposit.status).toBe(201);
      expect(await deposit.json()).toMatchObject({ account: 'investor-1', cash: 500 });
      const health = await fetch(`${url}/readyz`);
      expect(health.headers.get('bourse-orders-role')).toBe('leader');
    } finally {
      await shard.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
