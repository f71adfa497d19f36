/**
 * A whole Bourse behind a gateway, as the all-in-one process composes it: the orders and users
 * services on an internal loopback server (with /healthz), the gateway on its own server, talking
 * to them by URL only. Helpers register and log in through the gateway.
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import {
  createGateway,
  type Gateway,
  type GatewayConfigInput,
  type GatewayDeps,
} from '../../src/gateway/index.ts';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { createMemoryCache } from '../../src/platform/cache/memory.ts';
import type { Cache } from '../../src/platform/cache/types.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { requireInternalToken } from '../../src/platform/http/forwarded-identity.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import { createOrdersService, type OrdersService } from '../../src/services/orders/index.ts';
import { createUsersService, ensureAdmin, type UsersService } from '../../src/services/users/index.ts';
import { deriveKeys } from '../../src/services/users/secret.ts';

export const SECRET = 'gateway-test-secret-that-is-long-enough-42';
/** the internal token derived from SECRET: what the services' server requires, and what unlocks /metrics */
export const INTERNAL_TOKEN = deriveKeys(SECRET).internalToken;
export const OPS = { authorization: `Bearer ${INTERNAL_TOKEN}` };
export const PASSWORD = 'correct horse battery staple';
export const ADMIN_PASSWORD = 'the master pass phrase 42';
/** cheap argon2id for tests: hashing cost is not what these tests are about */
const ARGON2 = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

export const logger = createLogger({ level: 'silent' });

export interface TestUser {
  id: string;
  username: string;
  access: string;
  refresh: string;
  auth: Record<string, string>;
}

/** Generous limits: tests that are not about rate limiting must never meet them. */
export const RELAXED: GatewayConfigInput = {
  rateLimits: {
    orders: { capacity: 100_000, refillPerSec: 100_000 },
    reads: { capacity: 100_000, refillPerSec: 100_000 },
    login: { capacity: 100_000, refillPerSec: 100_000 },
  },
  loginPerIp: { capacity: 100_000, refillPerSec: 100_000 },
  loginPerUsername: { capacity: 100_000, refillPerSec: 100_000 },
  healthIntervalMs: 60_000,
};

