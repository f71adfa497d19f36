/**
 * Seeded, deterministic PRNG (xoshiro128**, seeded through splitmix32) so that a benchmark run
 * with the same seed produces byte-identical command streams on every machine.
 */
export interface Prng {
  /** uniform uint32 */
  u32(): number;
  /** uniform float in [0, 1) */
  float(): number;
  /** uniform integer in [0, n) for 0 < n <= 2^32 */
  int(n: number): number;
  /** true with probability p */
  chance(p: number): boolean;
}

export function createPrng(seed: number): Prng {
  let sm = seed >>> 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  if ((a | b | c | d) === 0) a = 1;

  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const float = (): number => u32() / 4294967296;
  return {
    u32,
    float,
    int: (n) => Math.floor(float() * n),
    chance: (p) => float() < p,
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
