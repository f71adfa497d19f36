/**
 * Multi-row insert strategies on both backends, at group-commit batch sizes: insertMany's
 * `unnest($1::t[], …)` (one parameter per column) against a VALUES list of `$n` placeholders
 * (chunked under the 65535-parameter limit). Rows/s, best of a few rounds; last line is JSON.
 *
 *   node --import tsx bench/db-insert.ts            # PGlite, plus PostgreSQL at TEST_DATABASE_URL
 */
import { insertMany } from '../src/platform/db/insert-many.ts';
import { openPglite } from '../src/platform/db/pglite.ts';
import { openPostgres } from '../src/platform/db/postgres.ts';
import type { Db, Queryable } from '../src/platform/db/types.ts';

const TOTAL_ROWS = Number(process.env.ROWS ?? 40_000);
const BATCHES = [100, 500, 2_000, 10_000];
const ROUNDS = 2;
const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const columns = {
  id: 'int8',
  account: 'text',
  symbol: 'text',
  side: 'text',
  price: 'int8',
  qty: 'int8',
  created_at: 'timestamptz',
  meta: 'jsonb',
} as const;
const names = Object.keys(columns);
const table = `bench_insert_${process.pid}`;
const rows = Array.from({ length: TOTAL_ROWS }, (_, i) => [
  i + 1,
  `acct-${i % 1000}`,
  'AAPL',
  i % 2 ? 'buy' : 'sell',
  10_000 + (i % 750),
  100,
  new Date(1_700_000_000_000 + i),
  { tif: 'gtc' },
]);

/** The alternative: VALUES ($1,…,$8), ($9,…), … in chunks that stay under 65535 parameters. */
async function insertValues(tx: Queryable, batch: readonly (readonly unknown[])[]): Promise<void> {
  const perChunk = Math.floor(65_535 / names.length);
  for (let start = 0; start < batch.length; start += perChunk) {
    const params: unknown[] = [];
    const tuples = batch.slice(start, start + perChunk).map((row) => {
      const slots = row.map((v, c) => {
        params.push(c === 7 ? JSON.stringify(v) : v);
        return `$${params.length}`;
      });
      return `(${slots.join(',')})`;
    });
    await tx.query(`INSERT INTO ${table} (${names.join(',')}) VALUES ${tuples.join(',')}`, params);
  }
}

const strategies = {
  unnest: (tx: Queryable, batch: readonly (readonly unknown[])[]) => insertMany(tx, table, columns, batch),
  values: insertValues,
};

async function measure(db: Db, strategy: keyof typeof strategies, batch: number): Promise<number> {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await db.exec(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int8 PRIMARY KEY, account text,
      symbol text, side text, price int8, qty int8, created_at timestamptz, meta jsonb)`);
    const started = performance.now();
    for (let start = 0; start < rows.length; start += batch) {
      const slice = rows.slice(start, start + batch);
      await db.transaction(async (tx) => {
        await strategies[strategy](tx, slice);
      });
    }
    best = Math.max(best, Math.round(TOTAL_ROWS / ((performance.now() - started) / 1000)));
  }
  await db.exec(`DROP TABLE IF EXISTS ${table}`);
  return best;
}

type Results = Record<string, Record<string, Record<string, number>>>;
const results: Results = {};
const backends: [string, () => Promise<Db>][] = [
  ['pglite', () => openPglite()],
  ['postgres', () => openPostgres({ connectionString: PG_URL })],
];
console.log(`${TOTAL_ROWS} rows of 8 columns, one transaction per batch, best of ${ROUNDS}`);
console.log('backend   strategy  batch   rows/s');
for (const [backend, open] of backends) {
  let db: Db;
  try {
    db = await open();
  } catch (err) {
    console.log(`${backend.padEnd(9)} skipped: ${(err as Error).message}`);
    continue;
  }
  for (const strategy of ['unnest', 'values'] as const) {
    for (const batch of BATCHES) {
      const perSecond = await measure(db, strategy, batch);
      ((results[backend] ??= {})[strategy] ??= {})[batch] = perSecond;
      console.log(
        `${backend.padEnd(9)} ${strategy.padEnd(9)} ${String(batch).padStart(6)} ${String(perSecond).padStart(8)}`,
      );
    }
  }
  await db.close();
}
console.log(JSON.stringify({ rowsPerSec: results }));
