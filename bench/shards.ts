/**
 * `npm run bench:shards` — orders shard nodes (issue 11: risk shard k by account + matching shard k by
 * symbol, one sequencer and one fenced journal each, messages between shards over NATS JetStream),
 * each `bourse start --role orders-shard` in its own process, on a scratch PostgreSQL database
 * (fsync and synchronous_commit on, or the bench refuses) and a NATS JetStream server of its own
 * (one node; BENCH_NATS_URL to use another, under a subject prefix and stream of the run's own).
 *
 *   knee      for N = 1 and N = 2 shards (leaders only), BENCH_ACCOUNTS accounts (default 200)
 *             spread evenly over the shards by riskShardOf, BENCH_SYMBOLS symbols (8) spread evenly by
 *             matchingShardOf; an open-loop sweep (bench/lib/load) of POST /orders sent straight to
 *             each account's shard leader: the order mix of bench:orders (GTC buys that rest, IOC sells
 *             that take them), so most orders of an account's shard go to a book of another shard
 *             when N = 2. The knee is bench/lib/load/knee.ts's, as bench:cluster and bench:gateway
 *             read it: the highest achieved rate of a step with p99 ≤ 50 ms, no errors and no 429/503.
 *   CPU       per process, from /proc, over the sweep less its idle CPU: µs per order offered, for
 *             each shard node and the NATS server; their sum gives the orders/s one more core carries.
 *             Per step (the table's last column): all processes together, idle CPU included.
 *   failover  N = 2 with a standby for shard 1 (started with the others): BENCH_FAILOVER_RATE orders/s
 *             (default: half the N = 2 knee, at least 20) for BENCH_FAILOVER_SECONDS (12); a third of
 *             the way in, kill -9 of shard 1's leader. The generator sends each order to the instance
 *             of its shard that answered last, and sends it again to the other one after a refused
 *             connection or a 503 not-leader (nothing was executed). failoverMs: from the kill to the
 *             answer of the first order for shard 1 sent after the kill that was acknowledged.
 *             lostAcked: acknowledged order ids (the `id` of the 201) missing from shard_journal.
 *   checks    after each run, once the shards are quiet: cash over every account (the fee account's
 *             included) equals what was deposited, and the shares of each symbol what was transferred.
 *
 * Environment: BENCH_ACCOUNTS, BENCH_SYMBOLS, BENCH_FAILOVER_RATE, BENCH_FAILOVER_SECONDS (0: no
 * failover run), BENCH_IDLE_SECONDS (idle CPU measured before each sweep, default 3), BENCH_NATS_URL,
 * BENCH_DATABASE_URL / DATABASE_URL (admin connection for the scratch databases), and the sweep's
 * BENCH_RATES, BENCH_STEP_SECONDS, BENCH_WARMUP_SECONDS, BENCH_PRIME_SECONDS, BENCH_STOP_P99_MS,
 * BENCH_CONNECTIONS, BENCH_GENERATORS (bench/lib/load/sweep.ts).
 *
 * Last line: {"knee":{"shards1":N,"shards2":N},"failoverMs":N,"lostAcked":N,"cpuUsPerOrder":{…},…}
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { type NatsCluster, startNatsCluster } from '../src/cli/cluster-nats.ts';
import { matchingShardOf, riskShardOf, type ShardLayout } from '../src/engine/shards/layout.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { openPostgres } from '../src/platform/db/postgres.ts';
import { FORWARDED_HEADERS } from '../src/platform/http/forwarded-identity.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../src/services/orders/index.ts';
import { ROLE_HEADER } from '../src/services/orders/problems.ts';
import { inBatches } from './lib/api.ts';
import { runStep } from './lib/load/generator.ts';
import { orderAt, REFERENCE_PRICE_CENTS } from './lib/load/order-mix.ts';
import { curveTable } from './lib/load/report.ts';
import { type Curve, curveJson, offeredRequests, sweep, sweepSettingsFromEnv } from './lib/load/sweep.ts';
import type { ShardOrdersContext } from './lib/load/workloads/shard-orders.ts';
import { cpuPerRequest, sampleCpu } from './lib/proc.ts';
import { durableOrRefuse, requireDurablePostgres, withScratchDatabase } from './lib/scratch-postgres.ts';
import {
  accountTotals,
  type ShardNodes,
  shardCall,
  startShardNodes,
  type Totals,
  waitQuiet,
} from './lib/shard-nodes.ts';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 8);
const FAILOVER_SECONDS = Number(process.env.BENCH_FAILOVER_SECONDS ?? 12);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 3);
/** BENCH_WAIT=1: each order's answer waits for its matching shard's verdict (?wait=true), a hop later */
const WAIT = process.env.BENCH_WAIT === '1';
const LEASE_MS = 1000;
const CASH_CENTS = 1_000_000_000; // $10 M each: cash never limits the mix
const SHARES = 1_000_000;
const TOKEN = randomBytes(24).toString('base64url');
const WORKLOAD = new URL('./lib/load/workloads/shard-orders.ts', import.meta.url).href;
const RUN = `${process.pid}_${Date.now() % 1_000_000}`;

