import { mkdir } from 'node:fs/promises';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { scalarParsers } from './parsers.ts';
import type { Db, Queryable, QueryResult } from './types.ts';

export interface PgliteOptions {
  /** Directory for the database files; in memory when absent. */
  dataDir?: string;
  /**
   * Start from a `dumpDataDir()` tarball instead of an empty cluster. Tests clone a migrated
   * template this way: several times faster than initdb plus migrations.
   */
  loadDataDir?: Blob;
}

/**
 * PGlite is one connection, so a transaction must own it from BEGIN to COMMIT. PGlite's own
 * locking does that today, but the guarantee is ours to keep, so every call also goes through
 * this FIFO: a plain query issued during someone's transaction runs after it, never inside it.
 */
function createSerialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const result = tail.then(fn);
    tail = result.catch(() => {});
    return result;
  };
}

export interface PgliteDb extends Db {
  /** A tarball of the whole data directory, loadable with `loadDataDir` (backups, test templates). */
  dumpDataDir(): Promise<Blob>;
}

type Session = Pick<PGlite | Transaction, 'query' | 'exec'>;

async function run<R>(session: Session, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const result: Results<R> = await session.query<R>(sql, params as unknown[] | undefined);
  // PGlite reports affectedRows only for INSERT/UPDATE/DELETE; node-postgres counts rows for SELECT.
  return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
}

export async function openPglite(options: PgliteOptions = {}): Promise<PgliteDb> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  // Array types (int8[] …) are derived by PGlite from these element parsers.
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    parsers: scalarParsers,
  });
  const serial = createSerialQueue();

  return {
    kind: 'pglite',
    query: (sql, params) => serial(() => run(pglite, sql, params)),
    exec: (sql) => serial(async () => void (await pglite.exec(sql))),
    transaction: (fn) =>
      serial(() =>
        pglite.transaction((t) => {
          const tx: Queryable = {
            query: (sql, params) => run(t, sql, params),
            exec: async (sql) => void (await t.exec(sql)),
          };
          return fn(tx);
        }),
      ),
    dumpDataDir: () => serial(() => pglite.dumpDataDir('none')),
    close: () => serial(() => pglite.close()),
  };
}
