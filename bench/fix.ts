/**
 * `npm run bench:fix` — FIX 4.4 order entry end to end: a jspurefix initiator over loopback TCP →
 * the FIX service (logon, parsing, ClOrdID records, session store) → the orders service
 * (sequencer, group commit) → ExecutionReport New back on the socket.
 *
 * Open loop: one session sends NewOrderSingles at a fixed rate whatever the answers do; each
 * order's latency runs from the time it was scheduled to be sent to the time its
 * ExecutionReport (150=0) arrived, so a backlog shows up as latency instead of hiding. Orders are
 * passive GTC limits far from the market (they rest; no fills), alternating buy and sell.
 *
 * Environment: BENCH_RATES (orders/s, default "100,200,400"), BENCH_SECONDS per rate (default 5),
 * BENCH_BACKENDS (default "pglite,postgres"), BENCH_DATABASE_URL / DATABASE_URL (admin connection
 * for a scratch database; default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * Also the CPU time this process spent per order (the client, the FIX, orders and users services,
 * and PGlite when it is the backend; not the PostgreSQL server): a figure that a busy machine
 * distorts less than latency.
 *
 * Prints a table, then a last line of JSON:
 *   {"<backend>":{"<rate>":{"acked":N,"p50ms":N,"p99ms":N,"cpuMsPerOrder":N}}}
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { createMemoryBus } from '../src/platform/bus/memory.ts';
import { systemClock } from '../src/platform/clock.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { openPglite } from '../src/platform/db/pglite.ts';
import { openPostgres } from '../src/platform/db/postgres.ts';
import type { Db } from '../src/platform/db/types.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createMemoryRateLimiter } from '../src/platform/ratelimit/memory.ts';
import { createFixService } from '../src/services/fix/index.ts';
import { createOrdersService } from '../src/services/orders/index.ts';
import { createUsersService } from '../src/services/users/index.ts';
import { FixClient } from '../test/fix/client.ts';
import { round, summarize } from './lib/stats.ts';
import { fmtInt, formatTable } from './lib/table.ts';

const RATES = (process.env.BENCH_RATES ?? '100,200,400').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',').map((s) => s.trim());
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SYMBOL = 'BENCH';
const MID = 10_000;
const PASSWORD = 'correct horse battery staple';

interface Row {
  backend: string;
  rate: number;
  sent: number;
  acked: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  /** CPU time of this process (client, FIX, orders, users; PGlite too) per order */
  cpuMsPerOrder: number;
}

