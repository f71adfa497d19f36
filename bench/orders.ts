/**
 * `npm run bench:orders` — the orders service end to end in-process: handlers → sequencer →
 * engine → group commit → ack, with 64 concurrent submitters each waiting for its ack (i.e. for
 * the commit) before sending the next order. Durability is on: PostgreSQL keeps
 * synchronous_commit = on (checked and printed), PGlite is file-backed in a temp directory.
 *
 * Workload (seeded): one symbol around a mid of $100.00; per submitter a random mix of
 *   60% passive GTC limits 1..50 ticks away from mid (rest on the book),
 *   15% crossing IOC limits 5 ticks through mid (trade, remainder canceled),
 *   25% cancels of one of the submitter's own resting orders (a new order when it has none),
 * all with client order ids (so every order also pays for its idempotency key).
 * "orders/s" counts acknowledged order messages (new orders and cancels), each one journaled
 * and committed; new orders alone are reported beside it.
 *
 * Environment: BENCH_SECONDS (measured, default 10), BENCH_WARMUP_SECONDS (default 2),
 * BENCH_SUBMITTERS (default 64), BENCH_DATABASE_URL / DATABASE_URL (an admin connection used to
 * create and drop a scratch database; default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_BACKENDS (default "postgres,pglite").
 *
 * Prints a table, then a last line of JSON:
 *   {"postgres":{"ordersPerSec":N,"p50ms":N,"p99ms":N},"pglite":{"ordersPerSec":N,"p50ms":N,"p99ms":N}}
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createMemoryBus } from '../src/platform/bus/memory.ts';
import { systemClock } from '../src/platform/clock.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { openPglite } from '../src/platform/db/pglite.ts';
import { openPostgres } from '../src/platform/db/postgres.ts';
import type { Db } from '../src/platform/db/types.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createOrdersService, type OrdersService } from '../src/services/orders/index.ts';
import { createPrng } from './lib/prng.ts';
import { fmtInt, formatTable } from './lib/table.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const SUBMITTERS = Number(process.env.BENCH_SUBMITTERS ?? 64);
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'postgres,pglite').split(',').map((s) => s.trim());

const SYMBOL = 'BENCH';
const MID = 10_000;

interface Result {
  backend: string;
  seconds: number;
  acked: number;
  newOrders: number;
  cancels: number;
  rejected: number;
  trades: number;
  commits: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  setting: string;
}

function percentileOf(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function setup(service: OrdersService): Promise<void> {
  const c = service.client;
  await c.addInstrument({
    symbol: SYMBOL,
    tickSize: 1,
    lotSize: 1,
    minQty: 1,
    maxQty: 1_000_000,
    priceBandBps: 0,
    collarBps: 1000,
    referencePrice: MID,
  });
  await Promise.all(
    Array.from({ length: SUBMITTERS }, async (_, i) => {
      const account = `bench${i}`;
      await c.deposit(account, { amount: 100_000_000_000_000 });
      await c.transferShares(account, { symbol: SYMBOL, qty: 100_000_000, cost: 100_000_000 * MID });
    }),
  );
}

async function run(backend: string, service: OrdersService, setting: string): Promise<Result> {
  const client = service.client;
  let measuring = false;
  let stopping = false;
  const latencies: number[] = [];
  const counts = { acked: 0, newOrders: 0, cancels: 0, rejected: 0, trades: 0 };

  async function submitter(index: number): Promise<void> {
    const account = `bench${index}`;
    const rnd = createPrng(0xb0b5e + index);
    const resting: number[] = [];
    let seq = 0;
    while (!stopping) {
      const roll = rnd.float();
      const t0 = performance.now();
      let kind: 'new' | 'cancel' = 'new';
      try {
        if (roll < 0.25 && resting.length > 0) {
          kind = 'cancel';
          const at = rnd.int(resting.length);
          const id = resting[at]!;
          resting[at] = resting[resting.length - 1]!;
          resting.pop();
          await client.cancelOrder(account, id);
        } else {
          const side = rnd.chance(0.5) ? 'buy' : 'sell';
          const crossing = roll >= 0.25 && roll < 0.4;
          const away = crossing ? -5 : 1 + rnd.int(50);
          const price = side === 'buy' ? MID - away : MID + away;
          const { order } = await client.submitOrder(account, {
            symbol: SYMBOL,
            side,
            type: 'limit',
            tif: crossing ? 'ioc' : 'gtc',
            qty: 1 + rnd.int(100),
            price,
            clientOrderId: `${account}-${seq++}`,
          });
          if (order.status === 'new' || order.status === 'partially_filled') resting.push(order.id);
          if (order.filledQty > 0 && measuring) counts.trades++;
        }
      } catch (err) {
        // a cancel that lost the race with a fill is answered 422 order-not-open: acked all the same
        const status = (err as { status?: number }).status;
        if (status !== 422) throw err;
        if (measuring) counts.rejected++;
      }
      if (measuring) {
        latencies.push(performance.now() - t0);
        counts.acked++;
        if (kind === 'new') counts.newOrders++;
        else counts.cancels++;
      }
    }
  }

  const workers = Array.from({ length: SUBMITTERS }, (_, i) => submitter(i));
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  const statsBefore = service.sequencer.stats();
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const statsAfter = service.sequencer.stats();
  stopping = true;
  await Promise.all(workers);

  const sorted = Float64Array.from(latencies).sort();
  return {
    backend,
    seconds: elapsed,
    ...counts,
    commits: statsAfter.commits - statsBefore.commits,
    p50ms: percentileOf(sorted, 0.5),
    p99ms: percentileOf(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    setting,
  };
}

async function withPostgres(fn: (db: Db, setting: string) => Promise<Result>): Promise<Result> {
  const name = `bourse_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: url.toString() });
  try {
    await migrate(db);
    const { rows } = await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    const { rows: fsync } = await db.query<{ fsync: string }>('SHOW fsync');
    return await fn(db, `synchronous_commit=${rows[0]?.synchronous_commit} fsync=${fsync[0]?.fsync}`);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}

async function withPglite(fn: (db: Db, setting: string) => Promise<Result>): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-bench-'));
  const db = await openPglite({ dataDir: dir });
  try {
    await migrate(db);
    return await fn(db, `file-backed ${dir}`);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function bench(backend: string): Promise<Result> {
  const open = backend === 'postgres' ? withPostgres : withPglite;
  return open(async (db, setting) => {
    const logger = createLogger({ level: 'warn', name: 'bench' });
    const bus = createMemoryBus({ logger });
    const service = await createOrdersService({ db, bus, clock: systemClock, logger });
    try {
      await setup(service);
      return await run(backend, service, setting);
    } finally {
      await service.close();
      await bus.close();
    }
  });
}

const results: Result[] = [];
for (const backend of BACKENDS) {
  process.stderr.write(`bench:orders ${backend}: ${WARMUP_SECONDS}s warm-up + ${SECONDS}s measured…\n`);
  results.push(await bench(backend));
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nbench:orders — ${SUBMITTERS} submitters, ack after commit, ${SECONDS}s measured, ${cpus().length}× ${cpu}, Node ${process.version}\n`,
);
console.log(
  formatTable(
    [
      'backend',
      'orders/s',
      'new/s',
      'cancels/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'commits/s',
      'orders/commit',
      'fills',
    ],
    results.map((r) => [
      r.backend,
      fmtInt(r.acked / r.seconds),
      fmtInt(r.newOrders / r.seconds),
      fmtInt(r.cancels / r.seconds),
      r.p50ms.toFixed(2),
      r.p99ms.toFixed(2),
      r.maxMs.toFixed(1),
      fmtInt(r.commits / r.seconds),
      (r.acked / Math.max(1, r.commits)).toFixed(1),
      fmtInt(r.trades),
    ]),
  ),
);
for (const r of results)
  console.log(`${r.backend}: ${r.setting}; ${r.rejected} cancels answered order-not-open`);
console.log();

const json: Record<string, { ordersPerSec: number; p50ms: number; p99ms: number }> = {};
for (const r of results) {
  json[r.backend] = {
    ordersPerSec: Math.round(r.acked / r.seconds),
    p50ms: Math.round(r.p50ms * 100) / 100,
    p99ms: Math.round(r.p99ms * 100) / 100,
  };
}
console.log(JSON.stringify(json));
