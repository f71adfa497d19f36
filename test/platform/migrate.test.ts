import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/platform/db/migrate.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { forEachDb } from '../support/db.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A migrations folder holding exactly these files. */
async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-migrations-'));
  dirs.push(dir);
  await Promise.all(Object.entries(files).map(([name, sql]) => writeFile(join(dir, name), sql)));
  return dir;
}

const tables = async (db: Db) =>
  (
    await db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  ).rows.map((r) => r.name);

forEachDb('migrate', (makeDb) => {
  it('applies the repository migrations, then finds nothing to do', async () => {
    const db = await makeDb(); // migrated by the harness, with the same runner
    const files = (await readMigrations()).map((m) => m.name);
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.name)).toEqual(files);
    expect(await migrate(db)).toEqual({ applied: [] });
  });

  it('applies files in numeric order, once each, recording them', async () => {
    const db = await makeDb({ migrations: false });
    const dir = await folder({
      '002_b.sql': 'ALTER TABLE a ADD COLUMN note text; INSERT INTO a VALUES (1, $$x$$);',
      '001_a.sql': 'CREATE TABLE a (id int8 PRIMARY KEY);',
      'README.md': 'not a migration',
    });
    expect(await migrate(db, dir)).toEqual({ applied: ['001_a.sql', '002_b.sql'] });
    expect(await migrate(db, dir)).toEqual({ applied: [] });
    await writeFile(join(dir, '010_c.sql'), 'CREATE TABLE c (id int8);');
    expect(await migrate(db, dir)).toEqual({ applied: ['010_c.sql'] });
    expect((await db.query('SELECT * FROM a')).rows).toEqual([{ id: 1, note: 'x' }]);
    const { rows } = await db.query(
      'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual([
      { version: 1, name: '001_a.sql', applied_at: expect.any(Date) },
      { version: 2, name: '002_b.sql', applied_at: expect.any(Date) },
      { version: 10, name: '010_c.sql', applied_at: expect.any(Date) },
    ]);
  });

  it('rolls a failing migration back whole, names it, and keeps the earlier ones', async () => {
    const db = await makeDb({ migrations: false });
    const dir = await folder({
      '001_ok.sql': 'CREATE TABLE ok (id int8);',
      '002_bad.sql': 'CREATE TABLE half (id int8); INSERT INTO nowhere VALUES (1);',
      '003_never.sql': 'CREATE TABLE never (id int8);',
    });
    await expect(migrate(db, dir)).rejects.toThrow(/Migration 002_bad\.sql failed: .*nowhere/);
    expect(await tables(db)).toEqual(['ok', 'schema_migrations']);
    await writeFile(join(dir, '002_bad.sql'), 'CREATE TABLE half (id int8);');
    expect(await migrate(db, dir)).toEqual({ applied: ['002_bad.sql', '003_never.sql'] });
  });

  it('refuses an applied migration whose file has since changed', async () => {
    const db = await makeDb({ migrations: false });
    const dir = await folder({ '001_a.sql': 'CREATE TABLE a (id int8);' });
    await migrate(db, dir);
    await writeFile(join(dir, '001_a.sql'), 'CREATE TABLE a (id int8, extra text);');
    await expect(migrate(db, dir)).rejects.toThrow(/001_a\.sql was changed after it was applied/);
  });

  it('refuses badly named or duplicate-numbered files', async () => {
    const db = await makeDb({ migrations: false });
    await expect(migrate(db, await folder({ '1_a.sql': 'SELECT 1;' }))).rejects.toThrow(
      /not named NNN_name\.sql/,
    );
    await expect(
      migrate(db, await folder({ '001_a.sql': 'SELECT 1;', '001_b.sql': 'SELECT 1;' })),
    ).rejects.toThrow(/share a number/);
    await expect(migrate(db, join(tmpdir(), 'bourse-no-such-dir'))).rejects.toThrow(/does not exist/);
  });
});

describeWithPostgres('migrate, several processes at once [postgres]', () => {
  it('applies each file exactly once while others wait on the lock', async () => {
    const database = await createTestDatabase(serviceUrl('postgres'));
    // Separate pools stand for separate processes. Each step sleeps so that, without the lock,
    // the racers would collide (duplicate CREATE TABLE, two rows in `runs`).
    const dir = await folder({
      '001_runs.sql':
        'CREATE TABLE runs (migration int8); SELECT pg_sleep(0.2); INSERT INTO runs VALUES (1);',
      '002_more.sql': 'SELECT pg_sleep(0.2); INSERT INTO runs VALUES (2);',
      '003_last.sql': 'CREATE TABLE last (id int8); INSERT INTO runs VALUES (3);',
    });
    const dbs = await Promise.all(
      Array.from({ length: 4 }, () => openPostgres({ connectionString: database.url, max: 2 })),
    );
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db, dir)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual([
        '001_runs.sql',
        '002_more.sql',
        '003_last.sql',
      ]);
      const { rows } = await dbs[0]!.query('SELECT migration FROM runs ORDER BY migration');
      expect(rows).toEqual([{ migration: 1 }, { migration: 2 }, { migration: 3 }]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await database.drop();
    }
  });
});