const settings = sweepSettingsFromEnv();

/**
 * `count` names `${prefix}${n}`, the k-th owned by shard k mod `shards` (by `shardOf`), so every
 * shard gets its even part even of a handful.
 */
function spread(prefix: string, count: number, shards: number, shardOf: (name: string) => number): string[] {
  const free: string[][] = Array.from({ length: shards }, () => []);
  const names: string[] = [];
  for (let n = 0; names.length < count; n++) {
    const name = `${prefix}${n}`;
    free[shardOf(name)]!.push(name);
    while (names.length < count && free[names.length % shards]!.length > 0)
      names.push(free[names.length % shards]!.shift()!);
  }
  return names;
}

interface RunResult {
  shards: number;
  curve: Curve;
  perProcess: { name: string; usPerOrder: number }[];
  totalUs: number;
  conserved: boolean;
  totals: { expected: Totals; found: Totals };
  failover?: Failover;
}

interface Failover {
  rate: number;
  sent: number;
  acked: number;
  errors: number;
  overload: number;
  rejected: number;
  resent: number;
  failoverMs: number | null;
  lostAcked: number;
  samples: string[];
}

async function run(shards: number, nats: { url: string; external: boolean }): Promise<RunResult> {
  const layout: ShardLayout = { riskShards: shards, matchingShards: shards };
  const symbols = spread('SHD', SYMBOLS, shards, (s) => matchingShardOf(s, layout));
  const accounts = spread('sh', ACCOUNTS, shards, (a) => riskShardOf(a, layout));
  const failover = shards === 2 && FAILOVER_SECONDS > 0;
  return withScratchDatabase(`bourse_bench_shards${shards}`, async (databaseUrl) => {
    await requireDurablePostgres(databaseUrl);
    const db = await openPostgres({ connectionString: databaseUrl, max: 2 });
    await migrate(db).finally(() => db.close()); // once, before the nodes start at the same time
    const natsPrefix = `bench_shards_${RUN}_${shards}`;
    const natsStream = `BOURSE_${natsPrefix}`;
    const cluster = await startShardNodes({
      shards,
      standbys: failover ? [1] : [],
      databaseUrl,
      natsUrl: nats.url,
      natsPrefix,
      natsStream,
      internalToken: TOKEN,
      leaseMs: LEASE_MS,
    });
    try {
      return await measure(shards, layout, symbols, accounts, cluster, databaseUrl, nats, failover);
    } finally {
      await cluster.stop();
      if (nats.external) await deleteStream(nats.url, natsStream);
    }
  });
}

