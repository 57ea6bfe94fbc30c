/**
 * Number formatting shared by the bench report's tables and plots.
 *
 * @module
 */

/** The part's result, or undefined when it failed or did not run. */
export const ok = <T>(x: T | { error: string } | undefined): T | undefined =>
  x && !(x as { error?: string }).error ? x as T : undefined;

/** Milliseconds as seconds with one decimal ("–" when unknown). */
export const sec = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? "–" : (ms / 1000).toFixed(1);

/** A number with thousands separators and up to `digits` decimals ("–" when unknown). */
export const n = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
