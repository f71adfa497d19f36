/**
 * kill -9 while a snapshot is being written, on real PostgreSQL: the orders service runs as a
 * child process taking a snapshot every few hundred commands of a deep book, clients stream
 * orders at it, and it is killed with SIGKILL the moment it logs that it is writing one. Then:
 *   1. every acknowledged order is in the journal and the tables;
 *   2. every snapshot row left is whole (its digest checks) and the restart used one;
 *   3. snapshot + journal tail = a full replay of the journal, and the restarted service, its
 *      tables and a full replay agree.
 */
import { expect, it, onTestFinished, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import { httpOrdersClient, OrdersApiError, type OrdersClient } from '../../src/services/orders/client.ts';
import {
  compareDerivedTables,
  DEFAULT_EXCHANGE_CONFIG,
  replayJournal,
  restore,
} from '../../src/services/orders/index.ts';
import { loadSnapshot } from '../../src/services/orders/snapshots.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';
import { type Child, freePort, spawnService, TEST_INTERNAL_TOKEN, waitReady } from './support/process.ts';
import { MID, prng, SYMBOL } from './support/service.ts';

// start-up and a few thousand HTTP orders take a while on a busy 2-core machine
vi.setConfig({ testTimeout: 240_000 });

const ACCOUNTS = Array.from({ length: 6 }, (_, i) => `snap${i}`);
const EVERY = 250;
/** snapshots started before the kill: the kill lands in the third */
const KILL_AT_SNAPSHOT = 3;

async function stream(client: OrdersClient, account: string, seed: number, acked: number[]): Promise<void> {
  const rnd = prng(seed);
  for (let i = 0; ; i++) {
    const side = rnd() < 0.5 ? ('buy' as const) : ('sell' as const);
    const crossing = rnd() < 0.15;
    const away = crossing ? -2 : 1 + Math.floor(rnd() * 40);
    try {
      const { order } = await client.submitOrder(account, {
        symbol: SYMBOL,
        side,
        type: 'limit',
        tif: crossing ? 'ioc' : 'gtc',
        qty: 1 + Math.floor(rnd() * 10),
        price: side === 'buy' ? MID - away : MID + away,
        clientOrderId: `${account}-${i}`,
      });
      acked.push(order.id);
    } catch (err) {
      if (err instanceof OrdersApiError && err.status < 500) continue;
      return; // the process is gone
    }
  }
}

describeWithPostgres('orders service killed while writing a snapshot', () => {
  it('loses nothing: acked orders stay, snapshots are whole, snapshot + tail = full replay', async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    const children: Child[] = [];
    onTestFinished(async () => {
      for (const c of children)
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
      await database.drop();
    });
    const env = { BOURSE_SNAPSHOT_EVERY: String(EVERY), LOG_LEVEL: 'info' };

    const port = await freePort();
    const first = spawnService(database.url, port, env);
    children.push(first);
    await waitReady(first, port);
    const client = httpOrdersClient(`http://127.0.0.1:${port}`, { internalToken: TEST_INTERNAL_TOKEN });
    await client.addInstrument({
      symbol: SYMBOL,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 100_000,
      priceBandBps: 0,
      collarBps: 1000,
      referencePrice: MID,
    });
    for (const account of ACCOUNTS) {
      await client.deposit(account, { amount: 10_000_000_000 });
      await client.transferShares(account, { symbol: SYMBOL, qty: 10_000_000, cost: 10_000_000 * MID });
    }

    let started = 0;
    let killedDuring: number | null = null;
    let pending = '';
    first.onOutput = (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('orders: writing snapshot')) continue;
        started++;
        if (started === KILL_AT_SNAPSHOT && killedDuring === null) {
          killedDuring = (JSON.parse(line) as { seq: number }).seq;
          first.process.kill('SIGKILL');
        }
      }
    };
    const acked: number[] = [];
    const streams = ACCOUNTS.map((account, i) => stream(client, account, 77 + i, acked));
    expect((await first.exited).signal).toBe('SIGKILL');
    await Promise.all(streams);
    expect(killedDuring).not.toBeNull();
    expect(acked.length).toBeGreaterThan(2 * EVERY);

    const db = await openPostgres({ connectionString: database.url, max: 2 });
    onTestFinished(() => db.close());
    const one = async <T>(sql: string, params: unknown[] = []): Promise<T> =>
      Object.values((await db.query<Record<string, T>>(sql, params)).rows[0]!)[0] as T;

    // 2. what the kill left: whole snapshots only (the one being written is there whole or absent)
    const rows = (await db.query<{ seq: number }>('SELECT seq FROM orders_snapshots ORDER BY seq')).rows;
    // the two before it at least (the one being written is kept only if its insert had committed)
    expect(rows.filter((r) => r.seq < killedDuring!).length).toBeGreaterThan(0);
    for (const { seq } of rows) {
      const damaged: string[] = [];
      const snap = await loadSnapshot(db, seq, (s, why) => damaged.push(`${s}: ${why}`));
      expect(damaged).toEqual([]);
      expect(snap?.seq).toBe(seq);
    }

    // 3. restart: from a snapshot plus the journal after it
    const port2 = await freePort();
    const second = spawnService(database.url, port2, env);
    children.push(second);
    await waitReady(second, port2);
    const recovered = second.output
      .join('')
      .split('\n')
      .filter((l) => l.includes('state recovered'))
      .map((l) => JSON.parse(l) as { snapshotSeq: number; replayed: number; lastSeq: number })[0]!;
    expect(recovered.snapshotSeq).toBeGreaterThan(0);
    expect(recovered.replayed).toBe(recovered.lastSeq - recovered.snapshotSeq);
    const client2 = httpOrdersClient(`http://127.0.0.1:${port2}`, { internalToken: TEST_INTERNAL_TOKEN });

    // 1. every acknowledged order is there
    for (const id of acked) {
      expect(await one<number>('SELECT count(*)::int8 FROM orders WHERE id = $1', [id]), `order ${id}`).toBe(
        1,
      );
    }
    const lastSeq = await one<number>('SELECT max(seq) FROM journal');
    expect(recovered.lastSeq).toBe(lastSeq);

    const options = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };
    const full = await replayJournal(db, options);
    const fromSnapshot = await restore(db, options);
    expect(fromSnapshot.snapshotSeq).toBeGreaterThan(0);
    expect(fromSnapshot.engine.exportState()).toEqual(full.state.engine.exportState());
    const state = full.state.engine.exportState();
    expect(await compareDerivedTables(db, state, lastSeq)).toEqual([]);
    for (const account of ACCOUNTS) {
      const want = state.accounts.find((a) => a.account === account)!;
      expect(await client2.balance(account)).toMatchObject({ cash: want.cash, reserved: want.reserved });
    }

    second.process.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
