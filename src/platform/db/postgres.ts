import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
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
      let broken: Error | undefined;
      // pg-pool listens for errors only while a client is idle. A checked-out client whose session
      // the server ends between two statements (idle_in_transaction_session_timeout after a pause,
      // pg_terminate_backend, a restart) emits 'error' with no query to carry it: without this
      // listener that is an uncaught exception. The next statement fails instead; not reused.
      const onError = (err: Error) => {
        broken ??= err;
      };
      client.on('error', onError);
      const use = (): pg.PoolClient => {
        if (!open) throw new Error('Transaction is closed');
        if (broken) throw broken;
        return client;
      };
      const tx: Queryable = {
        query: async (sql, params, options) => run(use(), sql, params, options),
        exec: async (sql) => {
          await use().query(sql);
        },
      };
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
        // a broken client may still emit while it is destroyed: keep listening then
        if (!broken) client.off('error', onError);
        client.release(broken);
      }
    },
    session: (opts) =>
      opts?.keepAliveMs === undefined
        ? openSession(options.connectionString, opts?.idleTimeoutMs)
        : openKeptAliveSession(options.connectionString, opts.keepAliveMs, opts.idleTimeoutMs),
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

interface ThreadReply {
  id?: number;
  names?: string[];
  fields?: number[];
  rows?: (string | null)[][];
  rowCount?: number;
  error?: ThreadError;
  ready?: { pid: number };
  failed?: ThreadError;
  lost?: ThreadError;
  closed?: true;
}
interface ThreadError {
  message: string;
  code?: string;
  severity?: string;
  detail?: string;
}

const toError = (e: ThreadError): Error => Object.assign(new Error(e.message), e);

/**
 * A session whose connection lives in a worker thread (session-thread.mjs) and keeps itself alive
 * every `keepAliveMs` while this thread shows signs of life: see there why. Statements run on it
 * one at a time, in order, as on a pg.Client; rows are parsed here with the pool's type mapping.
 */
async function openKeptAliveSession(
  connectionString: string,
  keepAliveMs: number,
  idleTimeoutMs?: number,
): Promise<DbSession> {
  const worker = new Worker(new URL('./session-thread.mjs', import.meta.url), {
    workerData: {
      connectionString,
      idleTimeoutMs,
      keepAliveMs,
      // the main thread may stall this long before the session is let go silent
      stallBudgetMs: Math.max(5_000, 3 * (idleTimeoutMs ?? keepAliveMs * 3)),
    },
  });
  worker.unref();
  const pending = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let lostCb: ((err: Error) => void) | null = null;
  let gone: Error | null = null;
  let closing = false;
  let closed: () => void = () => {};
  const fail = (err: Error) => {
    if (gone) return;
    gone = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (!closing) lostCb?.(err);
  };
  const started = new Promise<number>((resolve, reject) => {
    worker.on('message', (m: ThreadReply) => {
      if (m.ready) return resolve(m.ready.pid);
      if (m.failed) return reject(toError(m.failed));
      if (m.lost) return fail(toError(m.lost));
      if (m.closed) return closed();
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error) p.reject(toError(m.error));
      else p.resolve(m);
    });
    worker.on('error', (err) => {
      reject(err);
      fail(err);
    });
    worker.on('exit', () => {
      const err = new Error('the session thread ended');
      reject(err);
      fail(err);
    });
  });
  const pid = await started.catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // signs of life for the keep-alive (unref: it never holds the process open)
  const tick = setInterval(
    () => worker.postMessage({ tick: true }),
    Math.max(20, Math.floor(keepAliveMs / 2)),
  );
  tick.unref();

  const send = (sql: string, params: readonly unknown[], simple: boolean): Promise<ThreadReply> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<ThreadReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, sql, params, simple });
    });
  };
  const query = <R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> =>
    send(sql, params ?? [], false).then((m) => {
      const parsers = m.fields!.map((oid) => types.getTypeParser(oid, 'text') as TextParser);
      const rows = m.rows!.map((row) => {
        const out: Record<string, unknown> = {};
        row.forEach((text, i) => {
          out[m.names![i]!] = text === null ? null : parsers[i]!(text);
        });
        return out as R;
      });
      return { rows, rowCount: m.rowCount ?? 0 };
    });
  return {
    pid,
    query,
    exec: async (sql) => {
      await send(sql, [], true);
    },
    onLost: (cb) => {
      lostCb = cb;
      if (gone && !closing) cb(gone);
    },
    close: async () => {
      if (closing) return;
      closing = true;
      clearInterval(tick);
      if (!gone) {
        const done = new Promise<void>((resolve) => (closed = resolve));
        worker.postMessage({ close: true });
        // bounded: a thread that cannot end its connection in time is terminated with it
        await Promise.race([done, new Promise((r) => setTimeout(r, 2_000).unref())]);
      }
      await worker.terminate();
    },
  };
}
