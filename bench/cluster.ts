/**
 * `npm run bench:cluster` — Bourse as a cluster, as `bourse cluster` starts it (src/cli/cluster-launch.ts):
 * 3 NATS JetStream nodes (replicas 3), 2 users, 2 market data, 1 reporting and 2 gateways, each its own
 * process, on a scratch PostgreSQL database (fsync and synchronous_commit on, or the bench refuses) and
 * Redis; the orders side twice, each on a cluster of its own:
 *   shards1   the orders service as leader + hot standby (`bourse cluster`);
 *   shards2   2 orders shard nodes, each as leader + hot standby (`bourse cluster --shards 2`): accounts
 *             on their risk shard, symbols on their matching shard, the gateways' sharded client.
 * (BENCH_SHARDS=1 or =2 runs one of them; the other's figures are then null.)
 *
 *   knee      an open-loop sweep (bench/lib/load) of POST /v2/orders through both gateways at once (one
 *             generator thread per gateway, the schedule split between them), the order mix of
 *             bench:gateway over BENCH_ACCOUNTS investors (default 200) and BENCH_SYMBOLS symbols (20).
 *             Instruments, funding and orders all go through the gateways.
 *   CPU       per process, from /proc, over the sweep, less each process's idle CPU: µs per order for each
 *             orders leader (per shard) and for the whole cluster, and from that the orders/s one more
 *             core would carry.
 *   failover  BENCH_FAILOVER_RATE orders/s (default: half the knee, at least 50) for
 *             BENCH_FAILOVER_SECONDS (default 12); a third of the way in, kill -9 of shard 0's leader.
 *             failoverMs: from the kill to the answer of the first order on that shard sent after the
 *             kill that was acknowledged (by its standby, now leader; so it includes one order's
 *             latency). lostAcked: acknowledged orders (by client_order_id) missing afterwards (the
 *             orders table; with shards, the shards' journals). Cash and shares are checked for
 *             conservation across the accounts (with shards: across every shard, once quiet).
 *
 * Last line: {"failoverMs":N,"lostAcked":N,"knee":{"shards1":N,"shards2":N},…} (failoverMs of the
 * 2-shard cluster when it ran; lostAcked summed over both)
 */

import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { type RunningCluster, startCluster } from '../src/cli/cluster-launch.ts';
import { DEFAULT_SHAPE } from '../src/cli/cluster-plan.ts';
import { riskShardOf, type ShardLayout } from '../src/engine/shards/layout.ts';
import { DEFAULT_EXCHANGE_CONFIG } from '../src/services/orders/index.ts';
import { deriveKeys } from '../src/services/users/secret.ts';
import { fundedInvestors, UNLIMITED_RATES } from './lib/api.ts';
import { runStep } from './lib/load/generator.ts';
import { orderAt } from './lib/load/order-mix.ts';
import { curveTable } from './lib/load/report.ts';
import { type Curve, curveJson, offeredRequests, sweep, sweepSettingsFromEnv } from './lib/load/sweep.ts';
import type { GatewayContext } from './lib/load/workloads/gateway-orders.ts';
import { cpuPerRequest, sampleCpu } from './lib/proc.ts';
import { durableOrRefuse, requireDurablePostgres, withScratchDatabase } from './lib/scratch-postgres.ts';
import { accountTotals, waitQuiet } from './lib/shard-nodes.ts';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 20);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FAILOVER_SECONDS = Number(process.env.BENCH_FAILOVER_SECONDS ?? 12);
const ADMIN_PASSWORD = 'bench operator pass phrase 2026';
const PASSWORD = 'bench investor pass phrase 2026';
const CASH_CENTS = 1_000_000_000; // $10 M each: cash never limits the mix
const SHARES = 1_000_000;
const ORDERS = new URL('./lib/load/workloads/gateway-orders.ts', import.meta.url).href;
const symbols = Array.from({ length: SYMBOLS }, (_, k) => `CLU${String(k).padStart(2, '0')}`);

const settings = sweepSettingsFromEnv();
// one generator thread per gateway at least
settings.threads = Math.max(settings.threads, 2);

