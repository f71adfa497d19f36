import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { scalarParsers } from './parsers.ts';
import type { Db, Queryable, QueryOptions, QueryResult } from './types.ts';

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

/**
 * A parameter as an SQL literal of its text form: what a text-format Bind would carry, so the
 * server's input function of the parameter's type sees the same text. Null when the value has no
 * plain text form here (the caller then binds it the usual way).
 */
function literalOf(value: unknown): string | null {
  if (value === null || value === undefined) return 'NULL';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
  else if (typeof value === 'boolean') text = value ? 't' : 'f';
  else if (value instanceof Date) text = value.toISOString();
  else return null;
  // a NUL would end the statement's text inside the literal; PostgreSQL refuses it in text anyway
  if (text.includes('\u0000')) return null;
  // standard_conforming_strings is on (PostgreSQL's default since 9.1): only ' needs doubling
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * `prepare: true` on PGlite. Its query() always parses and plans an unnamed statement, and the
 * orders projection (an 11-CTE statement) took ~5 ms of CPU to plan each time, against ~0.7 ms to
 * run it prepared (measured on an empty batch). PGlite's API has no named statements, and an
 * EXECUTE cannot take Bind parameters, so the statement is PREPAREd once under its text's hash
 * and each call is an EXECUTE with its parameters written as literals of their text form. Values
 * without one (none in the statements that ask for this) take the unnamed path.
 */
type RunPrepared = <R>(sql: string, params: readonly unknown[]) => Promise<QueryResult<R> | null>;

function createPrepared(pglite: PGlite): RunPrepared {
  const prepared = new Map<string, string>();
  return async <R>(sql: string, params: readonly unknown[]): Promise<QueryResult<R> | null> => {
    const literals: string[] = [];
    for (const p of params) {
      const literal = literalOf(p);
      if (literal === null) return null;
      literals.push(literal);
    }
    let name = prepared.get(sql);
    if (name === undefined) {
      name = `bourse_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      // parameter types are inferred from the statement, as for the unnamed one
      await pglite.exec(`PREPARE ${name} AS ${sql}`);
      prepared.set(sql, name);
    }
    const call = literals.length ? `EXECUTE ${name}(${literals.join(', ')})` : `EXECUTE ${name}`;
    return run<R>(pglite, call);
  };
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
  const prepared = createPrepared(pglite);

  return {
    kind: 'pglite',
    query: <R>(sql: string, params?: readonly unknown[], options?: QueryOptions) =>
      serial(async () => {
        if (options?.prepare) {
          const result = await prepared<R>(sql, params ?? []);
          if (result) return result;
        }
        return run<R>(pglite, sql, params);
      }),
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
