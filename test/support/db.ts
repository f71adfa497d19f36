/**
 * Every integration test that touches a database runs the same body on PGlite and on real
 * PostgreSQL through forEachDb, each makeDb() giving a fresh, isolated, migrated database.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '../../src/platform/db/migrate.ts';
import { openPglite } from '../../src/platform/db/pglite.ts';
import { openPostgres } from '../../src/platform/db/postgres.ts';
import type { Db } from '../../src/platform/db/types.ts';
import { scoped } from './lifecycle.ts';
import { createTestDatabase } from './postgres.ts';
import { describeWithPostgres, serviceUrl } from './services.ts';

export interface MakeDbOptions {
  /** Migrations to apply: the repository's by default, another folder, or none (false). */
  migrations?: string | false;
}

export type MakeDb = (options?: MakeDbOptions) => Promise<Db>;

type Made = { value: Db; dispose: () => Promise<void> };

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/bourse-test/', import.meta.url));

const urls = new WeakMap<Db, string>();

/**
 * The PostgreSQL URL of a database made by makeDb, for a second connection or a child process
 * (recovery tests); undefined on PGlite, which only one instance may open.
 */
export function databaseUrl(db: Db): string | undefined {
  return urls.get(db);
}

/** Registers `${name} [pglite]` and `${name} [postgres]`, the latter needing PostgreSQL. */
export function forEachDb(name: string, body: (makeDb: MakeDb) => void): void {
  describe(`${name} [pglite]`, () => body(scoped(makePgliteDb)));
  describeWithPostgres(`${name} [postgres]`, () => body(scoped(makePostgresDb)));
}

// initdb costs 5-25 s on PGlite here, booting from a tarball of a cluster a few. So the empty
// cluster is made once per machine (cached on disk, keyed by the PGlite version), and each worker
// process migrates one copy per migrations folder and clones that for every makeDb().
const templates = new Map<string, Promise<Blob>>();

function pgliteTemplate(migrations: string | false): Promise<Blob> {
  const key = migrations || '';
  let template = templates.get(key);
  if (!template) {
    template = migrations ? migratedCluster(migrations) : emptyCluster();
    templates.set(key, template);
  }
  return template;
}

async function migratedCluster(migrations: string): Promise<Blob> {
  const db = await openPglite({ loadDataDir: await pgliteTemplate(false) });
  try {
    await migrate(db, migrations);
    return await db.dumpDataDir();
  } finally {
    await db.close();
  }
}

async function emptyCluster(): Promise<Blob> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'));
  const file = join(CACHE_DIR, `pglite-${version}-empty.tar`);
  const cached = await readFile(file).catch(() => undefined);
  if (cached) return new Blob([cached]);
  const db = await openPglite();
  const blob = await db.dumpDataDir();
  await db.close();
  // Written aside and renamed: another worker may be reading or writing the same file.
  await mkdir(CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
  await rename(partial, file);
  return blob;
}

export async function makePgliteDb(options: MakeDbOptions = {}): Promise<Made> {
  const db = await openPglite({ loadDataDir: await pgliteTemplate(options.migrations ?? MIGRATIONS_DIR) });
  return { value: db, dispose: () => db.close().catch(() => {}) };
}

export async function makePostgresDb(options: MakeDbOptions = {}): Promise<Made> {
  const database = await createTestDatabase(serviceUrl('postgres'));
  const db = await openPostgres({ connectionString: database.url, max: 4 });
  const migrations = options.migrations ?? MIGRATIONS_DIR;
  try {
    if (migrations) await migrate(db, migrations);
  } catch (err) {
    await db.close();
    await database.drop();
    throw err;
  }
  urls.set(db, database.url);
  return {
    value: db,
    dispose: async () => {
      await db.close().catch(() => {}); // the test may have closed it already
      await database.drop();
    },
  };
}
