/**
 * The PostgreSQL database of a local cluster: the one given, or `bourse_cluster`
 * (`bourse_cluster_shards<N>` with N orders shards), created if missing.
 */
import pg from 'pg';

export const DEFAULT_CLUSTER_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/bourse_cluster';

/**
 * The default database for a cluster of `shards` orders shards. Each shard layout has its own: the
 * orders tables are written by the orders service or by the shard nodes (with orders numbered and
 * accounts placed by the layout), and a database that one layout wrote is not the other's.
 */
export function defaultClusterDatabaseUrl(shards: number): string {
  return shards === 1 ? DEFAULT_CLUSTER_DATABASE_URL : `${DEFAULT_CLUSTER_DATABASE_URL}_shards${shards}`;
}

/** Creates the database named in `url` if it does not exist (connecting to `postgres` on that server). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${target.host}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (err) {
    // another launcher created it in between
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}
