/**
 * Recovery in-process: a restarted service, a fresh journal replay and the previous instance
 * agree; a failed commit rejects what it held and rebuilds; tampered tables stop the start.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import type { Db } from '../../src/platform/db/types.ts';
import type { NewOrderRequest, OrdersClient } from '../../src/services/orders/client.ts';
import { OrdersApiError } from '../../src/services/orders/client.ts';
import {
  compareDerivedTables,
  DEFAULT_EXCHANGE_CONFIG,
  type OrdersService,
  RecoveryError,
  restore,
  verifyOrders,
} from '../../src/services/orders/index.ts';
import { journalStatementSql } from '../../src/services/orders/persistence.ts';
import { forEachDb } from '../support/db.ts';
import { count, fund, listAcme, MID, prng, replayedState, SYMBOL, startService } from './support/service.ts';

// A PGlite cold start (first database of a worker) takes tens of seconds on a busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];

/** A seeded mix of every command kind, sent in concurrent waves so batches hold many commands. */
async function tradeRandomly(client: OrdersClient, seed: number, waves: number): Promise<void> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const open: { account: string; id: number }[] = [];
  let n = 0;
  for (let w = 0; w < waves; w++) {
    const wave: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const account = pick(ACCOUNTS);
      const roll = rnd();
      const side = rnd() < 0.5 ? ('buy' as const) : ('sell' as const);
      const away = 1 + Math.floor(rnd() * 20);
      let call: Promise<unknown>;
      if (roll < 0.15 && open.length > 0) {
        const o = open.splice(Math.floor(rnd() * open.length), 1)[0]!;
        call = client.cancelOrder(o.account, o.id);
      } else if (roll < 0.25 && open.length > 0) {
        const o = open[Math.floor(rnd() * open.length)]!;
        call = client.replaceOrder(
          o.account,
          o.id,
          rnd() < 0.5 ? { qty: 1 + Math.floor(rnd() * 50) } : { price: MID - 30 + Math.floor(rnd() * 60) },
        );
      } else {
        let request: NewOrderRequest;
        if (roll < 0.35) request = { symbol: SYMBOL, side, type: 'market', qty: 1 + Math.floor(rnd() * 30) };
        else if (roll < 0.45) {
          request = {
            symbol: SYMBOL,
            side,
            type: 'stop_limit',
            tif: 'gtc',
            qty: 1 + Math.floor(rnd() * 30),
            stopPrice: side === 'buy' ? MID + away : MID - away,
            price: side === 'buy' ? MID + away + 2 : MID - away - 2,
          };
        } else {
          const crossing = roll > 0.85;
          request = {
            symbol: SYMBOL,
            side,
            type: 'limit',
            tif: pick(['day', 'gtc', 'ioc'] as const),
            qty: 1 + Math.floor(rnd() * 60),
            price: side === 'buy' ? MID - (crossing ? -3 : away) : MID + (crossing ? -3 : away),
            clientOrderId: `${account}-${n++}`,
          };
        }
        call = client.submitOrder(account, request).then(({ order }) => {
          if (order.status === 'new' || order.status === 'partially_filled')
            open.push({ account, id: order.id });
        });
      }
      // rejections (a cancel racing a fill, insufficient shares, ...) are part of the mix
      wave.push(call.catch((err) => expect(err).toBeInstanceOf(OrdersApiError)));
    }
    await Promise.all(wave);
  }
}

async function waitUntilRunning(service: OrdersService): Promise<void> {
  for (let i = 0; i < 600 && service.sequencer.status() !== 'running'; i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(service.sequencer.status()).toBe('running');
}

/** A Db whose journal commit fails on demand: before it runs, or after it committed. */
function faulty(db: Db): Db & { fail: null | 'before' | 'after' } {
  const wrapped = {
    ...db,
    fail: null as null | 'before' | 'after',
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      if (sql === journalStatementSql && wrapped.fail) {
        const when = wrapped.fail;
        wrapped.fail = null;
        if (when === 'before') throw new Error('injected: connection lost before commit');
        await db.query(sql, params);
        throw new Error('injected: connection lost after commit');
      }
      return db.query<R>(sql, params);
    },
  };
  return wrapped;
}

