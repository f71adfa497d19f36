/**
 * A users service on a given database and bus, with helpers that speak its HTTP API through
 * Fastify's inject(). Real argon2id (OWASP parameters), a manual clock starting now.
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { manualClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import {
  createUsersService,
  ensureAdmin,
  type Role,
  type UsersConfig,
  type UsersService,
} from '../../src/services/users/index.ts';

export const SECRET = 'test-secret-that-is-long-enough-0123456789';
export const PASSWORD = 'correct horse battery staple';
export const ADMIN_PASSWORD = 'the master pass phrase 42';

export type ManualClock = ReturnType<typeof manualClock>;

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  access: string;
  refresh: string;
  auth: Record<string, string>;
}

export interface Harness {
  app: FastifyInstance;
  svc: UsersService;
  db: Db;
  bus: Bus;
  clock: ManualClock;
  req(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** registers (anonymously, or as `by`) and logs in */
  user(opts?: { role?: Role; brokerageId?: string; by?: TestUser; name?: string }): Promise<TestUser>;
  login(username: string, password?: string): Promise<LightMyRequestResponse>;
  admin(): Promise<TestUser>;
  brokerage(name?: string): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** The answer is RFC 9457 problem+json with this status (and, when given, naming this field). */
export function expectProblem(res: LightMyRequestResponse, status: number, field?: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as { type: string; title: string; status: number; errors?: { field: string }[] };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\/bourse\.dev\/problems\//);
  expect(typeof body.title).toBe('string');
  if (field !== undefined) expect(body.errors?.map((e) => e.field)).toContain(field);
}

export async function makeHarness(
  db: Db,
  opts: {
    bus?: Bus;
    config?: Partial<UsersConfig>;
    clock?: ManualClock;
    listen?: boolean;
    /** login throttling state; default the service's own (memory) */
    limiter?: RateLimiter;
  } = {},
): Promise<Harness> {
  const clock = opts.clock ?? manualClock(Date.now());
  const ownBus = opts.bus === undefined;
  const bus = opts.bus ?? createMemoryBus({ logger: createLogger({ level: 'silent' }) });
  const app = Fastify({ logger: { level: 'silent' } });
  const svc = await createUsersService({
    db,
    bus,
    clock,
    logger: app.log,
    config: { secret: SECRET, ...opts.config },
    ...(opts.limiter ? { limiter: opts.limiter } : {}),
  });
  await svc.register(app);
  await app.ready();
  let adminUser: TestUser | undefined;

  const h: Harness = {
    app,
    svc,
    db,
    bus,
    clock,
    req: (o) => app.inject(o),
    login: (username, password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } }),
    async user(o = {}) {
      const username = o.name ?? unique('u');
      const email = `${username}@example.com`;
      const payload: Record<string, unknown> = { username, email, password: PASSWORD };
      if (o.role) payload.role = o.role;
      if (o.brokerageId) payload.brokerage_id = o.brokerageId;
      let by = o.by;
      // joining a brokerage on one's own needs an invite: an admin places the user instead
      if (!by && (o.role === 'broker' || o.role === 'admin' || o.brokerageId)) by = await h.admin();
      const reg = await app.inject({
        method: 'POST',
        url: '/users',
        payload,
        ...(by ? { headers: by.auth } : {}),
      });
      expect(reg.statusCode, reg.body).toBe(201);
      const login = await h.login(username);
      expect(login.statusCode, login.body).toBe(200);
      const t = login.json() as { access_token: string; refresh_token: string };
      return {
        id: (reg.json() as { id: string }).id,
        username,
        email,
        password: PASSWORD,
        access: t.access_token,
        refresh: t.refresh_token,
        auth: bearer(t.access_token),
      };
    },
    async admin() {
      if (adminUser) return adminUser;
      const { userId } = await ensureAdmin({ db, clock, logger: app.log }, { password: ADMIN_PASSWORD });
      const login = await h.login('admin', ADMIN_PASSWORD);
      expect(login.statusCode, login.body).toBe(200);
      const t = login.json() as { access_token: string; refresh_token: string };
      adminUser = {
        id: userId!,
        username: 'admin',
        email: 'admin@bourse.localhost',
        password: ADMIN_PASSWORD,
        access: t.access_token,
        refresh: t.refresh_token,
        auth: bearer(t.access_token),
      };
      return adminUser;
    },
    async brokerage(name = unique('Brokerage ')) {
      const admin = await h.admin();
      const res = await app.inject({
        method: 'POST',
        url: '/brokerages',
        headers: admin.auth,
        payload: { name },
      });
      expect(res.statusCode, res.body).toBe(201);
      return (res.json() as { id: string }).id;
    },
    async close() {
      await svc.close();
      await app.close();
      if (ownBus) await bus.close();
    },
  };
  return h;
}

/** Polls `probe` until it returns a value (not undefined); fails after `ms` of trying. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function countRows(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

/** Setting up a suite opens a database: on a busy two-core machine PGlite's first start is slow. */
export const SETUP_MS = 180_000;
