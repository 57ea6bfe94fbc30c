/**
 * Seeded randomness for the simulator: one generator per run (sfc32, seeded through
 * splitmix32), child generators for each member, and a per-pair latency that needs no
 * storage (a hash of the seed and the two member numbers).
 *
 * @module
 */

/** A function returning uniform numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/** splitmix32: spreads a small seed over 32 bits (used to seed sfc32). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded generator (sfc32: small, fast, passes PractRand to 2^40 bytes).
 *
 * @param seed Any integer; the same seed gives the same sequence.
 * @returns A `Math.random`-like function.
 */
export function seededRandom(seed: number): Random {
  const mix = splitmix32(seed);
  let a = mix(), b = mix(), c = mix(), d = mix();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * A 32-bit hash of three integers (murmur3's finalizer over a simple combination).
 *
 * @param a First.
 * @param b Second.
 * @param c Third.
 * @returns An unsigned 32-bit hash.
 */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ c;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The one-way latency between two members, fixed for the run: uniform in [min, max] ms,
 * drawn from a hash of the seed and the pair (symmetric), so it costs no memory.
 *
 * @param seed Run seed.
 * @param x One member's number.
 * @param y The other's.
 * @param min Smallest latency (ms).
 * @param max Largest latency (ms).
 * @returns Latency in ms.
 */
export function pairLatency(seed: number, x: number, y: number, min: number, max: number): number {
  const lo = x < y ? x : y;
  const hi = x < y ? y : x;
  return min + (hash3(seed, lo, hi) / 4294967296) * (max - min);
}

/**
 * Pick up to `k` distinct items of an array at random (partial Fisher–Yates on indices).
 *
 * @param items Where to pick from (not modified).
 * @param k How many.
 * @param random Generator.
 * @returns The picked items.
 */
export function sample<T>(items: readonly T[], k: number, random: Random): T[] {
  const n = items.length;
  if (k >= n) return [...items];
  const picked = new Map<number, number>();
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const vj = picked.get(j) ?? j;
    picked.set(j, picked.get(i) ?? i);
    out.push(items[vj]);
  }
  return out;
}
