import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './types.ts';

/** The repository's `migrations/` folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** File names applied by this call, in order (with dryRun: those that would be). */
  applied: string[];
}

export interface MigrateOptions {
  /** Stop after this version (restoring a backup made by an older schema, upgrade tests). */
  upTo?: number;
  /** Only list what would be applied; changes nothing (not even schema_migrations). */
  dryRun?: boolean;
}

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Advisory-lock key of the runner ('bourse' in hex); other advisory locks must use other keys. */
export const MIGRATION_LOCK = 0x626f75727365;

/** Reads `NNN_name.sql` files in version order; a misnamed .sql file is an error, never skipped. */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir).catch(notFound(dir))).filter((f) => f.endsWith('.sql'));
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNN_name.sql (lower case)`);
    const sql = await readFile(join(dir, file), 'utf8');
    // Line endings normalised so a Windows checkout does not look like an edited migration.
    const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
    migrations.push({ version: Number(match[1]), name: file, sql, checksum });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    const previous = migrations[i - 1];
    if (previous?.version === m.version)
      throw new Error(`Migrations ${previous.name} and ${m.name} share a number`);
  });
  return migrations;
}

/**
 * Applies pending migrations in order, each in its own transaction together with its
 * `schema_migrations` row. Every step first takes a transaction-scoped advisory lock and then
 * re-reads what is applied, so processes migrating one PostgreSQL database at once queue up and
 * each file runs exactly once. (On PGlite, one connection, the lock is free and changes nothing.)
 * An applied file whose content changed is an error: the database no longer matches the code.
 */
export async function migrate(
  db: Db,
  dir: string = MIGRATIONS_DIR,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const migrations = (await readMigrations(dir)).filter((m) => m.version <= (options.upTo ?? Infinity));
  if (options.dryRun) return { applied: await pending(db, migrations) };
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });

  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      const { rows } = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      const done = rows[0];
      if (done) {
        if (done.checksum !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied; add a new migration instead (or reset a development database)`,
          );
        }
        return false;
      }
      try {
        await tx.exec(migration.sql);
      } catch (err) {
        throw new Error(`Migration ${migration.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return { applied };
}

/** The migrations not yet applied; a changed applied file is the same error as in migrate(). */
async function pending(db: Db, migrations: Migration[]): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  const done = new Map<number, string>();
  if (exists.rows[0]?.t) {
    const { rows } = await db.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    for (const r of rows) done.set(r.version, r.checksum);
  }
  const out: string[] = [];
  for (const m of migrations) {
    const checksum = done.get(m.version);
    if (checksum === undefined) out.push(m.name);
    else if (checksum !== m.checksum)
      throw new Error(`Migration ${m.name} was changed after it was applied; add a new migration instead`);
  }
  return out;
}

function notFound(dir: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    if (err.code === 'ENOENT') throw new Error(`Migrations directory ${dir} does not exist`);
    throw err;
  };
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
}