/** Symbols listed, investors registered (alternately through both gateways), funded with cash and shares. */
async function setUp(gateways: readonly string[]): Promise<{ tokens: string[]; ids: string[] }> {
  const t0 = performance.now();
  const accounts = await fundedInvestors(gateways, {
    adminPassword: ADMIN_PASSWORD,
    password: PASSWORD,
    symbols,
    names: Array.from({ length: ACCOUNTS }, (_, k) => `clu${String(k).padStart(5, '0')}`),
    cashCents: CASH_CENTS,
    shares: SHARES,
  });
  process.stderr.write(
    `  ${ACCOUNTS} investors registered, logged in and funded (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
  return { tokens: accounts.map((a) => a.token), ids: accounts.map((a) => a.id) };
}

function cpuByProcess(cluster: RunningCluster) {
  return sampleCpu([
    ...cluster.nats.nodes.map((n) => ({ name: `nats-${n.name}`, pid: n.child.pid })),
    ...cluster.processes.map((p) => ({ name: p.name, pid: p.child.pid })),
  ]);
}

interface Totals {
  cash: number;
  shares: number;
}

/** Sums of cash and shares once the tables have caught up with the journal (the projection trails acks). */
async function totals(db: pg.Client): Promise<Totals> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await db.query<{ projected: string; committed: string }>(
      `SELECT (SELECT last_seq FROM exchange_state WHERE id = 1)::text AS projected,
              (SELECT coalesce(max(seq), 0) FROM journal)::text AS committed`,
    );
    if (Number(rows[0]!.projected) >= Number(rows[0]!.committed)) break;
    if (Date.now() > deadline) throw new Error('the orders tables did not catch up with the journal in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cash = await db.query<{ n: string }>('SELECT coalesce(sum(cash), 0)::text AS n FROM accounts');
  const shares = await db.query<{ n: string }>('SELECT coalesce(sum(qty), 0)::text AS n FROM positions');
  return { cash: Number(cash.rows[0]!.n), shares: Number(shares.rows[0]!.n) };
}

interface Measured {
  shards: number;
  curve: Curve;
  perProcess: { name: string; usPerOrder: number }[];
  clusterUs: number;
  /** the orders leaders' µs per order, by shard (the processes that led during the sweep) */
  leaders: { shard: number; name: string; usPerOrder: number }[];
  failover: {
    rate: number;
    killed: string;
    sent: number;
    acked: number;
    overload: number;
    errors: number;
    rejected: number;
    failoverMs: number | null;
    lostAcked: number;
    samples: string[];
  };
  conserved: { ok: boolean; before: unknown; end: unknown };
  memory: { name: string; rssMb: number | null }[];
  startMs: number;
}

/** the shard nodes' layout: node k runs risk shard k and matching shard k */
const shardLayout = (shards: number): ShardLayout => ({ riskShards: shards, matchingShards: shards });

/** Totals over the shards, read from each account's risk shard leader once nothing is on its way. */
async function shardTotals(cluster: RunningCluster, accounts: readonly string[], token: string) {
  const leaders = await cluster.ordersLeaders();
  const url = (k: number) => {
    const l = leaders.get(k);
    if (!l) throw new Error(`orders shard ${k} has no leader`);
    return l.url;
  };
  const shards = [...new Set(cluster.processes.flatMap((p) => (p.shard === undefined ? [] : [p.shard])))];
  await waitQuiet(
    shards.map((k) => url(k)),
    token,
  );
  const layout = shardLayout(shards.length);
  const totals = await accountTotals(accounts, (a) => url(riskShardOf(a, layout)), token);
  return totals;
}

async function measure(databaseUrl: string, shards: number): Promise<Measured> {
  const cluster = await startCluster({
    databaseUrl,
    redisUrl: REDIS_URL,
    shape: { ...DEFAULT_SHAPE, shards },
    env: {
      LOG_LEVEL: 'warn',
      BOURSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...UNLIMITED_RATES,
    },
    onProgress: (line) => process.stderr.write(`  ${line}\n`),
  });
  const sharded = shards > 1;
  const token = deriveKeys(cluster.secret).internalToken;
  const layout = shardLayout(shards);
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    await db.connect();
    process.stderr.write(
      `bench:cluster (${shards} shard${shards > 1 ? 's' : ''}): up in ${(cluster.startMs / 1000).toFixed(1)} s; setting up…\n`,
    );
    const { tokens, ids } = await setUp(cluster.gateways);
    const context: GatewayContext = { tokens, symbols };
    // with shards, the fee account too once it exists (fees reach it with the first trades)
    const everyone = [...ids, DEFAULT_EXCHANGE_CONFIG.feeAccount];
    const before = sharded ? await shardTotals(cluster, ids, token) : await totals(db);

    // what the cluster burns with no orders (feeds, health checks, NATS, projector): subtracted below
    const idle0 = await cpuByProcess(cluster);
    await new Promise((r) => setTimeout(r, 5000));
    const idle1 = await cpuByProcess(cluster);
    const leading = await cluster.ordersLeaders();

    // --- the knee through both gateways ---------------------------------------------------------
    const cpu0 = await cpuByProcess(cluster);
    const curve: Curve = await sweep(
      `cluster orders, ${shards} shard${shards > 1 ? 's' : ''}`,
      { url: cluster.gateways[0]!, urls: [...cluster.gateways], workload: ORDERS, context },
      settings,
    );
    const cpu1 = await cpuByProcess(cluster);
    // CPU the orders cost: the sweep's, less what the process burns idle over as long
    const perProcess = cpuPerRequest([idle0, idle1], [cpu0, cpu1], offeredRequests(curve, settings)).map(
      (p) => ({ name: p.name, usPerOrder: p.usPerRequest }),
    );
    const clusterUs = perProcess.reduce((sum, p) => sum + p.usPerOrder, 0);
    const leaders = [...leading].map(([shard, p]) => ({
      shard,
      name: p.name,
      usPerOrder: perProcess.find((x) => x.name === p.name)?.usPerOrder ?? Number.NaN,
    }));

    // --- kill -9 of shard 0's leader under load ------------------------------------------------
    const rate = Number(process.env.BENCH_FAILOVER_RATE ?? Math.max(50, Math.round((curve.knee || 100) / 2)));
    const prefix = `fo${Date.now() % 1_000_000}-`;
    const killAfterMs = (FAILOVER_SECONDS * 1000) / 3;
    const run = runStep({
      url: cluster.gateways[0]!,
      urls: [...cluster.gateways],
      threads: settings.threads,
      rate,
      seconds: FAILOVER_SECONDS,
      warmupSeconds: 0,
      connections: settings.connections,
      workload: ORDERS,
      context: { ...context, clientOrderIdPrefix: prefix } satisfies GatewayContext,
      recordAcks: true,
      drainSeconds: 30,
    });
    // the generator starts its schedule ~0.7 s after the call
    await new Promise((r) => setTimeout(r, 700 + killAfterMs));
    const leader = (await cluster.ordersLeaders()).get(0);
    if (!leader) throw new Error('orders shard 0 has no leader to kill');
    const killedAtEpochMs = Date.now();
    await cluster.kill(leader.name);
    process.stderr.write(`  killed ${leader.name} (kill -9) at +${(killAfterMs / 1000).toFixed(1)} s\n`);
    const step = await run;
    const acks = step.acks ?? [];
    const onKilledShard = (i: number) =>
      riskShardOf(ids[orderAt(i, ids.length, symbols.length).account]!, layout) === 0;
    // the first order on the killed shard sent after the kill that was acknowledged (by the new
    // leader): from the kill to its answer. Answers that arrive just after the kill to orders sent
    // before it may come from the old leader (already committed, still on their way back), so they
    // do not count.
    const after = acks
      .filter(([i, scheduled]) => scheduled >= killedAtEpochMs && onKilledShard(i))
      .map(([, , at]) => at);
    const failoverMs = after.length > 0 ? Math.round(Math.min(...after) - killedAtEpochMs) : null;
    const ackedIds = acks.map(([i]) => `${prefix}${i}`);
    let end: unknown;
    let conserved: boolean;
    let found: number;
    if (sharded) {
      // acknowledged = journaled at the account's risk shard, under its client_order_id
      const t = await shardTotals(cluster, everyone, token);
      const b = before as Awaited<ReturnType<typeof shardTotals>>;
      end = t;
      conserved =
        t.cash === b.cash &&
        t.pending === 0 &&
        symbols.every((s) => (t.shares[s] ?? 0) === (b.shares[s] ?? 0));
      const r = await db.query<{ n: string }>(
        `SELECT count(DISTINCT input->>'key')::text AS n FROM shard_journal
          WHERE input->>'kind' = 'command' AND input->>'key' = ANY($1::text[])`,
        [ackedIds],
      );
      found = Number(r.rows[0]!.n);
    } else {
      // the orders table is a projection that trails the acknowledgements (gathered for 50 ms, then
      // written): counted once it has caught up with the journal, or the last orders acknowledged
      // before the query count as lost (1-2 of 300 in runs of 2026-12-06; counted both ways, the
      // missing one was there once the tables had caught up)
      const t = await totals(db);
      const b = before as Totals;
      end = t;
      conserved = t.cash === b.cash && t.shares === b.shares;
      const r = await db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM orders WHERE client_order_id = ANY($1::text[])',
        [ackedIds],
      );
      found = Number(r.rows[0]!.n);
    }
    const memory = await cluster.memory();
    return {
      shards,
      curve,
      perProcess,
      clusterUs,
      leaders,
      failover: {
        rate,
        killed: leader.name,
        sent: step.sent,
        acked: acks.length,
        overload: step.overload,
        errors: step.errors,
        rejected: step.rejected,
        failoverMs,
        lostAcked: new Set(ackedIds).size - found,
        samples: step.samples,
      },
      conserved: { ok: conserved, before, end },
      memory,
      startMs: cluster.startMs,
    };
  } finally {
    await db.end().catch(() => {});
    await cluster.stop();
  }
}

function report(r: Measured): void {
  const label =
    r.shards > 1 ? `${r.shards} orders shards (shard nodes, leader + standby each)` : '1 orders shard';
  console.log(curveTable(`${label} — orders through 2 gateways (POST /v2/orders)`, r.curve));
  console.log(
    `CPU per order over the sweep, ${label}, less each process's idle CPU (µs, user + system, from /proc):`,
  );
  for (const p of r.perProcess) console.log(`  ${p.name.padEnd(16)} ${p.usPerOrder.toFixed(0).padStart(7)}`);
  const perShard = r.leaders
    .map((l) => `shard ${l.shard} (${l.name}) ${l.usPerOrder.toFixed(0)} µs`)
    .join(', ');
  console.log(
    `  ${'whole cluster'.padEnd(16)} ${r.clusterUs.toFixed(0).padStart(7)}  → one more core carries ~${Math.round(1e6 / r.clusterUs)} orders/s; ` +
      `orders leaders per order: ${perShard}\n`,
  );
  const f = r.failover;
  console.log(
    `kill -9 of ${f.killed} (shard 0's leader) at ${f.rate} orders/s: first acknowledged order on that shard ${f.failoverMs ?? 'never'} ms after the kill; ` +
      `${f.acked} of ${f.sent} acknowledged, ${f.overload} overload answers (429/503), ${f.errors} errors, ${f.rejected} other 4xx; ` +
      `acknowledged but missing afterwards: ${f.lostAcked}; cash and shares conserved: ${r.conserved.ok}`,
  );
  if (!r.conserved.ok)
    console.log(
      `  totals before ${JSON.stringify(r.conserved.before)}, after ${JSON.stringify(r.conserved.end)}`,
    );
  for (const s of f.samples) console.log(`  e.g. ${s}`);
  console.log(`\nmemory (RSS MB) at the end, ${label}:`);
  for (const m of r.memory) console.log(`  ${m.name.padEnd(16)} ${String(m.rssMb ?? '-').padStart(6)}`);
  console.log('');
}