async function measure(
  shards: number,
  layout: ShardLayout,
  symbols: string[],
  accounts: string[],
  cluster: ShardNodes,
  databaseUrl: string,
  nats: { url: string; external: boolean; pid?: number },
  failover: boolean,
): Promise<RunResult> {
  const t0 = performance.now();
  const shardOf = (a: string) => riskShardOf(a, layout);
  let leaders = await Promise.all(Array.from({ length: shards }, (_, k) => cluster.leader(k)));
  // every symbol on every shard: the risk side prices orders of all of them, the matching side books its own
  for (const leader of leaders)
    for (const symbol of symbols)
      await shardCall(leader.url, TOKEN, 'POST', '/instruments', {
        symbol,
        tick_size: 1,
        lot_size: 1,
        min_qty: 1,
        max_qty: 1_000_000,
        price_band_bps: 2_000,
        collar_bps: 2_000,
        reference_price: REFERENCE_PRICE_CENTS,
      });
  // cash, and shares of the order mix's home symbol (account k holds symbol k mod symbols)
  const expected: Totals = { cash: 0, shares: {}, pending: 0 };
  await inBatches(accounts, 16, async (account, k) => {
    const base = leaders[shardOf(account)]!.url;
    const symbol = symbols[k % symbols.length]!;
    await shardCall(base, TOKEN, 'POST', `/accounts/${account}/deposits`, { amount: CASH_CENTS });
    await shardCall(base, TOKEN, 'POST', `/accounts/${account}/share-transfers`, {
      symbol,
      qty: SHARES,
      cost: SHARES * REFERENCE_PRICE_CENTS,
    });
  });
  for (let k = 0; k < accounts.length; k++) {
    const symbol = symbols[k % symbols.length]!;
    expected.cash += CASH_CENTS;
    expected.shares[symbol] = (expected.shares[symbol] ?? 0) + SHARES;
  }
  process.stderr.write(
    `bench:shards: ${shards} shard(s) up, ${symbols.length} symbols listed, ${accounts.length} accounts funded ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );

  const context: ShardOrdersContext = {
    headers: { [FORWARDED_HEADERS.token]: TOKEN },
    accounts,
    shards: accounts.map(shardOf),
    symbols,
    wait: WAIT,
  };
  const groups = {
    urls: Array.from({ length: shards }, (_, k) => cluster.instances(k).map((n) => n.url)),
    notLeaderHeader: ROLE_HEADER,
  };
  const processes = [
    ...cluster.nodes.map((n) => ({ name: n.name, pid: n.child.pid })),
    ...(nats.pid === undefined ? [] : [{ name: 'nats', pid: nats.pid }]),
  ];
  const idle0 = await sampleCpu(processes);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle1 = await sampleCpu(processes);
  const cpu0 = await sampleCpu(processes);
  // per step, the CPU of every process together, idle CPU included (the table's "server CPU
  // µs/req"): it falls with the rate, as commits and messages are batched and idle costs spread
  const allCpuMs = async () => [...(await sampleCpu(processes)).ms.values()].reduce((a, b) => a + b, 0);
  const curve = await sweep(
    `${shards} shard(s)`,
    { url: leaders[0]!.url, groups, workload: WORKLOAD, context },
    settings,
    allCpuMs,
  );
  const cpu1 = await sampleCpu(processes);
  const perProcess = cpuPerRequest([idle0, idle1], [cpu0, cpu1], offeredRequests(curve, settings)).map(
    (p) => ({ name: p.name, usPerOrder: p.usPerRequest }),
  );
  const totalUs = perProcess.reduce((sum, p) => sum + p.usPerOrder, 0);

  let fo: Failover | undefined;
  if (failover) {
    const rate = Number(process.env.BENCH_FAILOVER_RATE ?? Math.max(20, Math.round((curve.knee || 40) / 2)));
    const killAfterMs = (FAILOVER_SECONDS * 1000) / 3;
    const step = runStep({
      url: leaders[0]!.url,
      groups,
      threads: settings.threads,
      rate,
      seconds: FAILOVER_SECONDS,
      warmupSeconds: 0,
      connections: settings.connections,
      workload: WORKLOAD,
      context,
      recordAcks: true,
      ackBodies: true,
      drainSeconds: 30,
    });
    // the generator starts its schedule ~0.6 s after the call
    await new Promise((r) => setTimeout(r, 600 + killAfterMs));
    const victim = leaders[1]!;
    const killedAt = Date.now();
    await cluster.kill(victim);
    process.stderr.write(`  killed ${victim.name} (kill -9) at +${(killAfterMs / 1000).toFixed(1)} s\n`);
    const result = await step;
    const acks = result.acks ?? [];
    const shardOfRequest = (i: number) =>
      context.shards[orderAt(i, accounts.length, symbols.length).account]!;
    // answers just after the kill to orders sent before it may come from the old leader: not counted
    const after = acks.filter(([i, scheduled]) => scheduled >= killedAt && shardOfRequest(i) === 1);
    const failoverMs =
      after.length > 0 ? Math.round(Math.min(...after.map(([, , at]) => at)) - killedAt) : null;
    const ids = acks.map(([, , , body]) => (JSON.parse(body!) as { id: number }).id);
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    let found = 0;
    try {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(DISTINCT (input->'command'->>'id')::bigint)::text AS n FROM shard_journal
          WHERE input->>'kind' = 'command' AND input->'command'->>'type' = 'new_order'
            AND (input->'command'->>'id')::bigint = ANY($1::int8[])`,
        [ids],
      );
      found = Number(rows[0]!.n);
    } finally {
      await db.end();
    }
    fo = {
      rate,
      sent: result.sent,
      acked: acks.length,
      errors: result.errors,
      overload: result.overload,
      rejected: result.rejected,
      resent: result.resent,
      failoverMs,
      lostAcked: new Set(ids).size - found,
      samples: result.samples,
    };
    leaders = await Promise.all(Array.from({ length: shards }, (_, k) => cluster.leader(k)));
  }

  await waitQuiet(
    leaders.map((l) => l.url),
    TOKEN,
  );
  const everyone = [...accounts, DEFAULT_EXCHANGE_CONFIG.feeAccount];
  const found = await accountTotals(everyone, (a) => leaders[shardOf(a)]!.url, TOKEN);
  const conserved =
    found.cash === expected.cash &&
    found.pending === 0 &&
    symbols.every((s) => (found.shares[s] ?? 0) === (expected.shares[s] ?? 0));
  return {
    shards,
    curve,
    perProcess,
    totalUs,
    conserved,
    totals: { expected, found },
    ...(fo && { failover: fo }),
  };
}

