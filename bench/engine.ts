/**
 * `npm run bench:engine`: the full exchange core (risk + matching + accounting + events) on one
 * thread, against the npm package `nodejs-order-book` as the peer, on identical seeded streams.
 *
 * Per workload (steady: ~1,000 resting orders; deep: 100,000) the stream is generated up front
 * (bench/lib/workload.ts) and split into prefill | warmup | throughput | latency segments. Each
 * contestant gets a fresh book, applies prefill and warmup untimed, then:
 *   - throughput: the throughput segment in one tight loop, timed as a whole (no per-command timer);
 *   - latency: the next segment (same workload, continuing), each command timed on its own with
 *     process.hrtime.bigint(); the timer's own cost (median of back-to-back calls) is measured
 *     and subtracted from the percentiles.
 * Afterwards every contestant's book is checked against the generator's reference book, and the
 * number of trading commands against the generator's count, so both provably ran the same stream.
 *
 * Flags (or env): --steady N / BENCH_STEADY, --deep N / BENCH_DEEP (commands per measured segment),
 * --warmup N / BENCH_WARMUP, --deep-book N, --seed N / BENCH_SEED, --workloads steady,deep,
 * --contestants bourse,peer, --repeat N / BENCH_REPEAT (fresh runs per contestant, alternating; the
 * median of each metric is reported), --pick-window N / BENCH_PICK_WINDOW (cancels and moves pick
 * from a hot set of N orders instead of the whole book; exchange-core's generator uses 512).
 * The last line of output is the JSON summary.
 */
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BENCH_EXCHANGE_CONFIG, createBourseContestant } from './lib/bourse-contestant.ts';
import type { Contestant, RunCheck } from './lib/contestant.ts';
import { createPeerContestant, PEER_NAME } from './lib/peer-contestant.ts';
import { forceGc, nodeInfo } from './lib/runtime.ts';
import { round, summarize, timerOverheadNs } from './lib/stats.ts';
import { fmtFixed, fmtInt, fmtPct, formatTable } from './lib/table.ts';
import { generateWorkload, OP_KINDS, type OpKind, type Workload, workloadConfig } from './lib/workload.ts';

const { values: flags } = parseArgs({
  options: {
    steady: { type: 'string' },
    deep: { type: 'string' },
    warmup: { type: 'string' },
    'deep-book': { type: 'string' },
    seed: { type: 'string' },
    repeat: { type: 'string' },
    'pick-window': { type: 'string' },
    workloads: { type: 'string' },
    contestants: { type: 'string' },
  },
});

