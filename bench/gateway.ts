/**
 * `npm run bench:gateway` — the public API end to end on loopback: autocannon (in a worker
 * thread) → gateway (auth, rate limiting, validation, decimal conversion, balancing, breaker) →
 * HTTP → orders service → sequencer → group commit on PostgreSQL → ack, all on this machine.
 * Authentication and rate limiting are on, with the limits raised for the run (the bench measures
 * the machinery, not the policy). The orders and users services listen on an internal loopback
 * port, the gateway on another, as `bourse start` composes them.
 *
 * Workloads, one after the other:
 *   orders  POST /v2/orders, alternating non-crossing GTC limit buys and sells (each one journaled
 *           and committed before its 200), with a bearer token (verified once, then cached);
 *   quotes  GET /market-data?symbols=BENCH (top of book, depth and last trade), served from the
 *           gateway's cache (in memory: the embedded default).
 *
 * Environment: BENCH_SECONDS (per workload, default 10), BENCH_WARMUP_SECONDS (default 2),
 * BENCH_CONNECTIONS (default 64), BENCH_DATABASE_URL / DATABASE_URL (admin connection used to create
 * and drop a scratch database; default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * Prints a table, then as the last line:
 *   {"orders":{"reqPerSec":N,"p99ms":N},"quotes":{"reqPerSec":N,"p99ms":N}}
 * Targets on a 2-core machine (reported, not asserted): ≥ 8,000 orders/s with p99 ≤ 25 ms,
 * ≥ 25,000 quote reads/s.
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createGateway } from '../src/gateway/index.ts';
import { createMemoryBus } from '../src/platform/bus/memory.ts';
import { createMemoryCache } from '../src/platform/cache/memory.ts';
import { systemClock } from '../src/platform/clock.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { openPostgres } from '../src/platform/db/postgres.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createMemoryRateLimiter } from '../src/platform/ratelimit/memory.ts';
import { createOrdersService } from '../src/services/orders/index.ts';
import { createUsersService } from '../src/services/users/index.ts';
import { fmtInt, formatTable } from './lib/table.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SYMBOL = 'BENCH';
const PASSWORD = 'bench pass phrase 2026';
const UNLIMITED = { capacity: 1_000_000_000, refillPerSec: 1_000_000_000 };

interface Figures {
  name: string;
  reqPerSec: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  ok: number;
  failed: number;
}

function run(name: string, opts: autocannon.Options, seconds: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    autocannon({ ...opts, duration: seconds, connections: CONNECTIONS, workers: 1 }, (err, r) => {
      if (err) return reject(err);
      resolve({
        name,
        reqPerSec: r.requests.average,
        p50ms: r.latency.p50,
        p99ms: r.latency.p99,
        maxMs: r.latency.max,
        ok: r['2xx'],
        failed: r.non2xx + r.errors + r.timeouts,
      });
    });
  });
}

async function withScratchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_gateway_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const logger = createLogger({ level: 'warn' });
  const results = await withScratchDatabase(async (url) => {
    const db = await openPostgres({ connectionString: url });
    await migrate(db);
    const bus = createMemoryBus({ logger });
    const internal = Fastify({ logger: false });
    const orders = await createOrdersService({ db, bus, clock: systemClock, logger });
    const users = await createUsersService({
      db,
      bus,
      clock: systemClock,
      logger: internal.log,
      config: { secret: 'bench-secret-that-is-long-enough-0123456789' },
    });
    await orders.register(internal);
    await users.register(internal);
    internal.get('/healthz', async () => ({ status: 'ok' }));
    const internalUrl = await internal.listen({ port: 0, host: '127.0.0.1' });

    const cache = createMemoryCache();
    const limiter = createMemoryRateLimiter();
    const gateway = await createGateway({
      logger,
      upstreams: { orders: [internalUrl], users: [internalUrl] },
      usersInternalToken: users.internalToken,
      cache,
      limiter,
      bus,
      config: { rateLimits: { orders: UNLIMITED, reads: UNLIMITED, login: UNLIMITED } },
    });
    const gatewayUrl = await gateway.app.listen({ port: 0, host: '127.0.0.1' });

    try {
      await orders.client.addInstrument({
        symbol: SYMBOL,
        tickSize: 1,
        lotSize: 1,
        minQty: 1,
        maxQty: 1_000_000,
        priceBandBps: 0,
        collarBps: 1000,
        referencePrice: 10_000,
      });
      const reg = await gateway.app.inject({
        method: 'POST',
        url: '/users',
        payload: { username: 'bencher', email: 'bencher@example.com', password: PASSWORD },
      });
      const userId = (reg.json() as { id: string }).id;
      const login = await gateway.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'bencher', password: PASSWORD },
      });
      const token = (login.json() as { access_token: string }).access_token;
      await orders.client.deposit(userId, { amount: 1_000_000_000_00 });
      await orders.client.transferShares(userId, { symbol: SYMBOL, qty: 10_000_000, cost: 1_000_000_000_00 });

      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const order = (side: 'buy' | 'sell', price: string) => ({
        method: 'POST' as const,
        path: '/v2/orders',
        headers,
        body: JSON.stringify({
          symbol: SYMBOL,
          qty: '1',
          side,
          type: 'limit',
          time_in_force: 'gtc',
          limit_price: price,
        }),
      });
      const ordersOpts = { url: gatewayUrl, requests: [order('buy', '99.00'), order('sell', '101.00')] };
      const quotesOpts = { url: `${gatewayUrl}/market-data?symbols=${SYMBOL}`, headers };

      if (WARMUP_SECONDS > 0) await run('warmup', ordersOpts, WARMUP_SECONDS);
      const ordersResult = await run('orders', ordersOpts, SECONDS);
      if (WARMUP_SECONDS > 0) await run('warmup', quotesOpts, WARMUP_SECONDS);
      const quotesResult = await run('quotes', quotesOpts, SECONDS);
      return [ordersResult, quotesResult];
    } finally {
      await gateway.close();
      await internal.close();
      await users.close();
      await orders.close();
      await bus.close();
      await db.close();
    }
  });

  console.log(
    `gateway bench: ${SECONDS} s per workload, ${CONNECTIONS} connections, auth + rate limiting on, PostgreSQL\n`,
  );
  console.log(
    formatTable(
      ['workload', 'req/s', 'p50 ms', 'p99 ms', 'max ms', '2xx', 'failed'],
      results.map((r) => [
        r.name,
        fmtInt(r.reqPerSec),
        r.p50ms,
        r.p99ms,
        r.maxMs,
        fmtInt(r.ok),
        fmtInt(r.failed),
      ]),
    ),
  );
  const [o, q] = results as [Figures, Figures];
  console.log(
    JSON.stringify({
      orders: { reqPerSec: Math.round(o.reqPerSec), p99ms: o.p99ms },
      quotes: { reqPerSec: Math.round(q.reqPerSec), p99ms: q.p99ms },
    }),
  );
}

await main();
