/**
 * Journal retention (src/services/orders/retention.ts): entries covered by the kept snapshots
 * move to gzip'd segment files and leave the table; a restart, the reports and `bourse verify`
 * are unchanged, and recovery refuses (naming the archive) when no snapshot covers the pruned part.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { createMemoryBus } from '../../src/platform/bus/memory.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { listSegments, readArchive } from '../../src/services/orders/archive.ts';
import {
  createOrdersService,
  DEFAULT_EXCHANGE_CONFIG,
  type OrdersServiceConfig,
  RecoveryError,
  replayJournal,
  restore,
  verifyOrders,
} from '../../src/services/orders/index.ts';
import { as, fakeUsers, getJson, reportingApp, user } from '../reporting/support.ts';
import { forEachDb } from '../support/db.ts';
import { count, fund, listAcme, logger, testClock } from './support/service.ts';
import { TRADERS, trade } from './support/trading.ts';

// one clock across restarts: retention compares entry times with "now"
const clock = testClock();
const startService = (db: Db, config: OrdersServiceConfig) =>
  createOrdersService({ db, bus: createMemoryBus({ logger }), clock, logger, config });

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const ACCOUNTS = TRADERS;

const options = (archiveDir: string) => ({
  createExchange,
  exchangeConfig: DEFAULT_EXCHANGE_CONFIG,
  archiveDir,
});

/** Every account's statement and performance, as the reporting service answers them. */
async function reports(db: Db): Promise<unknown[]> {
  const app = await reportingApp(db, fakeUsers(ACCOUNTS.map((a) => user(a))), {
    now: () => 1_700_000_000_000 + 86_400_000,
  });
  const out: unknown[] = [];
  for (const a of ACCOUNTS) {
    out.push(await getJson(app, '/v1/reports/statement?from=2023-11-01&to=2023-11-15', as(a)));
    out.push(await getJson(app, '/v1/reports/performance?from=2023-11-01&to=2023-11-15', as(a)));
  }
  await app.close();
  return out;
}

forEachDb('orders: journal retention', (makeDb) => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const archiveDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'bourse-archive-'));
    dirs.push(d);
    return d;
  };

  it('archives what the kept snapshots cover; restart, reports and verify are unchanged', async () => {
    const db = await makeDb();
    const dir = await archiveDir();
    const config: OrdersServiceConfig = {
      archiveDir: dir,
      journalRetain: 0,
      idempotencyWindowMs: 0,
      pruneIntervalMs: 0,
      snapshotEvery: 0,
      snapshotIntervalMs: 0,
    };
    let service = await startService(db, config);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await trade(service.client, 1, 15);
    await service.snapshot();
    await trade(service.client, 2, 15);
    await service.snapshot();
    await trade(service.client, 3, 10);
    const before = service.sequencer.engine().exportState();
    const committed = service.sequencer.committedSeq();
    // reporting reads the derived tables: let the projector (which gathers for a moment) reach
    // everything acknowledged before taking the reference reports
    await vi.waitFor(() => expect(service.projectedSeq()).toBe(committed), { timeout: 10_000 });
    const reportsBefore = await reports(db);
    expect((reportsBefore[0] as { trades: unknown[] }).trades.length).toBeGreaterThan(0);

    // retention also runs after each snapshot: this joins or repeats it
    const pruned = await service.prune();
    const oldest = (await db.query<{ seq: number }>('SELECT min(seq)::int8 AS seq FROM orders_snapshots'))
      .rows[0]!.seq;
    // up to the older of the two kept snapshots: the newer one's fallback still restores
    expect(pruned?.archivedSeq).toBe(oldest);
    expect(await count(db, 'journal')).toBe(committed - oldest);
    expect(committed - oldest).toBeLessThan(committed);
    expect(await count(db, 'journal WHERE seq <= $1', [oldest])).toBe(0);
    const archived: number[] = [];
    for await (const row of readArchive(dir)) archived.push(row.seq);
    expect(archived).toEqual(Array.from({ length: oldest }, (_, i) => i + 1));
    expect((await listSegments(dir)).length).toBeGreaterThan(0);
    // nothing newer than the oldest snapshot may go, whatever the retention asks
    expect((await service.prune())?.archived).toBe(0);
    await service.close();

    service = await startService(db, config);
    expect(service.sequencer.committedSeq()).toBe(committed);
    expect(service.sequencer.engine().exportState()).toEqual(before);
    expect(await reports(db)).toEqual(reportsBefore);
    // the archive plus the table is still the whole journal
    const full = await replayJournal(db, options(dir));
    expect(full.state.engine.exportState()).toEqual(before);
    const v = await verifyOrders(db, options(dir));
    expect(v).toMatchObject({ seq: committed, baselineSeq: 0, differences: [] });
    // without the archive, verify starts from the oldest kept snapshot instead (closing took one
    // more, so that is the second of the two before)
    const keptOldest = (await db.query<{ seq: number }>('SELECT min(seq)::int8 AS seq FROM orders_snapshots'))
      .rows[0]!.seq;
    expect(keptOldest).toBeGreaterThan(oldest);
    const withoutArchive = await verifyOrders(db, options(join(dir, 'gone')));
    expect(withoutArchive).toMatchObject({ baselineSeq: keptOldest, differences: [] });

    // trading goes on after a pruned start, and a later snapshot lets more go
    await trade(service.client, 4, 5);
    await service.snapshot();
    const again = await service.prune();
    expect(again?.archivedSeq).toBeGreaterThan(oldest);
    await service.close();
  });

  it('keeps the newest BOURSE_JOURNAL_RETAIN commands, and those inside the idempotency window', async () => {
    const db = await makeDb();
    const dir = await archiveDir();
    const base = { archiveDir: dir, pruneIntervalMs: 0, snapshotEvery: 0, snapshotIntervalMs: 0 };
    let service = await startService(db, { ...base, journalRetain: 50, idempotencyWindowMs: 0 });
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await trade(service.client, 5, 20);
    await service.snapshot();
    await service.snapshot();
    const committed = service.sequencer.committedSeq();
    expect((await service.prune())?.archivedSeq).toBe(committed - 50);
    expect(await count(db, 'journal')).toBe(50);
    await service.close();

    // a day-long idempotency window keeps everything the test made (its clock is minutes long)
    const dir2 = await archiveDir();
    const db2 = await makeDb();
    service = await startService(db2, { ...base, archiveDir: dir2, journalRetain: 0 });
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await service.snapshot();
    await service.snapshot();
    expect((await service.prune())?.archived).toBe(0);
    expect(await listSegments(dir2)).toEqual([]);
    await service.close();
  });

  it('refuses to start, naming the archive, when no usable snapshot covers the archived journal', async () => {
    const db = await makeDb();
    const dir = await archiveDir();
    const config: OrdersServiceConfig = {
      archiveDir: dir,
      journalRetain: 0,
      idempotencyWindowMs: 0,
      pruneIntervalMs: 0,
      snapshotEvery: 0,
      snapshotIntervalMs: 0,
    };
    const service = await startService(db, config);
    await listAcme(service.client);
    await fund(service.client, ACCOUNTS);
    await trade(service.client, 6, 5);
    await service.snapshot();
    await trade(service.client, 7, 5);
    await service.snapshot();
    expect((await service.prune())?.archivedSeq).toBeGreaterThan(0);
    await service.close();
    // both kept snapshots damaged
    await db.query("UPDATE orders_snapshots SET sha256 = 'damaged'");
    const err = await restore(db, options(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as Error).message).toContain(`archived to ${dir}`);
    await expect(startService(db, config)).rejects.toThrow(/archived to/);
  });
});