forEachDb('orders recovery', (makeDb) => {
  const services: OrdersService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });
  const start = async (db: Db, config = {}) => {
    const s = await startService(db, config);
    services.push(s);
    return s;
  };

  it('a restarted service, a fresh replay and the previous instance hold the same state', async () => {
    const db = await makeDb();
    const first = await start(db);
    await listAcme(first.client);
    await fund(first.client, ACCOUNTS, 5_000);
    await tradeRandomly(first.client, 7, 25);
    await first.close();
    services.splice(services.indexOf(first), 1);
    const before = first.sequencer.engine().exportState();
    expect(before.nextTradeId).toBeGreaterThan(1); // the mix did trade

    const second = await start(db);
    expect(second.sequencer.engine().exportState()).toEqual(before);
    const replay = await replayedState(db);
    expect(replay.state).toEqual(before);
    expect(replay.lastSeq).toBe(first.sequencer.committedSeq());
    expect(await compareDerivedTables(db, replay.state, replay.lastSeq)).toEqual([]);

    // and it carries on: ids continue, books are live
    await tradeRandomly(second.client, 8, 5);
    const after = await replayedState(db);
    expect(second.sequencer.engine().exportState()).toEqual(after.state);
  });

  it('a failed commit rejects every uncommitted command (retriable), rebuilds, and goes on', async () => {
    const inner = await makeDb();
    const db = faulty(inner);
    const service = await start(db);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    const journalBefore = await count(db, 'journal');

    db.fail = 'before';
    const outcomes = await Promise.allSettled(
      ACCOUNTS.map((account, i) =>
        service.client.submitOrder(account, {
          symbol: SYMBOL,
          side: 'buy',
          type: 'limit',
          tif: 'gtc',
          qty: 1,
          price: MID - 1 - i,
          clientOrderId: 'lost',
        }),
      ),
    );
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const problem = ((o as PromiseRejectedResult).reason as OrdersApiError).problem;
      expect(problem).toMatchObject({
        status: 503,
        type: 'https://bourse.dev/problems/commit-failed',
        retriable: true,
      });
    }
    await waitUntilRunning(service);
    expect(await count(db, 'journal')).toBe(journalBefore);
    expect(await count(db, "orders WHERE client_order_id = 'lost'")).toBe(0);
    expect(service.sequencer.engine().exportState()).toEqual((await replayedState(db)).state);

    // the retry is a fresh order: the failed attempt left no key behind
    const retry = await service.client.submitOrder('a0', {
      symbol: SYMBOL,
      side: 'buy',
      type: 'limit',
      tif: 'gtc',
      qty: 1,
      price: MID - 1,
      clientOrderId: 'lost',
    });
    expect(retry.replayed).toBe(false);
    expect(service.sequencer.stats().failedCommits).toBe(1);
  });

  it('a commit that landed but reported failure is found on rebuild; the retry returns the original', async () => {
    const inner = await makeDb();
    const db = faulty(inner);
    const service = await start(db);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    const request = {
      symbol: SYMBOL,
      side: 'sell' as const,
      type: 'limit' as const,
      tif: 'gtc' as const,
      qty: 3,
      price: MID + 7,
      clientOrderId: 'in-doubt',
    };
    db.fail = 'after';
    await expect(service.client.submitOrder('a1', request)).rejects.toMatchObject({
      problem: { status: 503 },
    });
    await waitUntilRunning(service);
    const retry = await service.client.submitOrder('a1', request);
    expect(retry).toMatchObject({
      replayed: true,
      order: { status: 'new', qty: 3, clientOrderId: 'in-doubt' },
    });
    expect(await count(db, "orders WHERE client_order_id = 'in-doubt'")).toBe(1);
    expect(service.sequencer.engine().exportState()).toEqual((await replayedState(db)).state);
  });

  it('refuses to start when the derived tables disagree with the journal', async () => {
    const db = await makeDb();
    const service = await start(db);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await service.close();
    services.length = 0;
    await db.query("UPDATE accounts SET cash = cash + 1 WHERE account = 'a3'");
    const refused = startService(db);
    await expect(refused).rejects.toBeInstanceOf(RecoveryError);
    await expect(refused).rejects.toThrow(/account a3/);
  });

  it('refuses to start under exchange rules that would rewrite history', async () => {
    const db = await makeDb();
    const service = await start(db);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await tradeRandomly(service.client, 3, 6);
    await service.close();
    services.length = 0;
    const otherFees = {
      fees: { makerBps: 50, takerBps: 90 },
      selfTradePrevention: 'cancel_resting' as const,
      feeAccount: 'bourse-fees',
    };
    await expect(startService(db, { exchange: otherFees })).rejects.toBeInstanceOf(RecoveryError);
  });

  it('restarts from a snapshot plus the journal after it, and bourse verify checks both against a full replay', async () => {
    const db = await makeDb();
    const first = await start(db, { snapshotEvery: 40, snapshotIntervalMs: 0 });
    await listAcme(first.client);
    await fund(first.client, ACCOUNTS, 5_000);
    await tradeRandomly(first.client, 11, 12);
    await first.snapshot();
    await tradeRandomly(first.client, 12, 4);
    const before = first.sequencer.engine().exportState();
    const options = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };
    const restored = await restore(db, options);
    expect(restored.snapshotSeq).toBeGreaterThan(0);
    expect(restored.replayed).toBe(restored.lastSeq - restored.snapshotSeq);
    expect(restored.engine.exportState()).toEqual(before);
    // verify compares the tables at their watermark: let the projector finish first, or the
    // tables move on between reading the watermark and reading them
    const committed = first.sequencer.committedSeq();
    await vi.waitFor(() => expect(first.projectedSeq()).toBe(committed), { timeout: 10_000 });
    const ok = await verifyOrders(db, options);
    expect(ok.differences).toEqual([]);
    // snapshots by count go on in the background
    expect(ok.snapshotSeq).toBeGreaterThanOrEqual(restored.snapshotSeq);

    await first.close();
    services.length = 0;
    await db.query("UPDATE accounts SET reserved = reserved + 1 WHERE account = 'a2'");
    const tampered = await verifyOrders(db, options);
    expect(tampered.differences.join('\n')).toMatch(/account a2/);
    await db.query("UPDATE accounts SET reserved = reserved - 1 WHERE account = 'a2'");
    await db.query(
      "UPDATE orders_snapshots SET sha256 = 'x' WHERE seq = (SELECT max(seq) FROM orders_snapshots)",
    );
    const damaged = await verifyOrders(db, options);
    expect(damaged.differences.join('\n')).toMatch(/digest mismatch/);
    // a damaged snapshot is passed over on start: the one before it (or the whole journal) is used
    const second = await start(db);
    expect(second.sequencer.engine().exportState()).toEqual(before);
  });
});