async function deleteStream(servers: string, stream: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => {});
  } finally {
    await nc.close();
  }
}

async function main(): Promise<number> {
  const durability = await durableOrRefuse('bench:shards');
  if (durability === null) return 1;
  const load0 = loadavg()[0]!;
  let natsCluster: NatsCluster | undefined;
  const external = process.env.BENCH_NATS_URL;
  if (!external) natsCluster = await startNatsCluster({ nodes: 1 });
  const nats = external
    ? { url: external, external: true }
    : { url: natsCluster!.urls, external: false, pid: natsCluster!.nodes[0]!.child.pid };
  const results: RunResult[] = [];
  try {
    for (const n of [1, 2]) results.push(await run(n, nats));
  } finally {
    await natsCluster?.stop();
  }
  const load1 = loadavg()[0]!;

  console.log(
    `\nbench:shards — orders shard nodes (bourse start --role orders-shard, one process per shard) on ` +
      `PostgreSQL (${durability}) and ${external ? `NATS at ${external}` : 'a NATS JetStream node of their own'}; ` +
      `${ACCOUNTS} accounts, ${SYMBOLS} symbols, spread evenly over the shards; open loop straight to each ` +
      `account's shard leader, answered ${WAIT ? "after the matching shard's verdict (?wait=true)" : 'at the hold'}, ` +
      `${settings.stepSeconds} s per step after ${settings.warmupSeconds} s warm-up; ` +
      `${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}\n`,
  );
  for (const r of results) {
    console.log(curveTable(`${r.shards} orders shard(s) — POST /internal/orders-shard/…/orders`, r.curve));
    console.log(
      `CPU per order offered over the sweep, less each process's idle CPU (µs, user + system, from /proc):`,
    );
    for (const p of r.perProcess)
      console.log(`  ${p.name.padEnd(12)} ${p.usPerOrder.toFixed(0).padStart(7)}`);
    console.log(
      `  ${'all'.padEnd(12)} ${r.totalUs.toFixed(0).padStart(7)}  → one more core carries ~${Math.round(1e6 / r.totalUs)} orders/s`,
    );
    console.log(
      `conserved (cash over every account = deposits, shares per symbol = transfers, nothing pending): ${r.conserved}` +
        (r.conserved
          ? ''
          : ` — expected ${JSON.stringify(r.totals.expected)}, found ${JSON.stringify(r.totals.found)}`),
    );
    console.log('');
  }
  const two = results.find((r) => r.shards === 2);
  const f = two?.failover;
  if (f) {
    console.log(
      `kill -9 of shard 1's leader at ${f.rate} orders/s: first acknowledged order for shard 1 sent after the kill ` +
        `answered ${f.failoverMs ?? 'never'} ms after it; ${f.acked} of ${f.sent} acknowledged, ${f.resent} resends ` +
        `(refused connection, not-leader, or cut mid-request: each order carries a client order id), ${f.overload} 429/503, ${f.errors} errors, ` +
        `${f.rejected} other 4xx; acknowledged but missing from shard_journal: ${f.lostAcked}`,
    );
    for (const s of f.samples) console.log(`  e.g. ${s}`);
    console.log('');
  }
  const byShards = (pick: (r: RunResult) => unknown) =>
    Object.fromEntries(results.map((r) => [`shards${r.shards}`, pick(r)]));
  console.log(
    JSON.stringify({
      knee: byShards((r) => r.curve.knee),
      failoverMs: f?.failoverMs ?? null,
      lostAcked: f?.lostAcked ?? null,
      cpuUsPerOrder: byShards((r) => ({
        ...Object.fromEntries(r.perProcess.map((p) => [p.name, Math.round(p.usPerOrder)])),
        all: Math.round(r.totalUs),
      })),
      projectedOrdersPerSecondPerAddedCore: byShards((r) => Math.round(1e6 / r.totalUs)),
      conserved: results.every((r) => r.conserved),
      curves: byShards((r) => curveJson(r.curve).curve),
    }),
  );
  return 0;
}

process.exitCode = await main();
