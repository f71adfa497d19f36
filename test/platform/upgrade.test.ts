/**
 * Upgrades: released migrations never change (migrations/checksums.txt) and only move forward;
 * a data folder made by the previous schema version opens with the current code, which migrates
 * it (`bourse migrate --dry-run` first says what it would apply) and finds every row intact.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createExchange } from '../../src/engine/index.ts';
import { tablesInOrder } from '../../src/platform/db/backup.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/platform/db/migrate.ts';
import { openPglite } from '../../src/platform/db/pglite.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { DEFAULT_EXCHANGE_CONFIG, verifyOrders } from '../../src/services/orders/index.ts';
import { fund, listAcme, startService } from '../orders/support/service.ts';
import { TRADERS, trade } from '../orders/support/trading.ts';
import { makePgliteDb } from '../support/db.ts';
import { scoped } from '../support/lifecycle.ts';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function manifest(): Promise<Map<string, string>> {
  const text = await readFile(join(MIGRATIONS_DIR, 'checksums.txt'), 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [name, sum] = line.trim().split(/\s+/);
    out.set(name!, sum!);
  }
  return out;
}

it('never changes a released migration, and adds new ones only after them', async () => {
  const released = await manifest();
  const files = await readMigrations();
  const byName = new Map(files.map((m) => [m.name, m]));
  for (const [name, sum] of released) {
    expect(byName.has(name), `${name} is released: it may not be removed or renamed`).toBe(true);
    expect(byName.get(name)!.checksum, `${name} was released: add a new migration instead`).toBe(sum);
  }
  const newestReleased = Math.max(...files.filter((m) => released.has(m.name)).map((m) => m.version));
  for (const m of files.filter((f) => !released.has(f.name)))
    expect(m.version, `${m.name} comes before released migrations`).toBeGreaterThan(newestReleased);
  expect(released.size).toBeGreaterThan(0);
});

/**
 * Copies every row of `from` into the same-named tables of `to`, keeping only the columns `to` has
 * (rows both have from the migrations themselves, a default brokerage, stay once).
 */
async function copyRows(from: Db, to: Db): Promise<number> {
  const names = await tablesInOrder(to);
  let copied = 0;
  for (const name of names) {
    const { rows } = await from.query<{ j: string }>(`SELECT to_jsonb(t)::text AS j FROM "${name}" t`);
    if (rows.length === 0) continue;
    await to.query(
      `INSERT INTO "${name}" OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_recordset(NULL::"${name}", $1::jsonb)
       ON CONFLICT DO NOTHING`,
      [`[${rows.map((r) => r.j).join(',')}]`],
    );
    copied += rows.length;
  }
  return copied;
}

describe('upgrade [pglite]', () => {
  const makeDb = scoped(makePgliteDb);

  it('opens a data folder of the previous schema version, migrates it, and keeps every row', async () => {
    const migrations = await readMigrations();
    const current = migrations.at(-1)!;
    const previous = migrations.at(-2)!;

    // what the previous release would have written: a traded exchange, snapshots included
    const source = await makeDb();
    const service = await startService(source, { snapshotEvery: 100, snapshotIntervalMs: 0 });
    await listAcme(service.client);
    await fund(service.client, TRADERS);
    await trade(service.client, 21, 20);
    await service.close();
    const expected = service.sequencer.engine().exportState();

    const dir = await mkdtemp(join(tmpdir(), 'bourse-upgrade-'));
    dirs.push(dir);
    const old = await openPglite({ dataDir: dir });
    expect((await migrate(old, MIGRATIONS_DIR, { upTo: previous.version })).applied.at(-1)).toBe(
      previous.name,
    );
    const copied = await copyRows(source, old);
    expect(copied).toBeGreaterThan(0);
    await old.close();

    const db = await openPglite({ dataDir: dir });
    try {
      const before = await db.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(await migrate(db, MIGRATIONS_DIR, { dryRun: true })).toEqual({ applied: [current.name] });
      // a dry run changes nothing
      expect((await db.query('SELECT count(*)::int AS n FROM schema_migrations')).rows).toEqual(before.rows);
      expect(await migrate(db)).toEqual({ applied: [current.name] });
      expect(await migrate(db, MIGRATIONS_DIR, { dryRun: true })).toEqual({ applied: [] });

      for (const table of ['journal', 'orders', 'trades', 'accounts', 'orders_snapshots']) {
        const a = await source.query(`SELECT count(*)::int AS n FROM ${table}`);
        const b = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
        expect(b.rows, table).toEqual(a.rows);
      }
      const opts = { createExchange, exchangeConfig: DEFAULT_EXCHANGE_CONFIG };
      expect((await verifyOrders(db, opts)).differences).toEqual([]);
      const upgraded = await startService(db);
      expect(upgraded.sequencer.engine().exportState()).toEqual(expected);
      await trade(upgraded.client, 22, 2);
      await upgraded.close();
    } finally {
      await db.close();
    }
  });
});
