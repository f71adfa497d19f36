/** The load benches refuse to measure a PostgreSQL that does not keep what it acknowledged. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NotDurableError, requireDurablePostgres } from '../../bench/lib/scratch-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { describeWithPostgres, serviceUrl } from '../support/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describeWithPostgres('load benches: durability check', () => {
  let lax: TestDatabase;
  let plain: TestDatabase;

  beforeAll(async () => {
    const admin = serviceUrl('postgres');
    [lax, plain] = await Promise.all([createTestDatabase(admin), createTestDatabase(admin)]);
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`ALTER DATABASE "${new URL(lax.url).pathname.slice(1)}" SET synchronous_commit = off`);
    await client.end();
  });
  afterAll(async () => {
    await Promise.all([lax?.drop(), plain?.drop()]);
  });

  it('accepts synchronous_commit=on and fsync=on, and refuses synchronous_commit=off by name', async () => {
    await expect(requireDurablePostgres(plain.url)).resolves.toBe('synchronous_commit=on fsync=on');
    const refused = requireDurablePostgres(lax.url);
    await expect(refused).rejects.toBeInstanceOf(NotDurableError);
    await expect(refused).rejects.toThrow(/synchronous_commit=off fsync=on: the benchmark refuses to run/);
  });

  it.each(['orders', 'gateway'])('bench:%s exits non-zero before measuring on such a database', (bench) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${bench}.ts`], {
      cwd: ROOT,
      env: { ...process.env, BENCH_DATABASE_URL: lax.url, BENCH_BACKENDS: 'postgres' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`bench:${bench}: PostgreSQL at .* has synchronous_commit=off`));
    expect(run.stdout).not.toMatch(/knee/);
  });
});
