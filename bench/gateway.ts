/**
 * `npm run bench:gateway` — the public HTTP API of the platform as `bourse start` composes it: the
 * real CLI in a child process, every service on (orders, users, market data consolidating and
 * streaming, reporting, FIX) and the demo market running, driven open-loop from a worker thread
 * of this process. Once on the embedded default (PGlite, in-memory cache and rate limits), once on
 * PostgreSQL + Redis (Redis token buckets and cache).
 *
 * Accounts: BENCH_ACCOUNTS investors (default 1,000) register through the API and log in, each
 * with its own access token; the demo pays each its paper cash, and an admin transfer gives each
 * shares of its "home" symbol. BENCH_SYMBOLS instruments (default 20) are listed through the admin
 * API. Rate limiting is on, as users run it, with every bucket raised to 1,000,000/s
 * (BOURSE_RATE_*) so that the limits are not what is measured.
 *
 * Two sweeps per backend (bench/lib/load: fixed arrival rate, latency from the scheduled send
 * time, stop once p99 > 50 ms or errors / overload answers appear):
 *   orders  POST /v2/orders, the order mix of bench/lib/load/order-mix.ts over all accounts and
 *           symbols: two in three passive GTC buys that rest, one in three IOC sells that trade;
 *   quotes  GET /market-data?symbols=X (best bid/ask, depth, last trade), one symbol per request,
 *           from the gateway's cache, each request with one of the accounts' tokens.
 *
 * Environment: BENCH_RATES (orders/s, default 100,200,500,1000,…,40000), BENCH_QUOTE_RATES (reads/s,
 * default 1000,2000,5000,10000,20000,40000), BENCH_STEP_SECONDS (default 5), BENCH_WARMUP_SECONDS
 * (default 1), BENCH_CONNECTIONS (default 256), BENCH_STOP_P99_MS
 * (stop a sweep past this p99; default 50, the knee's limit), BENCH_BACKENDS (default "pglite,postgres"),
 * BENCH_DATABASE_URL / DATABASE_URL (admin connection for a scratch database), BENCH_REDIS_URL
 * (default redis://127.0.0.1:6379), BENCH_PLOT_DIR (default bench/results); and BENCH_PRIME_SECONDS,
 * BENCH_GENERATORS (bench/lib/load/sweep.ts).
 *
 * Prints a table per backend and workload, then as the last line:
 *   {"gateway":{"postgres":{"orders":{"knee":N,"p99msAtKnee":N,"curve":[…]},"quotes":{…}},"pglite":{…}}}
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminLogin,
  call,
  inBatches,
  listSymbols,
  registerInvestors,
  UNLIMITED,
  UNLIMITED_RATES,
} from './lib/api.ts';
import { type BourseProcess, startBourse } from './lib/bourse-process.ts';
import { dollars, REFERENCE_PRICE_CENTS } from './lib/load/order-mix.ts';
import { curvesSvg, curveTable, writePlot } from './lib/load/report.ts';
import { type Curve, curveJson, sweep, sweepSettingsFromEnv } from './lib/load/sweep.ts';
import type { GatewayContext } from './lib/load/workloads/gateway-orders.ts';
import { durableOrRefuse, requireDurablePostgres, withScratchDatabase } from './lib/scratch-postgres.ts';

const BACKENDS = (process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',').map((s) => s.trim());
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 20);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-gateway-secret-0123456789abcdef-not-for-production';
const ADMIN_PASSWORD = 'bench operator pass phrase 2026';
const PASSWORD = 'bench investor pass phrase 2026';
const SHARES = 1_000_000;

const settings = sweepSettingsFromEnv();
const quoteSettings = {
  ...settings,
  rates: process.env.BENCH_QUOTE_RATES
    ? sweepSettingsFromEnv({ ...process.env, BENCH_RATES: process.env.BENCH_QUOTE_RATES }).rates
    : [1_000, 2_000, 5_000, 10_000, 20_000, 40_000],
};
const symbols = Array.from({ length: SYMBOLS }, (_, k) => `LOAD${String(k).padStart(2, '0')}`);
const ORDERS = new URL('./lib/load/workloads/gateway-orders.ts', import.meta.url).href;
const QUOTES = new URL('./lib/load/workloads/gateway-quotes.ts', import.meta.url).href;

/** Lists the symbols, registers and logs in the accounts, gives each its home shares; returns tokens. */
async function setUp(base: string): Promise<string[]> {
  const t0 = performance.now();
  const admin = await adminLogin(base, ADMIN_PASSWORD);
  await listSymbols(base, admin, symbols);
  const names = Array.from({ length: ACCOUNTS }, (_, k) => `load${String(k).padStart(5, '0')}`);
  const accounts = await registerInvestors([base], names, PASSWORD);
  process.stderr.write(
    `  ${ACCOUNTS} accounts registered and logged in (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
  await inBatches(accounts, 32, async ({ id }, k) =>
    call(
      base,
      'POST',
      '/v1/admin/transfers',
      {
        account_id: id,
        symbol: symbols[k % SYMBOLS],
        qty: SHARES,
        cost: dollars(SHARES * REFERENCE_PRICE_CENTS),
      },
      admin,
    ),
  );
  // the demo's paper cash arrives by a bus event after registration: wait until every account has it
  const deadline = Date.now() + 60_000;
  let unfunded = accounts;
  while (unfunded.length > 0) {
    const cash = await inBatches(unfunded, 32, ({ token }) =>
      call<{ cash: string }>(base, 'GET', '/v2/account', undefined, token),
    );
    unfunded = unfunded.filter((_, k) => Number(cash[k]!.cash) <= 0);
    if (unfunded.length === 0) break;
    if (Date.now() > deadline) throw new Error(`${unfunded.length} accounts never got their demo paper cash`);
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(
    `  shares transferred, paper cash arrived (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
  return accounts.map((a) => a.token);
}

/** How many of the symbols have traded (last trade in their market data). */
async function symbolsTraded(base: string, token: string): Promise<number> {
  const r = await call<{ snapshots: Record<string, { latest_trade?: unknown }> }>(
    base,
    'GET',
    `/market-data?symbols=${symbols.join(',')}`,
    undefined,
    token,
  );
  return Object.values(r.snapshots).filter((s) => s.latest_trade).length;
}

interface BackendResult {
  orders: Curve;
  quotes: Curve;
  note: string;
}

async function measure(backend: string, env: Record<string, string>): Promise<BackendResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bourse-bench-gateway-'));
  let server: BourseProcess | undefined;
  try {
    server = await startBourse('all', {
      BOURSE_DATA_DIR: dataDir,
      BOURSE_SECRET: SECRET,
      BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BOURSE_DEMO: 'on',
      BOURSE_FIX_PORT: '0',
      ...UNLIMITED_RATES,
      DATABASE_URL: '',
      REDIS_URL: '',
      NATS_URL: '',
      ...env,
    });
    process.stderr.write(
      `bench:gateway ${backend}: bourse start pid ${server.pid} at ${server.url}; setting up…\n`,
    );
    const tokens = await setUp(server.url);
    const context: GatewayContext = { tokens, symbols };
    // what the process burns with no requests at all (demo market, feeds, projector, session checks)
    const idle0 = await server.cpuMs();
    await new Promise((r) => setTimeout(r, 3_000));
    const idlePct = ((await server.cpuMs()) - idle0) / 30;
    const cpu0 = await server.cpuMs();
    const cpuMs = () => server!.cpuMs();
    const orders = await sweep(
      `${backend} orders`,
      { url: server.url, workload: ORDERS, context },
      settings,
      cpuMs,
    );
    const traded = await symbolsTraded(server.url, tokens[0]!);
    const quotes = await sweep(
      `${backend} quotes`,
      { url: server.url, workload: QUOTES, context },
      quoteSettings,
      cpuMs,
    );
    const cpu = ((await server.cpuMs()) - cpu0) / 1000;
    return {
      orders,
      quotes,
      note: `${backend}: ${traded} of ${SYMBOLS} symbols traded during the order sweep; the bourse process used ${cpu.toFixed(0)} CPU-seconds over both sweeps, and ${idlePct.toFixed(0)} % of a core idle (no requests; demo market, feeds, projector)`,
    };
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const notes: string[] = [];
  if (BACKENDS.includes('postgres')) {
    const durability = await durableOrRefuse('bench:gateway');
    if (durability === null) return 1;
    notes.push(`postgres: ${durability}, scratch database; Redis ${REDIS_URL} (token buckets, cache)`);
  }
  const results: Record<string, BackendResult> = {};
  for (const backend of BACKENDS) {
    if (backend === 'postgres') {
      results.postgres = await withScratchDatabase('bourse_bench_gateway', async (url) => {
        await requireDurablePostgres(url);
        return measure('postgres', { DATABASE_URL: url, REDIS_URL });
      });
    } else if (backend === 'pglite') {
      notes.push(
        'pglite: the embedded default (PGlite in a temporary BOURSE_DATA_DIR, in-memory cache and token buckets)',
      );
      results.pglite = await measure('pglite', {});
    } else throw new Error(`BENCH_BACKENDS: unknown backend '${backend}' (postgres, pglite)`);
  }

  console.log(
    `\nbench:gateway — bourse start (all services, demo on), public API, open loop; ${ACCOUNTS} accounts each with ` +
      `its own token, ${SYMBOLS} symbols, a third of the orders trading; rate limits on at ${UNLIMITED} per bucket; ` +
      `${settings.stepSeconds} s per step after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; ` +
      `${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(curveTable(`${name} — orders (POST /v2/orders)`, r.orders));
    console.log(curveTable(`${name} — quotes (GET /market-data, cached)`, r.quotes));
  }
  for (const note of [...notes, ...Object.values(results).map((r) => r.note)]) console.log(note);
  const byCurve = (pick: (r: BackendResult) => Curve) =>
    Object.fromEntries(Object.entries(results).map(([name, r]) => [name, pick(r)]));
  const plots = [
    await writePlot(
      'gateway-orders.svg',
      curvesSvg(
        'bench:gateway — orders through the public API, p99 vs achieved',
        byCurve((r) => r.orders),
      ),
    ),
    await writePlot(
      'gateway-quotes.svg',
      curvesSvg(
        'bench:gateway — cached quote reads, p99 vs achieved',
        byCurve((r) => r.quotes),
      ),
    ),
  ];
  console.log(`plots: ${plots.join(', ')}\n`);
  const json: Record<string, { orders: ReturnType<typeof curveJson>; quotes: ReturnType<typeof curveJson> }> =
    {};
  for (const [name, r] of Object.entries(results))
    json[name] = { orders: curveJson(r.orders), quotes: curveJson(r.quotes) };
  console.log(JSON.stringify({ gateway: json }));
  return 0;
}

process.exitCode = await main();
