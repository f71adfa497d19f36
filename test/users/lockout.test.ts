/**
 * Login throttling that an attacker cannot turn against the owner (throttle.ts): per (account,
 * client) exponential backoff, a soft per-account limit for unknown clients, and device tokens that
 * admit the owner during an attack. On the in-memory limiter and on real Redis, with the service's
 * manual clock (nothing sleeps).
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARDED_HEADERS } from '../../src/platform/http/forwarded-identity.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import { createRedisRateLimiter } from '../../src/platform/ratelimit/redis.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import { forEachDb, type MakeDb } from '../support/db.ts';
import { describeWithRedis, serviceUrl } from '../support/services.ts';
import {
  expectProblem,
  type Harness,
  makeHarness,
  PASSWORD,
  SETUP_MS,
  type TestUser,
  unique,
} from './harness.ts';

const WRONG = 'definitely not it!';
/** cheap argon2id: hashing cost is not what these tests are about */
const ARGON2 = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

let addresses = 0;
/** a fresh client address */
const address = () => `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses++ & 255}`;

function lockoutSuite(makeDb: MakeDb, openLimiter: () => Promise<RateLimiter>): void {
  let h: Harness;
  let limiter: RateLimiter;
  beforeAll(async () => {
    limiter = await openLimiter();
    // the defaults: 5 attempts per client, then 1 s doubling to 15 min; 10 + 1/30 s per account
    h = await makeHarness(await makeDb(), { limiter, config: { argon2: ARGON2 } });
  }, SETUP_MS);
  afterAll(async () => {
    await h?.close();
    await limiter?.close();
  });

  const login = (
    username: string,
    password: string,
    from: string,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    h.app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: from,
      headers,
      payload: { username, password },
    });
  const retryAfter = (res: LightMyRequestResponse) => Number(res.headers['retry-after']);
  const deviceOf = async (u: TestUser): Promise<string> => {
    const res = await login(u.username, PASSWORD, address());
    expect(res.statusCode, res.body).toBe(200);
    const token = (res.json() as { device_token: string }).device_token;
    expect(res.headers['set-cookie']).toContain(`bourse_device=${token};`);
    return token;
  };

  it("the issue's attack: wrong passwords from 5 addresses do not keep the owner out", async () => {
    const u = await h.user();
    for (let i = 0; i < 5; i++) expectProblem(await login(u.username, WRONG, address()), 401);
    expect((await login(u.username, PASSWORD, address())).statusCode).toBe(200);

    // five times as many: the account's soft limit slows unknown clients, for a bounded time
    for (let i = 0; i < 5; i++) {
      const from = address();
      for (let j = 0; j < 5; j++) await login(u.username, WRONG, from);
    }
    const owner = address();
    const first = await login(u.username, PASSWORD, owner);
    if (first.statusCode !== 200) {
      expectProblem(first, 429);
      expect(retryAfter(first)).toBeLessThanOrEqual(30);
      h.clock.advance(retryAfter(first) * 1000);
      expect((await login(u.username, PASSWORD, owner)).statusCode).toBe(200);
    }
  });

  it('one anonymous guess a minute, for an hour, never keeps the owner out', async () => {
    const u = await h.user();
    for (let minute = 1; minute <= 60; minute++) {
      h.clock.advance(60_000);
      expectProblem(await login(u.username, WRONG, address()), 401);
      if (minute % 10 === 0) {
        const res = await login(u.username, PASSWORD, address());
        expect(res.statusCode, `minute ${minute}: ${res.body}`).toBe(200);
      }
    }
  });

  it('the owner with a device token is admitted during an attack, from any address', async () => {
    const u = await h.user();
    const device = await deviceOf(u);
    // the attack: many addresses, until unknown clients are refused at this account
    let refused: LightMyRequestResponse | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await login(u.username, WRONG, address());
      if (res.statusCode === 429) refused = res;
    }
    expect(refused, 'the account soft limit never applied').toBeDefined();
    expectProblem(await login(u.username, PASSWORD, address()), 429); // an unknown client waits
    // header, or cookie: admitted at once
    expect((await login(u.username, PASSWORD, address(), { 'bourse-device': device })).statusCode).toBe(200);
    expect(
      (await login(u.username, PASSWORD, address(), { cookie: `x=1; bourse_device=${device}` })).statusCode,
    ).toBe(200);
    // a forged token, or another user's, counts as no token
    const other = await deviceOf(await h.user());
    const forged = `${device.slice(0, -4)}AAAA`;
    for (const token of [forged, other]) {
      expectProblem(await login(u.username, PASSWORD, address(), { 'bourse-device': token }), 429);
    }
  });

  it('backs one attacking address off exponentially, without touching the owner elsewhere', async () => {
    const u = await h.user();
    const attacker = address();
    for (let i = 0; i < 5; i++) expectProblem(await login(u.username, WRONG, attacker), 401);
    const holds: number[] = [];
    for (let round = 0; round < 3; round++) {
      const held = await login(u.username, WRONG, attacker);
      expectProblem(held, 429);
      expect(held.json()).toMatchObject({ type: 'https://bourse.dev/problems/login-locked' });
      holds.push(retryAfter(held));
      // even the right password waits while this address is held off
      expectProblem(await login(u.username, PASSWORD, attacker), 429);
      h.clock.advance(retryAfter(held) * 1000);
      expectProblem(await login(u.username, WRONG, attacker), 401);
    }
    expect(holds).toEqual([1, 2, 4]); // and on up to 15 min (test/gateway/ratelimit.test.ts)
    // meanwhile the owner, from elsewhere, was never held off
    expect((await login(u.username, PASSWORD, address())).statusCode).toBe(200);
  });

  it('a burst of parallel guesses from one address cannot get past the free attempts', async () => {
    const u = await h.user();
    const from = address();
    const answers = await Promise.all(Array.from({ length: 12 }, () => login(u.username, WRONG, from)));
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
  });

  it('an unknown name is throttled exactly like an account: answers do not reveal who exists', async () => {
    const ghost = unique('ghost');
    const from = address();
    for (let i = 0; i < 5; i++) expectProblem(await login(ghost, WRONG, from), 401);
    const held = await login(ghost, WRONG, from);
    expectProblem(held, 429);
    expect(retryAfter(held)).toBe(1);
  });

  it("takes the gateway's client address only with the internal token", async () => {
    const u = await h.user();
    const socket = address();
    // without the token the header is the caller's say-so: ignored, this is still one client
    for (let i = 0; i < 5; i++) {
      await login(u.username, WRONG, socket, { [FORWARDED_HEADERS.clientAddress]: address() });
    }
    expectProblem(
      await login(u.username, WRONG, socket, { [FORWARDED_HEADERS.clientAddress]: address() }),
      429,
    );
    // with it (the gateway), the address it names is the client
    const viaGateway = {
      [FORWARDED_HEADERS.token]: h.svc.internalToken,
      [FORWARDED_HEADERS.clientAddress]: address(),
    };
    expect((await login(u.username, PASSWORD, socket, viaGateway)).statusCode).toBe(200);
  });
}

forEachDb('users: login throttling', (makeDb) => {
  describe('on the memory limiter', () => lockoutSuite(makeDb, async () => createMemoryRateLimiter()));
  describeWithRedis('on Redis', () =>
    lockoutSuite(makeDb, () =>
      createRedisRateLimiter({ url: serviceUrl('redis'), prefix: `test:${randomUUID()}:` }),
    ),
  );
});
