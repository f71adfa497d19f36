/**
 * A market-data service on a given database and bus, next to a real orders service (the
 * exchange feed reads its bus events and its depth), with a manual clock and no timers: tests
 * step the schedules by hand (`md.step()`, `md.flush()`). The users service is stood in by a
 * token table (the stream only asks it to verify access tokens).
 */
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Bus } from '../../src/platform/bus/types.ts';
import { manualClock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { type ForwardedIdentity, identityHeaders } from '../../src/platform/http/forwarded-identity.ts';
import { createLogger } from '../../src/platform/logger.ts';
import {
  createMarketDataService,
  type MarketDataConfig,
  type MarketDataService,
} from '../../src/services/market-data/index.ts';
import type { OrdersService } from '../../src/services/orders/index.ts';
import type { UsersClient, VerifiedIdentity } from '../../src/services/users/client.ts';
import { fund, listAcme, startService } from '../orders/support/service.ts';

export const INTERNAL_TOKEN = 'internal-token-for-tests-0123456789';
export const logger = createLogger({ level: 'silent', name: 'test' });
export const T0 = Date.UTC(2026, 10, 26, 14, 30, 0);

export type ManualClock = ReturnType<typeof manualClock>;

export interface MdHarness {
  db: Db;
  bus: Bus;
  clock: ManualClock;
  orders: OrdersService;
  md: MarketDataService;
  app: FastifyInstance;
  /** inject with a forwarded identity (investor by default) */
  req(opts: InjectOptions, who?: ForwardedIdentity | null): Promise<LightMyRequestResponse>;
  tokens: Map<string, VerifiedIdentity>;
  close(): Promise<void>;
}

export const investor: ForwardedIdentity = {
  userId: 'u-investor',
  role: 'investor',
  brokerageId: 'b1',
  username: 'ivy',
  accountId: 'alice',
};
export const admin: ForwardedIdentity = {
  userId: 'u-admin',
  role: 'admin',
  brokerageId: null,
  username: 'root',
  accountId: 'u-admin',
};

export function stubUsers(tokens: Map<string, VerifiedIdentity>): UsersClient {
  return {
    verifyAccessToken: async (token) => tokens.get(token) ?? null,
    verifyApiKey: async () => null,
    getUser: async () => null,
    listUsers: async () => ({ users: [], next_cursor: null }),
    canActFor: async () => false,
    jwks: async () => ({ keys: [] }),
  };
}

export async function makeHarness(
  db: Db,
  opts: { bus?: Bus; config?: MarketDataConfig; listAcme?: boolean } = {},
): Promise<MdHarness> {
  const bus = opts.bus ?? createMemoryBus({ logger });
  const orders = await startService(db, {}, bus);
  if (opts.listAcme !== false) {
    await listAcme(orders.client);
    await fund(orders.client, ['alice', 'bob']);
  }
  const clock = manualClock(T0);
  const tokens = new Map<string, VerifiedIdentity>();
  const md = await createMarketDataService({
    db,
    bus,
    clock,
    logger,
    orders: orders.client,
    users: stubUsers(tokens),
    internalToken: INTERNAL_TOKEN,
    config: { timers: false, ...opts.config },
  });
  const app = Fastify({ logger: false });
  await md.register(app);
  await app.ready();
  return {
    db,
    bus,
    clock,
    orders,
    md,
    app,
    tokens,
    req: (o, who = investor) =>
      app.inject({ ...o, headers: { ...(who ? identityHeaders(who, INTERNAL_TOKEN) : {}), ...o.headers } }),
    async close() {
      await app.close();
      await md.close();
      await orders.close();
    },
  };
}

/** Polls until `check` stops throwing (bus delivery is asynchronous); fails with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, tries = 400): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await check();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw last;
}

/** The answer is problem+json with this status (and, when given, naming this field). */
export function expectProblem(res: LightMyRequestResponse, status: number, field?: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (field !== undefined) {
    const body = res.json() as { errors?: { field: string }[] };
    expect(
      body.errors?.map((e) => e.field),
      res.body,
    ).toContain(field);
  }
}
