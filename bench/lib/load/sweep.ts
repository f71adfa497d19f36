/**
 * A sweep: the open-loop generator at increasing fixed rates, one step each, until the latency
 * limit is passed or the system answers with errors or overload. The knee is read off the steps.
 */
import { runStep, type StepOptions } from './generator.ts';
import { type Knee, kneeOf, P99_LIMIT_MS, round2, type StepResult, stopReason } from './knee.ts';

export const DEFAULT_RATES = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 40_000];

export interface SweepSettings {
  rates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** the knee's latency limit (50 ms) */
  p99LimitMs: number;
  /** the sweep stops after a step whose p99 passes this (default: the knee's limit) */
  stopP99Ms: number;
  /** a discarded run at the first rate before the sweep, so that step 1 does not pay for a cold server */
  primeSeconds: number;
  /** generator threads sharing each step's schedule */
  threads: number;
}

/**
 * BENCH_RATES, BENCH_STEP_SECONDS (default 5), BENCH_WARMUP_SECONDS (1), BENCH_CONNECTIONS (256),
 * BENCH_STOP_P99_MS (default 50: stop at the knee's limit; higher to see the curve past the knee
 * on a noisy machine, the knee is still read at 50 ms), BENCH_PRIME_SECONDS (default 3: a discarded
 * run at the first rate before the first step, which a freshly started server would otherwise pay for),
 * BENCH_GENERATORS (default 1: generator threads sharing the schedule, for rates one thread cannot send).
 */
export function sweepSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SweepSettings {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`${name}=${JSON.stringify(raw)}: expected a number ≥ 0`);
    return n;
  };
  const rates = env.BENCH_RATES ? env.BENCH_RATES.split(',').map((r) => Number(r.trim())) : DEFAULT_RATES;
  if (rates.some((r) => !Number.isFinite(r) || r <= 0))
    throw new Error(
      `BENCH_RATES=${JSON.stringify(env.BENCH_RATES)}: expected positive numbers, comma-separated`,
    );
  return {
    rates,
    stepSeconds: num('BENCH_STEP_SECONDS', 5),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 1),
    connections: num('BENCH_CONNECTIONS', 256),
    p99LimitMs: P99_LIMIT_MS,
    stopP99Ms: num('BENCH_STOP_P99_MS', P99_LIMIT_MS),
    primeSeconds: num('BENCH_PRIME_SECONDS', 3),
    threads: Math.max(1, Math.floor(num('BENCH_GENERATORS', 1))),
  };
}

export interface Curve extends Knee {
  steps: StepResult[];
  /** why the sweep ended before its last rate, or null */
  stoppedBecause: string | null;
}

export async function sweep(
  label: string,
  target: Pick<StepOptions, 'url' | 'urls' | 'groups' | 'workload' | 'context'>,
  settings: SweepSettings,
  /** the server process's CPU time so far, ms (BourseProcess.cpuMs) */
  serverCpuMs?: () => Promise<number>,
): Promise<Curve> {
  const steps: StepResult[] = [];
  let stoppedBecause: string | null = null;
  if (settings.primeSeconds > 0 && settings.rates.length > 0) {
    await runStep({
      ...target,
      rate: settings.rates[0]!,
      seconds: settings.primeSeconds,
      warmupSeconds: 0,
      connections: settings.connections,
      threads: settings.threads,
    });
  }
  for (const rate of settings.rates) {
    const cpu0 = await serverCpuMs?.();
    const step = await runStep({
      ...target,
      rate,
      seconds: settings.stepSeconds,
      warmupSeconds: settings.warmupSeconds,
      connections: settings.connections,
      threads: settings.threads,
    });
    const cpu1 = await serverCpuMs?.();
    if (cpu0 !== undefined && cpu1 !== undefined && Number.isFinite(cpu1 - cpu0))
      step.serverCpuUs = ((cpu1 - cpu0) * 1000) / (rate * (settings.warmupSeconds + settings.stepSeconds));
    steps.push(step);
    process.stderr.write(
      `  ${label} ${rate}/s: achieved ${Math.round(step.achieved)}/s, p50 ${step.p50.toFixed(1)} ms, ` +
        `p99 ${step.p99.toFixed(1)} ms, errors ${step.errors}, overload ${step.overload}, rejected ${step.rejected}` +
        `${step.serverCpuUs === undefined ? '' : `, server CPU ${step.serverCpuUs.toFixed(0)} µs/req`}\n`,
    );
    for (const s of step.samples) process.stderr.write(`    e.g. ${s}\n`);
    stoppedBecause = stopReason(step, settings.stopP99Ms);
    if (stoppedBecause) break;
  }
  return { ...kneeOf(steps, settings.p99LimitMs), steps, stoppedBecause };
}

/**
 * How many requests a sweep offered in all: the priming run, then each step's warm-up and measured
 * part (what CPU time over the whole sweep is divided by).
 */
export function offeredRequests(curve: Curve, settings: SweepSettings): number {
  return (
    (curve.steps.length > 0 ? settings.rates[0]! * settings.primeSeconds : 0) +
    curve.steps.reduce((n, s) => n + s.offered * (settings.warmupSeconds + settings.stepSeconds), 0)
  );
}

/** The curve as the benches' last JSON line carries it (the field names are the issue's). */
export function curveJson(curve: Curve) {
  return {
    knee: curve.knee,
    p99msAtKnee: curve.p99msAtKnee,
    curve: curve.steps.map((s) => ({
      offered: s.offered,
      achieved: Math.round(s.achieved),
      p50: round2(s.p50),
      p99: round2(s.p99),
      p999: round2(s.p999),
      errors: s.errors,
    })),
  };
}