function intOption(flag: string | undefined, env: string, fallback: number): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad value for ${env}: ${raw}`);
  return n;
}

const seed = intOption(flags.seed, 'BENCH_SEED', 20_260_101);
const repeat = Math.max(1, intOption(flags.repeat, 'BENCH_REPEAT', 1));
const pickWindow = intOption(flags['pick-window'], 'BENCH_PICK_WINDOW', 0);
const warmup = intOption(flags.warmup, 'BENCH_WARMUP', 100_000);
const presets = {
  steady: { bookOrders: 1_000, warmup, measured: intOption(flags.steady, 'BENCH_STEADY', 1_000_000) },
  deep: {
    bookOrders: intOption(flags['deep-book'], 'BENCH_DEEP_BOOK', 100_000),
    warmup,
    measured: intOption(flags.deep, 'BENCH_DEEP', 200_000),
  },
};
type WorkloadName = keyof typeof presets;
const workloads = (flags.workloads ?? 'steady,deep').split(',').map((w) => {
  if (!(w in presets)) throw new Error(`unknown workload ${w}`);
  return w as WorkloadName;
});
const contestants = (flags.contestants ?? 'bourse,peer').split(',');
for (const c of contestants) if (c !== 'bourse' && c !== 'peer') throw new Error(`unknown contestant ${c}`);

interface Result {
  opsPerSec: number;
  /** the same count over the process's CPU time (user + system): less sensitive to a busy machine */
  cpuOpsPerSec: number;
  /** share of the throughput pass spent in GC pauses */
  gcShare: number;
  p50us: number;
  p99us: number;
  p999us: number;
  maxUs: number;
  /** latency p50 / p99 (µs, timer cost subtracted) per command kind */
  byKind: Record<OpKind, { count: number; p50us: number; p99us: number }>;
  check: RunCheck;
  problems: string[];
}

async function makeContestant(kind: string, w: Workload): Promise<Contestant> {
  if (kind === 'peer') return createPeerContestant(w.ops);
  // imported on demand so that `--contestants peer` runs without the engine
  const { createExchange } = await import('../src/engine/index.ts');
  return createBourseContestant(createExchange(BENCH_EXCHANGE_CONFIG), w.config, w.ops);
}

/** GC pauses on the main thread, summed by a performance observer (entries arrive asynchronously). */
const gcTotals = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcTotals.count++;
    gcTotals.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

async function run(c: Contestant, w: Workload, overheadNs: number): Promise<Result> {
  const s = w.segments;
  c.load(s.prefill.start, s.prefill.end);
  c.applyLoaded();
  c.load(s.warmup.start, s.warmup.end);
  c.applyLoaded();

  c.load(s.throughput.start, s.throughput.end);
  forceGc();
  await settle();
  const gc0 = { ...gcTotals };
  const cpu0 = process.cpuUsage();
  const elapsedNs = c.timeLoaded();
  const cpu = process.cpuUsage(cpu0);
  await settle();
  const gcMs = gcTotals.ms - gc0.ms;

  c.load(s.latency.start, s.latency.end);
  forceGc();
  const samples = new Float64Array(s.latency.commands);
  c.sampleLoaded(samples);
  const us = (ns: number): number => Math.max(0, ns - overheadNs) / 1000;
  const byKind = {} as Result['byKind'];
  for (const kind of OP_KINDS) {
    const picked: number[] = [];
    for (let i = 0; i < samples.length; i++)
      if (w.ops.kindAt(s.latency.start + i) === kind) picked.push(samples[i]!);
    const k = summarize(Float64Array.from(picked));
    byKind[kind] = { count: picked.length, p50us: us(k.p50ns), p99us: us(k.p99ns) };
  }
  const lat = summarize(samples);

  const check = c.check();
  const problems: string[] = [];
  const fb = w.finalBook;
  if (check.refused > 0) problems.push(`${check.refused} commands refused`);
  const expectTrading = s.warmup.trading + s.latency.trading;
  if (check.trading !== expectTrading)
    problems.push(`trading commands ${check.trading} != model ${expectTrading}`);
  if (check.orders !== fb.orders) problems.push(`resting orders ${check.orders} != model ${fb.orders}`);
  if (check.bestBid !== fb.bestBid || check.bestAsk !== fb.bestAsk)
    problems.push(`touch ${check.bestBid}/${check.bestAsk} != model ${fb.bestBid}/${fb.bestAsk}`);
  if (check.bidVolume !== fb.bidVolume || check.askVolume !== fb.askVolume)
    problems.push(`volume ${check.bidVolume}/${check.askVolume} != model ${fb.bidVolume}/${fb.askVolume}`);

  return {
    opsPerSec: s.throughput.commands / (elapsedNs / 1e9),
    cpuOpsPerSec: s.throughput.commands / ((cpu.user + cpu.system) / 1e6),
    gcShare: gcMs / (elapsedNs / 1e6),
    p50us: us(lat.p50ns),
    p99us: us(lat.p99ns),
    p999us: us(lat.p999ns),
    maxUs: us(lat.maxNs),
    byKind,
    check,
    problems,
  };
}

function printStream(w: Workload, genMs: number): void {
  const seg = w.segments;
  const rows = (['prefill', 'warmup', 'throughput', 'latency'] as const).map((name) => {
    const x = seg[name];
    const n = Math.max(1, x.commands);
    return [
      name,
      fmtInt(x.commands),
      fmtPct(x.byKind.limit / n),
      fmtPct(x.byKind.ioc / n),
      fmtPct(x.byKind.cancel / n),
      fmtPct(x.byKind.move / n),
      fmtPct(x.trading / n, 2),
      fmtFixed(x.trades / n, 3),
      x.byKind.ioc > 0 ? fmtFixed(x.qtyByKind.ioc / x.byKind.ioc, 1) : '-',
      `${fmtInt(x.bookStart)} → ${fmtInt(x.bookEnd)}`,
      `${fmtInt(x.bookMin)}..${fmtInt(x.bookMax)}`,
      `${fmtInt(x.levelsStart)} → ${fmtInt(x.levelsEnd)}`,
    ];
  });
  console.log(
    `\n[${w.config.name}] stream: seed ${w.config.seed}, ${w.config.accounts} accounts, target book ` +
      `${fmtInt(w.config.bookOrders)} orders, cancels/moves pick ${w.config.pickWindow > 0 ? `from a hot set of ${w.config.pickWindow}` : 'uniformly from the whole book'}, ` +
      `${fmtInt(w.ops.length)} commands generated in ${genMs.toFixed(0)} ms`,
  );
  console.log(
    formatTable(
      [
        'segment',
        'commands',
        'limit',
        'ioc',
        'cancel',
        'move',
        'trading',
        'trades/cmd',
        'ioc qty',
        'book orders',
        'book min..max',
        'price levels',
      ],
      rows,
    ),
  );
}

/** Median of each metric over repetitions (a single run is returned as is). */
function medianResult(rs: Result[]): Result {
  if (rs.length === 1) return rs[0]!;
  const med = (f: (r: Result) => number): number => {
    const v = rs.map(f).sort((a, b) => a - b);
    return v.length % 2 === 1 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const byKind = {} as Result['byKind'];
  for (const k of OP_KINDS) {
    byKind[k] = {
      count: rs[0]!.byKind[k].count,
      p50us: med((r) => r.byKind[k].p50us),
      p99us: med((r) => r.byKind[k].p99us),
    };
  }
  return {
    opsPerSec: med((r) => r.opsPerSec),
    cpuOpsPerSec: med((r) => r.cpuOpsPerSec),
    gcShare: med((r) => r.gcShare),
    p50us: med((r) => r.p50us),
    p99us: med((r) => r.p99us),
    p999us: med((r) => r.p999us),
    maxUs: med((r) => r.maxUs),
    byKind,
    check: rs[0]!.check,
    problems: rs.flatMap((r) => r.problems),
  };
}

async function main(): Promise<void> {
  const overheadNs = timerOverheadNs();
  const cpu = cpus();
  console.log(
    `bench:engine — ${nodeInfo()}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `timer: process.hrtime.bigint() pair costs ${overheadNs} ns (median); subtracted from latency percentiles`,
  );

  const results: Partial<Record<WorkloadName, Partial<Record<string, Result>>>> = {};
  for (const name of workloads) {
    const t0 = performance.now();
    const w = generateWorkload(workloadConfig(name, presets[name], seed, pickWindow));
    printStream(w, performance.now() - t0);
    const byContestant: Partial<Record<string, Result>> = {};
    const runs: Record<string, Result[]> = {};
    // Repetitions alternate the contestants, each time on a fresh book, so slow phases of a busy
    // machine do not all land on one of them.
    for (let rep = 0; rep < repeat; rep++) {
      for (const kind of contestants) {
        forceGc();
        const c = await makeContestant(kind, w);
        const r = await run(c, w, overheadNs);
        (runs[kind] ??= []).push(r);
        console.log(
          `  ${c.name}${repeat > 1 ? ` #${rep + 1}` : ''}: ${fmtInt(r.opsPerSec)} cmd/s, p50 ${r.p50us.toFixed(2)} µs, ` +
            `p99 ${r.p99us.toFixed(2)} µs — ${r.problems.length === 0 ? 'book matches the reference model' : `MISMATCH: ${r.problems.join('; ')}`}`,
        );
      }
    }
    for (const kind of contestants) byContestant[kind] = medianResult(runs[kind]!);
    results[name] = byContestant;
    forceGc();
  }

  const rows: string[][] = [];
  for (const name of workloads) {
    for (const kind of contestants) {
      const r = results[name]?.[kind];
      if (!r) continue;
      rows.push([
        name,
        kind === 'peer' ? PEER_NAME : 'bourse',
        fmtInt(r.opsPerSec),
        fmtInt(r.cpuOpsPerSec),
        fmtPct(r.gcShare),
        fmtFixed(r.p50us, 2),
        fmtFixed(r.p99us, 2),
        fmtFixed(r.p999us, 2),
        fmtFixed(r.maxUs, 0),
      ]);
    }
    const e = results[name]?.bourse;
    const p = results[name]?.peer;
    if (e && p)
      rows.push([
        name,
        'ratio bourse / peer',
        `${(e.opsPerSec / p.opsPerSec).toFixed(1)}×`,
        `${(e.cpuOpsPerSec / p.cpuOpsPerSec).toFixed(1)}×`,
        '',
        '',
        '',
        '',
      ]);
  }
  console.log(
    `\n${formatTable(['workload', 'contestant', 'cmd/s', 'cmd/s (cpu)', 'gc', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs'], rows)}`,
  );

  const kindRows: string[][] = [];
  for (const name of workloads) {
    for (const kind of contestants) {
      const r = results[name]?.[kind];
      if (!r) continue;
      kindRows.push([
        name,
        kind === 'peer' ? PEER_NAME : 'bourse',
        ...OP_KINDS.map((k) => `${fmtFixed(r.byKind[k].p50us, 2)} / ${fmtFixed(r.byKind[k].p99us, 2)}`),
      ]);
    }
  }
  console.log(`\nlatency by command kind, p50 / p99 µs (latency segment)`);
  console.log(formatTable(['workload', 'contestant', ...OP_KINDS.map((k) => k)], kindRows));

  const cell = (r: Result | undefined) =>
    r ? { opsPerSec: Math.round(r.opsPerSec), p50us: round(r.p50us, 3), p99us: round(r.p99us, 3) } : null;
  const ratio = (name: WorkloadName) => {
    const e = results[name]?.bourse;
    const p = results[name]?.peer;
    return e && p ? round(e.opsPerSec / p.opsPerSec, 2) : null;
  };
  const summary = {
    engine: { steady: cell(results.steady?.bourse), deep: cell(results.deep?.bourse) },
    peer: { name: PEER_NAME, steady: cell(results.steady?.peer), deep: cell(results.deep?.peer) },
    ratio: { steady: ratio('steady'), deep: ratio('deep') },
  };
  const failed = workloads.some((n) => contestants.some((k) => (results[n]?.[k]?.problems.length ?? 0) > 0));
  if (failed) process.exitCode = 1;
  console.log(
    `\nload average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores: wall-clock cmd/s shrinks when other processes share the CPU;` +
      " cmd/s (cpu) divides by this process's CPU time instead (it includes GC threads)",
  );
  console.log(JSON.stringify(summary));
}

await main();
