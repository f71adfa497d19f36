/**
 * What the benchmark needs from each contestant. Every contestant converts the neutral stream to
 * its own native calls BEFORE timing and owns its own timed loops (separate functions, so one
 * contestant's type feedback never makes the other's loop polymorphic).
 */
export interface RunCheck {
  /** commands the contestant refused (rejects, errors) in the inspected ranges */
  refused: number;
  /** commands that caused at least one trade in the inspected ranges */
  trading: number;
  /** resting orders at the end */
  orders: number;
  bestBid: number | null;
  bestAsk: number | null;
  bidVolume: number;
  askVolume: number;
}

export interface Contestant {
  readonly name: string;
  /** convert ops [from, to) of the stream into native calls (untimed); replaces what was loaded */
  load(from: number, to: number): void;
  /** apply the loaded ops without timing, inspecting each result (setup, prefill, warmup) */
  applyLoaded(): void;
  /** apply the loaded ops in one tight timed loop; returns elapsed nanoseconds */
  timeLoaded(): number;
  /**
   * apply the loaded ops timing each command on its own; writes raw nanoseconds per command into
   * `out`. Results are inspected outside the timed interval.
   */
  sampleLoaded(out: Float64Array): void;
  check(): RunCheck;
}
