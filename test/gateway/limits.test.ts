/**
 * Rate limits at the edge on real Redis: two gateway instances draw from the same buckets,
 * RateLimit-* headers on every answer, 429 problem+json with Retry-After, login limits per IP,
 * and no per-username limit an attacker could use to lock the owner out.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.ts';
import { createRedisRateLimiter } from '../../src/platform/ratelimit/redis.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import { makePostgresDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';
import { describeWith, serviceUrl } from '../support/services.ts';
import {
  bearer,
  expectProblem,
  OPS,
  PASSWORD,
  type Services,
  startGateway,
  startServices,
  unique,
} from './stack.ts';

describeWith(['postgres', 'redis'], 'rate limits shared on Redis', () => {
  const makeDb = scoped(makePostgresDb);
  let services: Services;
  let gateways: Gateway[];
  let limiters: RateLimiter[];
  let auth: Record<string, string>;
  let username: string;

  beforeAll(async () => {
    services = await startServices(await makeDb());
    const prefix = `test:${randomUUID()}:`;
    limiters = await Promise.all(
      [0, 1].map(() => createRedisRateLimiter({ url: serviceUrl('redis'), prefix })),
    );
    const config = {
      rateLimits: {
        orders: { capacity: 4, refillPerSec: 0.01 },
        reads: { capacity: 1_000, refillPerSec: 1_000 },
        login: { capacity: 1_000, refillPerSec: 1_000 },
      },
      loginPerIp: { capacity: 1_000, refillPerSec: 1_000 },
    };
    gateways = await Promise.all(limiters.map((limiter) => startGateway(services, { limiter, config })));
    username = unique('rl');
    const [g] = gateways as [Gateway];
    await g.app.inject({
      method: 'POST',
      url: '/users',
      payload: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    const login = await g.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    auth = bearer((login.json() as { access_token: string }).access_token);
  });
  afterAll(async () => {
    for (const g of gateways ?? []) await g.close();
    for (const l of limiters ?? []) await l.close();
    await services?.close();
  });

  it('two gateways share one bucket per user: the fifth order request is refused, on either', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await gateways[i % 2]!.app.inject({ method: 'DELETE', url: '/v2/orders', headers: auth });
      expect(res.headers['ratelimit-limit']).toBe('4');
      expect(res.headers['ratelimit-remaining']).toBe(String(Math.max(0, 3 - i)));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expectProblem(res, 429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses).toEqual([207, 207, 207, 207, 429, 429]);
    // reads have their own bucket
    expect(
      (await gateways[0]!.app.inject({ method: 'GET', url: '/v2/orders', headers: auth })).statusCode,
    ).toBe(200);
    const metrics = await gateways[0]!.app.inject({ method: 'GET', url: '/metrics', headers: OPS });
    expect(metrics.body).toMatch(/bourse_gateway_rate_limited_total\{class="orders"\} 1/);
    // the WebSocket relay's counters (the slow-reader bound) are exported too
    expect(metrics.body).toMatch(/bourse_gateway_ws_relay_max_buffered_bytes \d+/);
  });

  it('wrong passwords for a username from 5 addresses, on either gateway, do not lock the owner out', async () => {
    const login = (i: number, from: string, password: string, headers: Record<string, string> = {}) =>
      gateways[i % 2]!.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: from,
        headers,
        payload: { username: username.toUpperCase(), password },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await login(i, `10.0.0.${i + 1}`, 'wrong wrong wrong')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    // the owner, with the right password, from an address never seen
    const owner = await login(0, '10.0.1.1', PASSWORD);
    expect(owner.statusCode, owner.body).toBe(200);
    const device = (owner.json() as { device_token: string }).device_token;
    expect(owner.headers['set-cookie']).toContain(`bourse_device=${device};`);
    // a heavier attack: unknown clients now wait, the owner's device (its cookie) does not
    for (let i = 0; i < 20; i++) await login(i, `10.0.2.${i + 1}`, 'wrong wrong wrong');
    expectProblem(await login(1, '10.0.3.1', PASSWORD), 429);
    const known = await login(1, '10.0.3.2', PASSWORD, { cookie: `theme=dark; bourse_device=${device}` });
    expect(known.statusCode, known.body).toBe(200);
    const byHeader = await login(0, '10.0.3.3', PASSWORD, { 'bourse-device': device });
    expect(byHeader.statusCode, byHeader.body).toBe(200);
  });

  it('limits anonymous callers per IP', async () => {
    const tight = await startGateway(services, {
      limiter: limiters[0]!,
      config: { rateLimits: { reads: { capacity: 2, refillPerSec: 0.01 } } },
    });
    try {
      const ip = `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (await tight.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: ip })).statusCode,
        );
      }
      expect(statuses).toEqual([200, 200, 429]);
      // another address has its own bucket
      expect(
        (await tight.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '10.8.0.1' }))
          .statusCode,
      ).toBe(200);
    } finally {
      await tight.close();
    }
  });
});
