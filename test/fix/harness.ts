/**
 * The FIX service against real services: the orders service (its in-process client) and the users
 * service on one database and bus, the FIX acceptor on a free port, and traders with API keys,
 * cash and shares. Nothing is mocked; the clients speak FIX over TCP.
 */
import { expect } from 'vitest';
import type { Bus } from '../../src/platform/bus/types.ts';
import type { Clock } from '../../src/platform/clock.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMemoryRateLimiter } from '../../src/platform/ratelimit/memory.ts';
import type { RateLimiter } from '../../src/platform/ratelimit/types.ts';
import { createFixService, type FixConfig, type FixService } from '../../src/services/fix/index.ts';
import type { OrdersClient } from '../../src/services/orders/client.ts';
import { createOrdersService, type OrdersService } from '../../src/services/orders/index.ts';
import { type Harness, makeHarness } from '../users/harness.ts';

export const SYMBOL = 'ACME';
/** $100.00 */
export const MID = 10_000;

export const logger = createLogger({
  level: (process.env.FIX_TEST_LOG as 'info') ?? 'silent',
  name: 'fix-test',
});

/** Monotonic wall-clock time: order timestamps stay increasing across restarts. */
export function monotonicClock(): Clock {
  let t = 0;
  return { now: () => (t = Math.max(t + 1, Date.now())) };
}

export interface Trader {
  userId: string;
  keyId: string;
  secret: string;
}

export interface FixStack {
  db: Db;
  bus: Bus;
  users: Harness;
  orders: OrdersService;
  /** the orders service as another channel (REST, the web terminal) reaches it */
  client: OrdersClient;
  fix: FixService;
  limiter: RateLimiter;
  /** An investor (or, with `role`, a broker) with an API key, cash and shares. */
  trader(opts?: { role?: 'broker'; brokerageId?: string }): Promise<Trader>;
  /** Stops the FIX service (Logout to every session). */
  stopFix(): Promise<void>;
  /** Starts a new FIX service on the same data (a free port: read `fix.port`). */
  startFix(): Promise<FixService>;
  close(): Promise<void>;
}

export const TEST_FIX_CONFIG: FixConfig = {
  port: 0,
  host: '127.0.0.1',
  logonPerIp: { capacity: 100, refillPerSec: 10 },
  logonPerKey: { capacity: 20, refillPerSec: 1 },
  orderRule: { capacity: 1000, refillPerSec: 1000 },
};

export async function startStack(db: Db, bus: Bus, config: Partial<FixConfig> = {}): Promise<FixStack> {
  const clock = monotonicClock();
  const users = await makeHarness(db, { bus });
  const orders = await createOrdersService({ db, bus, clock, logger });
  const client = orders.client;
  await client.addInstrument({
    symbol: SYMBOL,
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 0,
    collarBps: 1000,
    referencePrice: MID,
  });
  const limiter = createMemoryRateLimiter();
  const fixConfig = { ...TEST_FIX_CONFIG, ...config };
  const start = () =>
    createFixService({
      db,
      bus,
      clock,
      logger,
      orders: client,
      users: users.svc.client,
      limiter,
      config: fixConfig,
    });
  const stack: FixStack = {
    db,
    bus,
    users,
    orders,
    client,
    limiter,
    fix: await start(),
    async trader(opts = {}) {
      const u = await users.user(opts);
      const res = await users.req({
        method: 'POST',
        url: '/api-keys',
        headers: u.auth,
        payload: { name: 'fix' },
      });
      expect(res.statusCode, res.body).toBe(201);
      const key = res.json() as { id: string; secret: string };
      await client.deposit(u.id, { amount: 100_000_000 });
      await client.transferShares(u.id, { symbol: SYMBOL, qty: 10_000, cost: 10_000 * MID });
      return { userId: u.id, keyId: key.id, secret: key.secret };
    },
    async stopFix() {
      await stack.fix.close();
    },
    async startFix() {
      stack.fix = await start();
      return stack.fix;
    },
    async close() {
      await stack.fix.close();
      await orders.close();
      await users.close();
    },
  };
  return stack;
}
