/** Starting the orders service in tests, and a small seeded market to trade on. */

import type { ExchangeState } from '../../../src/engine/api.ts';
import { createExchange } from '../../../src/engine/index.ts';
import { createMemoryBus } from '../../../src/platform/bus/memory.ts';
import type { Bus } from '../../../src/platform/bus/types.ts';
import type { Clock } from '../../../src/platform/clock.ts';
import type { Db } from '../../../src/platform/db/types.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import type { OrdersClient } from '../../../src/services/orders/client.ts';
import {
  createOrdersService,
  DEFAULT_EXCHANGE_CONFIG,
  type OrdersService,
  type OrdersServiceConfig,
} from '../../../src/services/orders/index.ts';
import { replayJournal } from '../../../src/services/orders/recovery.ts';

export const logger = createLogger({ level: 'silent', name: 'test' });

/** Deterministic, strictly increasing time. */
export function testClock(start = 1_700_000_000_000): Clock {
  let t = start;
  return { now: () => (t += 1) };
}

export async function startService(
  db: Db,
  config: OrdersServiceConfig = {},
  bus: Bus = createMemoryBus({ logger }),
): Promise<OrdersService> {
  return createOrdersService({ db, bus, clock: testClock(), logger, config });
}

export const SYMBOL = 'ACME';
export const MID = 10_000;

export async function listAcme(client: OrdersClient): Promise<void> {
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
}

/** Accounts with plenty of cash and shares. */
export async function fund(client: OrdersClient, accounts: string[], shares = 100_000): Promise<void> {
  for (const account of accounts) {
    await client.deposit(account, { amount: 10_000_000_000 });
    await client.transferShares(account, { symbol: SYMBOL, qty: shares, cost: shares * MID });
  }
}

/** The state a fresh engine reaches by replaying the journal of `db`. */
export async function replayedState(db: Db): Promise<{ state: ExchangeState; lastSeq: number }> {
  const { state } = await replayJournal(db, { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG });
  return { state: state.engine.exportState(), lastSeq: state.lastSeq };
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${sql}`, params);
  return rows[0]!.n;
}

/** A tiny seeded PRNG for order streams. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
