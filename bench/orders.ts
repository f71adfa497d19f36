/**
 * `npm run bench:orders` — the orders service alone, in its own process (`bourse start --role
 * orders`), driven open-loop over its internal HTTP API, on PostgreSQL and on the embedded PGlite.
 *
 * Open loop: a generator in a worker thread sends orders at a fixed rate whatever the replies do
 * and measures each one from its scheduled send time (bench/lib/load). A sweep raises the rate step
 * by step and stops once p99 passes 50 ms or errors / overload answers appear; the knee is the
 * highest achieved rate with p99 ≤ 50 ms and neither.
 *
 * Workload (bench/lib/load/order-mix.ts): BENCH_ACCOUNTS accounts (default 1,000) over
 * BENCH_SYMBOLS symbols (default 20); two orders in three are passive GTC buys that rest, one in
 * three an IOC sell that trades with the best resting buy. Each is journaled and committed before
 * its answer (synchronous_commit and fsync must be on: the bench refuses to run otherwise).
 *
 * Environment: BENCH_RATES (orders/s, comma-separated; default 100,200,500,1000,…,40000),
 * BENCH_STEP_SECONDS (measured per step, default 5), BENCH_WARMUP_SECONDS (per step, default 1),
 * BENCH_CONNECTIONS (keep-alive connections, default 256), BENCH_STOP_P99_MS (stop the sweep past this p99;
 * default 50, the knee's limit), BENCH_BACKENDS (default
 * "postgres,pglite"), BENCH_DATABASE_URL / DATABASE_URL (admin connection that creates and drops a
 * scratch database), BOURSE_INTERNAL_TOKEN (sent on every internal call; default: derived from the
 * bench's own BOURSE_SECRET), BENCH_PLOT_DIR (where orders.svg goes; default bench/results); and BENCH_PRIME_SECONDS,
 * BENCH_GENERATORS (bench/lib/load/sweep.ts).
 *
 * Prints a table per backend, then as the last line:
 *   {"orders":{"postgres":{"knee":N,"p99msAtKnee":N,"curve":[{"offered":N,"achieved":N,"p50":N,"p99":N,"p999":N,"errors":N}]},"pglite":{…}}}
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORWARDED_HEADERS } from '../src/platform/http/forwarded-identity.ts';
import { httpOrdersClient } from '../src/services/orders/client.ts';
import { deriveKeys } from '../src/services/users/secret.ts';
import { inBatches } from './lib/api.ts';
import { startBourse } from './lib/bourse-process.ts';
import { REFERENCE_PRICE_CENTS } from './lib/load/order-mix.ts';
import { curvesSvg, curveTable, writePlot } from './lib/load/report.ts';
import { type Curve, curveJson, sweep, sweepSettingsFromEnv } from './lib/load/sweep.ts';
import type { OrdersInternalContext } from './lib/load/workloads/orders-internal.ts';
import { durableOrRefuse, requireDurablePostgres, withScratchDatabase } from './lib/scratch-postgres.ts';

const BACKENDS = (process.env.BENCH_BACKENDS ?? 'postgres,pglite').split(',').map((s) => s.trim());
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 20);
const SECRET = 'bench-orders-secret-0123456789abcdef-not-for-production';
const INTERNAL_TOKEN =
  process.env.BOURSE_INTERNAL_TOKEN?.split(',')[0]?.trim() || deriveKeys(SECRET).internalToken;
const WORKLOAD = new URL('./lib/load/workloads/orders-internal.ts', import.meta.url).href;

const settings = sweepSettingsFromEnv();
const symbols = Array.from({ length: SYMBOLS }, (_, k) => `LOAD${String(k).padStart(2, '0')}`);
const accounts = Array.from({ length: ACCOUNTS }, (_, k) => `load${k}`);
const headers = { [FORWARDED_HEADERS.token]: INTERNAL_TOKEN };

async function setUp(url: string): Promise<void> {
  const client = httpOrdersClient(url, { internalToken: INTERNAL_TOKEN });
  for (const symbol of symbols)
    await client.addInstrument({
      symbol,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 1_000_000,
      priceBandBps: 2_000,
      collarBps: 2_000,
      referencePrice: REFERENCE_PRICE_CENTS,
    });
  await inBatches(accounts, 32, async (account) => {
    const k = Number(account.slice(4));
    await client.deposit(account, { amount: 1_000_000_00 });
    // each account's "home" symbol (order-mix.ts): the shares its IOC sells come from
    await client.transferShares(account, {
      symbol: symbols[k % SYMBOLS]!,
      qty: 1_000_000,
      cost: 1_000_000 * REFERENCE_PRICE_CENTS,
    });
  });
}

async function measure(backend: string, env: Record<string, string>): Promise<Curve> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bourse-bench-orders-'));
  const server = await startBourse('orders', {
    BOURSE_DATA_DIR: dataDir,
    BOURSE_SECRET: SECRET,
    BOURSE_INTERNAL_TOKEN: INTERNAL_TOKEN,
    BOURSE_DEMO: 'off',
    BOURSE_FIX_PORT: 'off',
    DATABASE_URL: '',
    REDIS_URL: '',
    NATS_URL: '',
    ...env,
  });
  try {
    process.stderr.write(
      `bench:orders ${backend}: orders service pid ${server.pid} at ${server.url}; setting up…\n`,
    );
    await setUp(server.url);
    const context: OrdersInternalContext = { headers, accounts, symbols };
    return await sweep(backend, { url: server.url, workload: WORKLOAD, context }, settings, server.cpuMs);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const notes: string[] = [];
  if (BACKENDS.includes('postgres')) {
    const durability = await durableOrRefuse('bench:orders');
    if (durability === null) return 1;
    notes.push(`postgres: ${durability}, scratch database per run`);
  }
  const curves: Record<string, Curve> = {};
  for (const backend of BACKENDS) {
    if (backend === 'postgres') {
      curves.postgres = await withScratchDatabase('bourse_bench_orders', async (url) => {
        await requireDurablePostgres(url);
        return measure('postgres', { DATABASE_URL: url });
      });
    } else if (backend === 'pglite') {
      notes.push('pglite: the embedded default, file-backed in a temporary BOURSE_DATA_DIR');
      curves.pglite = await measure('pglite', {});
    } else throw new Error(`BENCH_BACKENDS: unknown backend '${backend}' (postgres, pglite)`);
  }

  console.log(
    `\nbench:orders — orders service alone (bourse start --role orders), internal HTTP API, open loop; ` +
      `${ACCOUNTS} accounts, ${SYMBOLS} symbols, a third of the orders trading; ` +
      `${settings.stepSeconds} s per step after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; ` +
      `${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n`,
  );
  for (const [name, curve] of Object.entries(curves)) console.log(curveTable(name, curve));
  for (const note of notes) console.log(note);
  const plot = await writePlot(
    'orders.svg',
    curvesSvg('bench:orders — orders service alone, p99 vs achieved', curves),
  );
  console.log(`plot: ${plot}\n`);
  const json: Record<string, ReturnType<typeof curveJson>> = {};
  for (const [name, curve] of Object.entries(curves)) json[name] = curveJson(curve);
  console.log(JSON.stringify({ orders: json }));
  return 0;
}

process.exitCode = await main();
