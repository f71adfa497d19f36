/**
 * A scratch PostgreSQL database for a benchmark run, and the durability check the load benches
 * make first: a figure measured with fsync or synchronous_commit off says nothing about a system
 * that keeps what it acknowledged, so they refuse to produce one.
 */
import pg from 'pg';

export const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export class NotDurableError extends Error {}

/** "synchronous_commit=on fsync=on", or a NotDurableError naming the setting that is off. */
export async function requireDurablePostgres(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const sync = (await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
      ?.synchronous_commit;
    const fsync = (await client.query<{ fsync: string }>('SHOW fsync')).rows[0]?.fsync;
    const setting = `synchronous_commit=${sync} fsync=${fsync}`;
    if (sync !== 'on' || fsync !== 'on')
      throw new NotDurableError(
        `PostgreSQL at ${redact(url)} has ${setting}: the benchmark refuses to run unless both are on ` +
          '(an acknowledged order must be on disk)',
      );
    return setting;
  } finally {
    await client.end();
  }
}

/**
 * The load benches' first step: the durability setting string, or null after saying on stderr why
 * the bench refuses to run (the caller exits 1). Other errors are thrown.
 */
export async function durableOrRefuse(bench: string, url: string = ADMIN_URL): Promise<string | null> {
  try {
    return await requireDurablePostgres(url);
  } catch (err) {
    if (!(err instanceof NotDurableError)) throw err;
    console.error(`${bench}: ${err.message}`);
    return null;
  }
}

/** Creates a fresh database, hands its URL to `fn`, drops it afterwards (connections forced out). */
export async function withScratchDatabase<T>(prefix: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `${prefix}_${process.pid}_${Date.now() % 1_000_000}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  // from template0: a CREATE from a template fails while anyone is connected to it
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
