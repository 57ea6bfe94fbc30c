/**
 * Small statistics helpers of the simulator: quantiles, thinning for plots, a bitset.
 *
 * @module
 */

/** Quantiles of a sample (ms or counts). */
export interface Stats {
  /** Sample size. */
  n: number;
  /** Quantiles and extremes. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Summarize a sample (linear interpolation between closest ranks).
 * @param values Values (non-finite ones are ignored).
 * @returns Quantiles; NaN when empty.
 */
export function stats(values: ArrayLike<number>): Stats {
  const f: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) f.push(values[i]);
  const s = Float64Array.from(f).sort();
  const q = (p: number) => {
    if (s.length === 0) return NaN;
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  let sum = 0;
  for (const x of s) sum += x;
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    min: r(s.length ? s[0] : NaN),
    p50: r(q(0.5)),
    p90: r(q(0.9)),
    p99: r(q(0.99)),
    max: r(s.length ? s[s.length - 1] : NaN),
    mean: r(s.length ? sum / s.length : NaN),
  };
}

/** A growable bitset over member slots. */
export class Bits {
  #words: Uint32Array;
  constructor(size: number) {
    this.#words = new Uint32Array((size >> 5) + 1);
  }
  has(i: number): boolean {
    const w = i >> 5;
    return w < this.#words.length && (this.#words[w] & (1 << (i & 31))) !== 0;
  }
  add(i: number): void {
    const w = i >> 5;
    if (w >= this.#words.length) {
      const grown = new Uint32Array(Math.max(w + 1, this.#words.length * 2));
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words[w] |= 1 << (i & 31);
  }
}

/**
 * At most `k` values of a sample, evenly spaced in sorted order (for plots).
 * @param values The sample.
 * @param k How many to keep.
 * @returns The thinned, sorted sample.
 */
export function thin(values: number[], k: number): number[] {
  const s = Float64Array.from(values).sort();
  if (s.length <= k) return [...s];
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(s[Math.round((i * (s.length - 1)) / (k - 1))]);
  return out;
}
