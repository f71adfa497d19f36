/** The database seen by services: PostgreSQL (node-postgres) or embedded PGlite, same SQL. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run again and again (the orders group commit): PostgreSQL keeps it prepared per
   * connection, so it is planned once instead of at every call. PGlite too (PREPARE once, then
   * EXECUTE with the parameters as literals; pglite.ts), outside transactions.
   */
  prepare?: boolean;
}

export interface Queryable {
  /**
   * One parameterised statement ($1, $2, ...), always over the extended protocol, so a
   * multi-statement string is rejected on both backends alike. Type mapping is the same on both:
   * int2/int4/int8 → number (int8 outside the safe-integer range throws), numeric → string,
   * timestamptz → Date, json/jsonb → parsed value, bool → boolean, date and timestamp (without
   * time zone) → their text ('2024-01-31', '2024-01-31 12:00:00'), arrays of these alike.
   * Parameters: pass a JSON array for a json/jsonb column as JSON.stringify(value), because
   * node-postgres sends a JS array as a PostgreSQL array literal.
   */
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
  /** One or more statements without parameters (simple protocol): migrations, DDL scripts. */
  exec(sql: string): Promise<void>;
}

/**
 * A connection of its own, outside the pool (PostgreSQL only): session state, such as a
 * session-level advisory lock, lives exactly as long as this connection.
 */
export interface DbSession extends Queryable {
  /** the server process of this connection (pg_backend_pid()) */
  readonly pid: number;
  /** Called once when the connection fails or the server ends it: its session state is gone. */
  onLost(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Opens a dedicated connection (PostgreSQL only; PGlite is one process and has none).
   * `idleTimeoutMs`: the server ends the session after this long without a statement
   * (idle_session_timeout), so a paused holder loses what the session held.
   * `keepAliveMs`: the session touches itself this often from a thread of its own, so a busy main
   * thread does not let it go idle, while a paused process (which stops every thread) does.
   */
  session?(options?: { idleTimeoutMs?: number; keepAliveMs?: number }): Promise<DbSession>;
  /**
   * Runs fn in one transaction (BEGIN … COMMIT, ROLLBACK on throw). Use only `tx` inside fn:
   * on PGlite the database is one connection, so a `db.query` awaited inside fn waits for the
   * transaction to end, which is never.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
