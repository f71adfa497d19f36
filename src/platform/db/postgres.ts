import { createHash } from 'node:crypto';
import pg from 'pg';
import { arrayElementOids, scalarParsers, type TextParser } from './parsers.ts';
import type { Db, DbSession, Queryable, QueryOptions, QueryResult } from './types.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Pool size; the orders writer needs one, readers share the rest. */
  max?: number;
  /** Errors of idle pooled connections (server restart, network); unhandled they would crash. */
  onIdleError?: (err: Error) => void;
}

// text[] (OID 1009)'s parser splits any array literal (nested, with NULLs) into strings; we map the elements.
const getTypeParser = pg.types.getTypeParser as (oid: number, format?: string) => TextParser;
const parseTextArray = getTypeParser(1009) as (text: string) => unknown[];

function arrayOf(element: TextParser): TextParser {
  const map = (v: unknown): unknown =>
    v === null ? null : Array.isArray(v) ? v.map(map) : element(v as string);
  return (text) => parseTextArray(text).map(map);
}

// Per-pool overrides rather than pg.types.setTypeParser: mutating the global registry would leak
// our mapping into every other pg user in the process.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const scalar = scalarParsers[oid];
    if (scalar) return scalar;
    const elementOid = arrayElementOids[oid];
    if (elementOid !== undefined) return arrayOf(scalarParsers[elementOid]!);
    return getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

type Client = pg.Pool | pg.PoolClient | pg.Client;

/** A prepared statement's name: its text's hash, so one name never stands for two texts. */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `bourse_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (statementNames.size < 1_000) statementNames.set(sql, name);
  }
  return name;
}

async function run<R>(
  client: Client,
  sql: string,
  params?: readonly unknown[],
  options?: QueryOptions,
): Promise<QueryResult<R>> {
  // Extended protocol even without parameters: one statement per query(), exactly as on PGlite.
  const config = {
    text: sql,
    values: (params ?? []) as unknown[],
    queryMode: 'extended',
    ...(options?.prepare && { name: statementName(sql) }),
  };
  const result = await client.query(config as pg.QueryConfig);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10, types });
  pool.on('error', options.onIdleError ?? (() => {}));
  // Fail at start-up on a bad URL or a down server, not at the first request.
  await pool.query('SELECT 1').catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });

  return {
    kind: 'postgres',
    query: (sql, params, options) => run(pool, sql, params, options),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      let open = true;
      const use = (): pg.PoolClient => {
        if (!open) throw new Error('Transaction is closed');
        return client;
      };
      const tx: Queryable = {
        query: async (sql, params, options) => run(use(), sql, params, options),
        exec: async (sql) => {
          await use().query(sql);
        },
      };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // A connection that cannot even roll back is not returned to the pool.
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      } finally {
        open = false;
        client.release(broken);
      }
    },
    session: (opts) => openSession(options.connectionString, opts?.idleTimeoutMs),
    close: () => pool.end(),
  };
}

async function openSession(connectionString: string, idleTimeoutMs?: number): Promise<DbSession> {
  // TCP keepalive: a holder cut off by the network is noticed by the server, which ends the session
  const client = new pg.Client({ connectionString, types, keepAlive: true });
  let lost: ((err: Error) => void) | null = null;
  let gone: Error | null = null;
  let closing = false;
  const fail = (err: Error) => {
    if (gone || closing) return;
    gone = err;
    lost?.(err);
  };
  client.on('error', fail);
  client.on('end', () => fail(new Error('the database ended the session')));
  await client.connect();
  if (idleTimeoutMs !== undefined)
    await client.query(`SET idle_session_timeout = ${Math.max(1, Math.floor(idleTimeoutMs))}`);
  const pid = ((await client.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
  return {
    pid,
    query: (sql, params, opts) => run(client, sql, params, opts),
    exec: async (sql) => {
      await client.query(sql);
    },
    onLost: (cb) => {
      lost = cb;
      if (gone) cb(gone);
    },
    close: async () => {
      closing = true;
      await client.end().catch(() => {});
    },
  };
}
