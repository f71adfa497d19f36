/** Throwaway PostgreSQL databases next to `test` (no vitest imports: global-setup uses this too). */
import pg from 'pg';

const PREFIX = 'bourse_test_';
// Only names of exactly this shape are ever dropped as stale: other suites have their own schemes.
const OURS = /^bourse_test_(\d{10})_\d+_\d+$/;
let counter = 0;

export interface TestDatabase {
  url: string;
  /** Drops it, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new empty database. The name carries its creation time so that a crashed run's leftovers can
 * be told apart from databases another concurrent run is still using (dropStaleDatabases).
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `${PREFIX}${Math.floor(Date.now() / 1000)}_${process.pid}_${counter++}`;
  // From template0, not `test` itself: CREATE DATABASE … TEMPLATE fails while anyone is
  // connected to the template, and other suites are.
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE template0`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}

/** Drops test databases older than maxAgeMs (left behind by killed runs). Returns how many. */
export async function dropStaleDatabases(adminUrl: string, maxAgeMs = 60 * 60 * 1000): Promise<number> {
  return withAdmin(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database');
    const cutoff = (Date.now() - maxAgeMs) / 1000;
    const stale = rows
      .map((r) => r.datname)
      .filter((n) => Number(OURS.exec(n)?.[1] ?? Number.POSITIVE_INFINITY) < cutoff);
    for (const name of stale) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return stale.length;
  });
}