export interface Services {
  db: Db;
  bus: Bus;
  orders: OrdersService;
  users: UsersService;
  internal: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** The services on an internal loopback port, as `bourse start` runs them. */
export async function startServices(db: Db, opts: { port?: number; bus?: Bus } = {}): Promise<Services> {
  const bus = opts.bus ?? createMemoryBus({ logger });
  const orders = await createOrdersService({ db, bus, clock: systemClock, logger });
  const internal = Fastify({ logger: false });
  const users = await createUsersService({
    db,
    bus,
    clock: systemClock,
    logger: internal.log,
    config: { secret: SECRET, argon2: ARGON2 },
  });
  // internal as `bourse start` makes it: the gateway must send the token on every path
  requireInternalToken(internal, users.internalToken, ['/healthz']);
  await orders.register(internal);
  await users.register(internal);
  internal.get('/healthz', async () => ({ status: 'ok' }));
  const address = await internal.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  return {
    db,
    bus,
    orders,
    users,
    internal,
    url: address,
    async close() {
      await internal.close();
      await users.close();
      await orders.close();
      if (!opts.bus) await bus.close();
    },
  };
}

export interface Stack extends Services {
  gateway: Gateway;
  cache: Cache;
  limiter: RateLimiter;
  req(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** registers through the gateway (anonymously, or as `by`) and logs in */
  user(opts?: {
    role?: 'investor' | 'broker' | 'admin';
    brokerageId?: string;
    by?: TestUser;
  }): Promise<TestUser>;
  admin(): Promise<TestUser>;
  brokerage(): Promise<string>;
  /** an API key pair of `user`, as Alpaca headers */
  apiKey(user: TestUser): Promise<Record<string, string>>;
  fund(userId: string, dollars: number): Promise<void>;
  shares(userId: string, symbol: string, qty: number, costCents: number): Promise<void>;
  list(symbol: string, referenceCents?: number): Promise<void>;
}

let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export async function startGateway(
  services: Services,
  opts: {
    config?: GatewayConfigInput;
    cache?: Cache;
    limiter?: RateLimiter;
    ordersUrls?: string[];
    backup?: GatewayDeps['backup'];
  } = {},
): Promise<Gateway> {
  return createGateway({
    logger,
    upstreams: { orders: opts.ordersUrls ?? [services.url], users: [services.url] },
    usersInternalToken: services.users.internalToken,
    cache: opts.cache ?? createMemoryCache(),
    limiter: opts.limiter ?? createMemoryRateLimiter(),
    bus: services.bus,
    config: { ...RELAXED, ...opts.config },
    backup: opts.backup,
  });
}

export async function startStack(
  db: Db,
  opts: {
    config?: GatewayConfigInput;
    cache?: Cache;
    limiter?: RateLimiter;
    backup?: GatewayDeps['backup'];
    /** the services' and the gateway's bus (left open at close); an in-process one by default */
    bus?: Bus;
  } = {},
): Promise<Stack> {
  const services = await startServices(db, { bus: opts.bus });
  const cache = opts.cache ?? createMemoryCache();
  const limiter = opts.limiter ?? createMemoryRateLimiter();
  const gateway = await startGateway(services, { ...opts, cache, limiter });
  const req = (o: InjectOptions) => gateway.app.inject(o);
  let adminUser: TestUser | undefined;

  const login = async (username: string, password: string, id: string): Promise<TestUser> => {
    const res = await req({ method: 'POST', url: '/auth/login', payload: { username, password } });
    expect(res.statusCode, res.body).toBe(200);
    const t = res.json() as { access_token: string; refresh_token: string };
    return { id, username, access: t.access_token, refresh: t.refresh_token, auth: bearer(t.access_token) };
  };

  const stack: Stack = {
    ...services,
    gateway,
    cache,
    limiter,
    req,
    async user(o = {}) {
      const username = unique('u');
      const payload: Record<string, unknown> = {
        username,
        email: `${username}@example.com`,
        password: PASSWORD,
      };
      if (o.role) payload.role = o.role;
      if (o.brokerageId) payload.brokerage_id = o.brokerageId;
      const by =
        o.by ??
        (o.role === 'broker' || o.role === 'admin' || o.brokerageId ? await stack.admin() : undefined);
      const reg = await req({ method: 'POST', url: '/users', payload, ...(by && { headers: by.auth }) });
      expect(reg.statusCode, reg.body).toBe(201);
      return login(username, PASSWORD, (reg.json() as { id: string }).id);
    },
    async admin() {
      if (adminUser) return adminUser;
      const { userId } = await ensureAdmin(
        { db, clock: systemClock, logger: services.internal.log },
        { password: ADMIN_PASSWORD, argon2: ARGON2 },
      );
      adminUser = await login('admin', ADMIN_PASSWORD, userId!);
      return adminUser;
    },
    async brokerage() {
      const admin = await stack.admin();
      const res = await req({
        method: 'POST',
        url: '/brokerages',
        headers: admin.auth,
        payload: { name: unique('B ') },
      });
      expect(res.statusCode, res.body).toBe(201);
      return (res.json() as { id: string }).id;
    },
    async apiKey(user) {
      const res = await req({
        method: 'POST',
        url: '/api-keys',
        headers: user.auth,
        payload: { name: 'bot' },
      });
      expect(res.statusCode, res.body).toBe(201);
      const k = res.json() as { key_id?: string; id?: string; secret_key?: string; secret?: string };
      return { 'apca-api-key-id': (k.key_id ?? k.id)!, 'apca-api-secret-key': (k.secret_key ?? k.secret)! };
    },
    async fund(userId, dollars) {
      await services.orders.client.deposit(userId, { amount: dollars * 100 });
    },
    async shares(userId, symbol, qty, costCents) {
      await services.orders.client.transferShares(userId, { symbol, qty, cost: costCents });
    },
    async list(symbol, referenceCents = 10_000) {
      const known = await services.orders.client.instruments();
      if (known.some((i) => i.symbol === symbol)) return;
      await services.orders.client.addInstrument({
        symbol,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 1000,
        referencePrice: referenceCents,
      });
    },
    async close() {
      await gateway.close();
      await services.close();
    },
  };
  return stack;
}

/** The answer is problem+json with this status, Alpaca's code and message, and (when given) names the field. */
export function expectProblem(res: LightMyRequestResponse, status: number, field?: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as {
    type: string;
    title: string;
    status: number;
    code: number;
    message: string;
    errors?: { field: string }[];
  };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\/bourse\.dev\/problems\//);
  expect(typeof body.title).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(Math.floor(body.code / 100_000)).toBe(status);
  if (field !== undefined) expect(body.errors?.map((e) => e.field)).toContain(field);
}

/** Polls `probe` until it returns a value (not undefined); fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
