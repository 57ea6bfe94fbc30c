/**
 * Statistics of the benchmark's samples: quantiles, summaries, ratios, linear fits.
 *
 * @module
 */

/** Summary statistics of a sample. */
export interface Summary {
  /** Sample size. */
  n: number;
  /** Smallest value. */
  min: number;
  /** Median. */
  p50: number;
  /** 95th percentile (linear interpolation). */
  p95: number;
  /** Largest value. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * Quantile with linear interpolation between closest ranks.
 *
 * @param xs Sample (any order).
 * @param q Quantile in [0, 1].
 * @returns The quantile, or NaN for an empty sample.
 */
export function quantile(xs: number[], q: number): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Summarize a sample.
 *
 * @param xs Values (non-finite ones are ignored).
 * @returns n, min, p50, p95, max, mean (rounded to 0.1).
 */
export function summarize(xs: number[]): Summary {
  const f = xs.filter(Number.isFinite);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: f.length,
    min: r(f.length ? Math.min(...f) : NaN),
    p50: r(quantile(f, 0.5)),
    p95: r(quantile(f, 0.95)),
    max: r(f.length ? Math.max(...f) : NaN),
    mean: r(f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN),
  };
}

/**
 * A ratio a/b rounded to two significant decimals (NaN-safe).
 *
 * @param a Numerator.
 * @param b Denominator.
 * @returns a / b, or null when either side is missing.
 */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) {
    return null;
  }
  const x = a / b;
  return x >= 10 ? Math.round(x) : Math.round(x * 100) / 100;
}

/**
 * Least-squares slope and intercept of y over x.
 *
 * @param xs x values.
 * @param ys y values (same length).
 * @returns `{ slope, intercept }`.
 */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  const slope = den === 0 ? NaN : num / den;
  return { slope, intercept: my - slope * mx };
}