async function main(): Promise<number> {
  const durability = await durableOrRefuse('bench:cluster');
  if (durability === null) return 1;
  const which = (process.env.BENCH_SHARDS ?? '1,2').split(',').map(Number);
  const load0 = loadavg()[0]!;
  const results: Measured[] = [];
  for (const shards of which) {
    results.push(
      await withScratchDatabase(`bourse_bench_cluster${shards}`, async (url) => {
        await requireDurablePostgres(url);
        return measure(url, shards);
      }),
    );
  }
  const load1 = loadavg()[0]!;
  console.log(
    `\nbench:cluster — bourse cluster (3 NATS nodes, 2 users, 2 market data, 1 reporting, 2 gateways; orders: ` +
      `${which.map((n) => (n > 1 ? `${n} shard nodes × 2` : 'leader + standby')).join(', then ')}) on PostgreSQL (${durability}) and Redis; ` +
      `${ACCOUNTS} investors, ${SYMBOLS} symbols; open loop through both gateways, ${settings.stepSeconds} s per step after ` +
      `${settings.warmupSeconds} s warm-up; ${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; ` +
      `load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; clusters up in ${results.map((r) => `${(r.startMs / 1000).toFixed(1)} s`).join(', ')}\n`,
  );
  for (const r of results) report(r);
  const of = (n: number) => results.find((r) => (n > 1 ? r.shards > 1 : r.shards === 1));
  const s1 = of(1);
  const s2 = of(2);
  const cpu = (r: Measured | undefined) =>
    r && {
      cluster: Math.round(r.clusterUs),
      ordersLeaders: Object.fromEntries(r.leaders.map((l) => [l.shard, Math.round(l.usPerOrder)])),
    };
  const headline = s2 ?? s1;
  console.log(
    JSON.stringify({
      failoverMs: headline?.failover.failoverMs ?? null,
      lostAcked: results.reduce((sum, r) => sum + r.failover.lostAcked, 0),
      knee: { shards1: s1?.curve.knee ?? null, shards2: s2?.curve.knee ?? null },
      cpuUsPerOrder: { shards1: cpu(s1) ?? null, shards2: cpu(s2) ?? null },
      projectedOrdersPerSecondPerAddedCore: {
        shards1: s1 ? Math.round(1e6 / s1.clusterUs) : null,
        shards2: s2 ? Math.round(1e6 / s2.clusterUs) : null,
      },
      failover: Object.fromEntries(
        results.map((r) => [
          `shards${r.shards}`,
          {
            failoverMs: r.failover.failoverMs,
            lostAcked: r.failover.lostAcked,
            acked: r.failover.acked,
            sent: r.failover.sent,
          },
        ]),
      ),
      conserved: results.every((r) => r.conserved.ok),
      curve: Object.fromEntries(results.map((r) => [`shards${r.shards}`, curveJson(r.curve).curve])),
    }),
  );
  return 0;
}

process.exitCode = await main();
