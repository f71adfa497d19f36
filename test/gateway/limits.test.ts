/**
 * Rate limits at the edge on real Redis: two gateway instances draw from the same buckets,
 * RateLimit-* headers on every answer, 429 problem+json with Retry-After, login limits per
 * username and per IP.
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
      loginPerUsername: { capacity: 3, refillPerSec: 0.01 },
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
  });

  it('limits login attempts per username, across gateways and client addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await gateways[i % 2]!.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: `10.0.0.${i + 1}`,
        payload: { username: username.toUpperCase(), password: 'wrong wrong wrong' },
      });
      statuses.push(res.statusCode);
    }
    // capacity 3, and the login in beforeAll took one
    expect(statuses).toEqual([401, 401, 429, 429, 429]);
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
