/**
 * Logical backups of a whole Bourse database, the same way on PostgreSQL and PGlite (so one file
 * restores into either): every table of the schema, read in ONE read-only REPEATABLE READ
 * transaction, so the copy is a single consistent point even while the services keep writing
 * (on PGlite, one connection, writers simply wait for the copy).
 *
 * The file is gzip'd text, one line each:
 *   {"bourse_backup":1,"taken_at":"…","migrations":[{version,name,checksum}…],"meta":{…}}
 *   \t<table>                          then the table's rows, each to_jsonb(row) as PostgreSQL prints it
 *   {"id":…,…}
 *   \tend
 * Values stay PostgreSQL's own text (bigint digits, bytea hex, timestamptz with offset): nothing
 * passes through JavaScript numbers. Tables come parents first (foreign keys), so a restore
 * inserts them in file order. schema_migrations is not copied: restoring applies the backup's
 * migrations (their checksums must match this code's files), which recreates it.
 */

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { MIGRATIONS_DIR, migrate, readMigrations } from './migrate.ts';
import type { Db, Queryable } from './types.ts';

export interface BackupMigration {
  version: number;
  name: string;
  checksum: string;
}

export interface BackupHeader {
  bourse_backup: 1;
  taken_at: string;
  migrations: BackupMigration[];
  /** what the caller read inside the backup's transaction (the journal's seq, …) */
  meta: Record<string, unknown>;
}

export interface BackupInfo {
  header: BackupHeader;
  tables: number;
  rows: number;
}

const FETCH = 2000;

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The schema's tables, each after the tables its foreign keys point to. */
export async function tablesInOrder(tx: Queryable): Promise<string[]> {
  const { rows: tables } = await tx.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables
      WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY tablename`,
  );
  const { rows: edges } = await tx.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace`,
  );
  const names = tables.map((t) => t.name);
  const parents = new Map(names.map((n) => [n, edges.filter((e) => e.child === n && e.parent !== n)]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const e of parents.get(name) ?? []) visit(e.parent);
    out.push(name);
  };
  for (const n of names) visit(n);
  return out;
}

/** Writes one consistent backup of `db` to `out` (gzip'd); `inside` adds to the header's meta. */
export async function backupDatabase(
  db: Db,
  out: Writable,
  inside: (tx: Queryable) => Promise<Record<string, unknown>> = async () => ({}),
  now: () => Date = () => new Date(),
): Promise<BackupInfo> {
  const gzip = createGzip();
  gzip.pipe(out);
  const write = async (text: string): Promise<void> => {
    if (!gzip.write(text)) await once(gzip, 'drain');
  };
  const info = await db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rows: migrations } = await tx.query<BackupMigration>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const header: BackupHeader = {
      bourse_backup: 1,
      taken_at: now().toISOString(),
      migrations,
      meta: await inside(tx),
    };
    await write(`${JSON.stringify(header)}\n`);
    const tables = await tablesInOrder(tx);
    let rows = 0;
    for (const table of tables) {
      await write(`\t${table}\n`);
      await tx.query(
        `DECLARE bourse_backup NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS j FROM ${quote(table)} t`,
      );
      for (;;) {
        const page = await tx.query<{ j: string }>(`FETCH ${FETCH} FROM bourse_backup`);
        if (page.rows.length === 0) break;
        rows += page.rows.length;
        await write(`${page.rows.map((r) => r.j).join('\n')}\n`);
      }
      await tx.query('CLOSE bourse_backup');
    }
    await write('\tend\n');
    return { header, tables: tables.length, rows };
  });
  gzip.end();
  await once(out, 'finish');
  return info;
}

export class RestoreError extends Error {
  override name = 'RestoreError';
}

/** Whether the database has no table of its own yet (restore refuses anything else). */
export async function isEmptyDatabase(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema()',
  );
  return rows[0]!.n === 0;
}

/**
 * Restores a backup file into an EMPTY database: applies the backup's migrations (checked
 * against this code's), loads every table, and moves identity sequences past the loaded rows,
 * all in one transaction after the migrations. Newer migrations are left for `bourse migrate`
 * (or start-up) to apply, as for any upgrade.
 */
export async function restoreDatabase(
  db: Db,
  file: string,
  dir: string = MIGRATIONS_DIR,
): Promise<{ header: BackupHeader; rows: number }> {
  if (!(await isEmptyDatabase(db)))
    throw new RestoreError(
      'the target database is not empty: restore only into a new data folder or database',
    );
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const header = (first.done ? null : JSON.parse(first.value)) as BackupHeader | null;
  if (header?.bourse_backup !== 1) throw new RestoreError(`${file} is not a Bourse backup`);

  const ours = new Map((await readMigrations(dir)).map((m) => [m.version, m]));
  for (const m of header.migrations) {
    const mine = ours.get(m.version);
    if (!mine || mine.checksum !== m.checksum)
      throw new RestoreError(
        `the backup was made with migration ${m.name}, which this version does not have as such`,
      );
  }
  const upTo = header.migrations.at(-1)?.version ?? 0;
  await migrate(db, dir, { upTo });

  let rows = 0;
  await db.transaction(async (tx) => {
    // rows the migrations seed (a default brokerage, …) come from the backup like the rest
    const tables = await tablesInOrder(tx);
    if (tables.length > 0) await tx.exec(`TRUNCATE ${tables.map(quote).join(', ')}`);
    let table: string | null = null;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (table === null || batch.length === 0) return;
      await tx.query(
        `INSERT INTO ${quote(table)} OVERRIDING SYSTEM VALUE
           SELECT * FROM jsonb_populate_recordset(NULL::${quote(table)}, $1::jsonb)`,
        [`[${batch.join(',')}]`],
      );
      rows += batch.length;
      batch = [];
    };
    let ended = false;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const line = next.value;
      if (line.startsWith('\t')) {
        await flush();
        if (line === '\tend') {
          ended = true;
          break;
        }
        table = line.slice(1);
      } else if (line !== '') {
        batch.push(line);
        if (batch.length >= FETCH) await flush();
      }
    }
    if (!ended) throw new RestoreError(`${file} is cut short (no end marker): nothing was restored`);
    // identity and serial columns continue after the restored rows
    const { rows: sequenced } = await tx.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`,
    );
    for (const s of sequenced) {
      await tx.query(
        `SELECT setval(pg_get_serial_sequence($1, $2),
                       COALESCE((SELECT max(${quote(s.column_name)}) FROM ${quote(s.table_name)}), 0) + 1, false)`,
        [quote(s.table_name), s.column_name],
      );
    }
  });
  return { header, rows };
}
