/**
 * What the embedded default promises, checked: `bourse start` on PGlite (no DATABASE_URL) is
 * killed with SIGKILL mid-stream, and every acknowledged order is in its data directory: in the
 * journal, in the tables once the next start has projected the tail, and in the restored engine,
 * which equals a full replay. (PGlite writes its files through the operating system without fsync:
 * the promise is "survives the process", not "survives the machine"; README, Durability.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import { openPglite, type PgliteDb } from '../../src/platform/db/pglite.ts';
import { httpOrdersClient, OrdersApiError, type OrdersClient } from '../../src/services/orders/client.ts';
import {
  compareDerivedTables,
  createOrdersService,
  DEFAULT_EXCHANGE_CONFIG,
  replayJournal,
} from '../../src/services/orders/index.ts';
import { makePgliteDb } from '../support/db.ts';
import { type Child, freePort, spawnService, TEST_INTERNAL_TOKEN, waitReady } from './support/process.ts';
import { logger, MID, prng, SYMBOL, testClock } from './support/service.ts';

// PGlite's first start (initdb) takes tens of seconds on a busy 2-core machine
vi.setConfig({ testTimeout: 600_000 });

const ACCOUNTS = ['p0', 'p1', 'p2', 'p3'];
const ACKS_BEFORE_KILL = 300;

async function stream(client: OrdersClient, account: string, seed: number, acked: number[]): Promise<void> {
  const rnd = prng(seed);
  for (let i = 0; ; i++) {
    const side = rnd() < 0.5 ? ('buy' as const) : ('sell' as const);
    const crossing = rnd() < 0.2;
    const away = crossing ? -2 : 1 + Math.floor(rnd() * 20);
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
      return;
    }
  }
}

it('the embedded default (PGlite) keeps every acknowledged order through kill -9', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-pglite-crash-'));
  const children: Child[] = [];
  onTestFinished(async () => {
    for (const c of children)
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const env = { DATABASE_URL: '', BOURSE_DATA_DIR: dir, BOURSE_SNAPSHOT_EVERY: '200' };
  // the data directory starts as a copy of the tests' migrated cluster (initdb is slow)
  const template = await makePgliteDb();
  const tarball = await (template.value as PgliteDb).dumpDataDir();
  await template.dispose();
  await (await openPglite({ dataDir: join(dir, 'pglite'), loadDataDir: tarball })).close();

  const port = await freePort();
  const first = spawnService('', port, env);
  children.push(first);
  await waitReady(first, port, 240_000);
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
    await client.deposit(account, { amount: 1_000_000_000 });
    await client.transferShares(account, { symbol: SYMBOL, qty: 1_000_000, cost: 1_000_000 * MID });
  }
  const acked: number[] = [];
  const streams = ACCOUNTS.map((account, i) => stream(client, account, 31 + i, acked));
  while (acked.length < ACKS_BEFORE_KILL) {
    if (first.process.exitCode !== null) throw new Error(`service died by itself:\n${first.output.join('')}`);
    await new Promise((r) => setImmediate(r));
  }
  first.process.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  await Promise.all(streams);

  // the data directory as the kill left it
  const db = await openPglite({ dataDir: join(dir, 'pglite') });
  let closed = false;
  onTestFinished(async () => {
    if (!closed) await db.close();
  });
  const journaled = new Set(
    (
      await db.query<{ id: number }>(
        `SELECT (command->>'id')::int8 AS id FROM journal WHERE command->>'type' = 'new_order'`,
      )
    ).rows.map((r) => r.id),
  );
  for (const id of acked) expect(journaled.has(id), `acked order ${id} in the journal`).toBe(true);

  // a restart projects the tail, and its state is the full replay's
  const full = await replayJournal(db, { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG });
  const service = await createOrdersService({
    db,
    bus: createMemoryBus({ logger }),
    clock: testClock(),
    logger,
  });
  expect(service.sequencer.engine().exportState()).toEqual(full.state.engine.exportState());
  expect(await compareDerivedTables(db, full.state.engine.exportState(), full.state.lastSeq)).toEqual([]);
  const rows = (await db.query<{ id: number }>('SELECT id FROM orders')).rows.map((r) => r.id);
  const inTables = new Set(rows);
  for (const id of acked) expect(inTables.has(id), `acked order ${id} in the tables`).toBe(true);
  await service.close();
  await db.close();
  closed = true;
});