async function withPostgres<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const name = `bourse_bench_fix_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: url.toString(), max: 8 });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  }
}

async function withPglite<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'bourse-bench-fix-'));
  const db = await openPglite({ dataDir: dir });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function bench(backend: string, db: Db): Promise<Row[]> {
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const bus = createMemoryBus({ logger });
  const orders = await createOrdersService({ db, bus, clock: systemClock, logger });
  const app = Fastify();
  const users = await createUsersService({
    db,
    bus,
    clock: systemClock,
    logger: app.log,
    config: { secret: 'bench-secret-that-is-long-enough-0123456789' },
  });
  await users.register(app);
  const fix = await createFixService({
    db,
    bus,
    clock: systemClock,
    logger,
    orders: orders.client,
    users: users.client,
    limiter: createMemoryRateLimiter(),
    config: {
      port: 0,
      host: '127.0.0.1',
      logonPerIp: { capacity: 100, refillPerSec: 10 },
      logonPerKey: { capacity: 100, refillPerSec: 10 },
      orderRule: { capacity: 100_000, refillPerSec: 100_000 },
    },
  });
  try {
    const reg = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { username: 'benchfix', email: 'benchfix@example.com', password: PASSWORD },
    });
    const userId = (reg.json() as { id: string }).id;
    const login = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'benchfix', password: PASSWORD },
    });
    const token = (login.json() as { access_token: string }).access_token;
    const key = (
      await app.inject({
        method: 'POST',
        url: '/api-keys',
        headers: { authorization: `Bearer ${token}` },
        payload: { name: 'bench' },
      })
    ).json() as { id: string; secret: string };
    await orders.client.addInstrument({
      symbol: SYMBOL,
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 1_000_000,
      priceBandBps: 0,
      collarBps: 1000,
      referencePrice: MID,
    });
    await orders.client.deposit(userId, { amount: 1_000_000_000_000 });
    await orders.client.transferShares(userId, { symbol: SYMBOL, qty: 10_000_000, cost: 10_000_000 * MID });

    const client = await FixClient.connect({
      port: fix.port,
      senderCompId: 'BENCH',
      username: key.id,
      password: key.secret,
    });
    const rows: Row[] = [];
    let n = 0;
    for (const rate of RATES) {
      const scheduled = new Map<string, number>();
      const latencies: number[] = [];
      client.onMessage((m) => {
        const id = m.get(11);
        if (m.msgType !== '8' || m.get(150) !== '0' || !id) return;
        const at = scheduled.get(id);
        if (at !== undefined) latencies.push(performance.now() - at);
      });
      const total = rate * SECONDS;
      const cpu0 = process.cpuUsage();
      const start = performance.now() + 50;
      let sent = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const now = performance.now();
          // everything that is due goes now, stamped with when it was due
          while (sent < total && start + (sent * 1000) / rate <= now) {
            const id = `b${n++}`;
            scheduled.set(id, start + (sent * 1000) / rate);
            const buy = sent % 2 === 0;
            client.send('D', {
              ClOrdID: id,
              Instrument: { Symbol: SYMBOL },
              Side: buy ? '1' : '2',
              TransactTime: new Date(),
              OrderQtyData: { OrderQty: '1' },
              OrdType: '2',
              Price: buy ? '90.00' : '110.00',
              TimeInForce: '1',
            });
            sent++;
          }
          if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / rate - performance.now()));
          else resolve();
        };
        setTimeout(tick, 50);
      });
      // the answers still on their way
      const deadline = performance.now() + 30_000;
      while (latencies.length < total && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const cpu = process.cpuUsage(cpu0);
      const s = summarize(Float64Array.from(latencies.map((ms) => ms * 1e6)));
      rows.push({
        backend,
        rate,
        sent: total,
        acked: latencies.length,
        p50ms: s.p50ns / 1e6,
        p99ms: s.p99ns / 1e6,
        maxMs: s.maxNs / 1e6,
        cpuMsPerOrder: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
      });
    }
    await client.logout();
    return rows;
  } finally {
    await fix.close();
    await orders.close();
    await users.close();
    await app.close();
    await bus.close();
  }
}

const rows: Row[] = [];
for (const backend of BACKENDS) {
  const open = backend === 'postgres' ? withPostgres : withPglite;
  rows.push(...(await open((db) => bench(backend, db))));
}
console.log(
  formatTable(
    ['backend', 'orders/s offered', 'sent', 'ER New received', 'p50 ms', 'p99 ms', 'max ms', 'CPU ms/order'],
    rows.map((r) => [
      r.backend,
      fmtInt(r.rate),
      fmtInt(r.sent),
      fmtInt(r.acked),
      r.p50ms.toFixed(1),
      r.p99ms.toFixed(1),
      r.maxMs.toFixed(1),
      r.cpuMsPerOrder.toFixed(2),
    ]),
  ),
);
const json: Record<
  string,
  Record<string, { acked: number; p50ms: number; p99ms: number; cpuMsPerOrder: number }>
> = {};
for (const r of rows) {
  json[r.backend] ??= {};
  json[r.backend]![String(r.rate)] = {
    acked: r.acked,
    p50ms: round(r.p50ms, 2),
    p99ms: round(r.p99ms, 2),
    cpuMsPerOrder: round(r.cpuMsPerOrder, 3),
  };
}
console.log(JSON.stringify(json));
process.exit(0);
