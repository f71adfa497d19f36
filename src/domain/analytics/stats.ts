/**
 * Sample statistics shared by the analytics files. Two-pass formulas (mean first, then
 * deviations) for accuracy; "sample" means the n − 1 (Bessel) denominator throughout.
 */

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** True when every value is identical, so that dispersion is exactly zero (not float dust). */
export function isConstant(xs: readonly number[]): boolean {
  return xs.every((x) => x === xs[0]);
}

/** Sample covariance (n − 1); null with fewer than 2 pairs. Lengths must match. */
export function sampleCovariance(a: readonly number[], b: readonly number[]): number | null {
  sameLength(a, b);
  if (a.length < 2) return null;
  const ma = mean(a)!;
  const mb = mean(b)!;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - ma) * (b[i]! - mb);
  return sum / (a.length - 1);
}

/** Sample variance (n − 1); null with fewer than 2 values; exactly 0 for a constant series. */
export function sampleVariance(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  if (isConstant(xs)) return 0;
  return sampleCovariance(xs, xs);
}

export function sampleStdDev(xs: readonly number[]): number | null {
  const v = sampleVariance(xs);
  return v === null ? null : Math.sqrt(v);
}

export function sameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`series lengths differ: ${a.length} and ${b.length}`);
}
