/** What one step of a sweep measured, and how a sweep's knee and stopping point are read off it. */

export interface StepResult {
  /** the fixed arrival rate the generator held, requests/s */
  offered: number;
  /** 2xx replies to the measured requests per second, over the time from the first measured send to the last reply */
  achieved: number;
  /** latency from each request's scheduled send time, ms */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** transport errors, timeouts and 5xx other than 503 */
  errors: number;
  /** overload answers: 429 and 503 */
  overload: number;
  /** other 4xx answers (the workload asked for something the system refused) */
  rejected: number;
  /** requests sent in the measured window, and the 2xx among their replies */
  sent: number;
  ok: number;
  /** how far behind its schedule the generator itself fell at worst, ms (a saturated generator) */
  maxSendLagMs: number;
  /** a few distinct error / rejection descriptions, for the operator */
  samples: string[];
  /**
   * CPU time the server process spent per request of the step (warm-up included), µs, when the
   * sweep could read it: a figure a busy machine distorts far less than rates and latencies
   */
  serverCpuUs?: number;
}

export const P99_LIMIT_MS = 50;

/** Why a sweep stops after this step, or null to go on to the next rate. */
export function stopReason(step: StepResult, p99LimitMs = P99_LIMIT_MS): string | null {
  if (step.errors > 0) return `${step.errors} errors`;
  if (step.overload > 0) return `${step.overload} overload answers`;
  if (step.p99 > p99LimitMs) return `p99 ${step.p99.toFixed(1)} ms > ${p99LimitMs} ms`;
  return null;
}

export interface Knee {
  /** highest achieved rate of a step with p99 ≤ the limit, no errors and no overload answers; 0: none */
  knee: number;
  /** that step's p99 (ms); null when no step qualified */
  p99msAtKnee: number | null;
}

export function kneeOf(steps: readonly StepResult[], p99LimitMs = P99_LIMIT_MS): Knee {
  let best: StepResult | undefined;
  for (const s of steps) {
    if (stopReason(s, p99LimitMs) !== null) continue;
    if (!best || s.achieved > best.achieved) best = s;
  }
  return best
    ? { knee: Math.round(best.achieved), p99msAtKnee: round2(best.p99) }
    : { knee: 0, p99msAtKnee: null };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
