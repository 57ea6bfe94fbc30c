/**
 * A seeded PRNG for tests (mulberry32): the same seed gives the same sequence, so chunk
 * boundaries, samples and simulated networks are reproducible.
 *
 * @param seed Any integer.
 * @returns A `Math.random`-like function.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
