/** The database seen by services: PostgreSQL (node-postgres) or embedded PGlite, same SQL. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /**
   * Parameterised query ($1, $2, ...). Type mapping is the same on both backends:
   * int2/int4/int8 → number (int8 outside the safe-integer range throws), numeric → string,
   * timestamptz → Date, json/jsonb → parsed value, bool → boolean.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction (BEGIN … COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
