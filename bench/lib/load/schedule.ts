/**
 * The open-loop arrival schedule: request i is due at t0 + i / rate, whatever happened to the
 * requests before it. Latency is measured from this scheduled time, not from when the generator
 * got round to sending, so a stall of the system under test (or of the generator) shows up as
 * latency instead of silently lowering the offered rate (coordinated omission, as wrk2 corrects it).
 */

/** When request `i` is due, in the same clock as `t0Ms` (ms). */
export function scheduledAtMs(t0Ms: number, i: number, ratePerSec: number): number {
  return t0Ms + (i * 1000) / ratePerSec;
}

/** How many requests are due by `elapsedMs` after t0: those with scheduled time ≤ now. */
export function dueBy(elapsedMs: number, ratePerSec: number): number {
  if (elapsedMs < 0) return 0;
  return Math.floor((elapsedMs * ratePerSec) / 1000) + 1;
}

/** Requests in a step of `seconds` at `ratePerSec` (at least one). */
export function requestsIn(seconds: number, ratePerSec: number): number {
  return Math.max(1, Math.round(seconds * ratePerSec));
}
