/**
 * What every bench module uses: progress lines, sleeping, timeouts, and where the bench and
 * the repository are.
 *
 * @module
 */

const started = performance.now();
let quiet = false;

/**
 * Silence or enable progress output.
 *
 * @param value True to silence progress lines.
 */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/**
 * Print one progress line (to stderr, so `--json` keeps stdout clean).
 *
 * @param part Part label, e.g. "1 join".
 * @param message What is happening.
 */
export function progress(part: string, message: string): void {
  if (quiet) return;
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.error(`[${t}s] ${part.padEnd(12)} ${message}`);
}

/**
 * Sleep.
 *
 * @param ms Milliseconds.
 * @returns Resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reject if `promise` does not settle within `ms`.
 *
 * @param promise The work.
 * @param ms Budget in ms.
 * @param what Used in the error message.
 * @returns The promise's value.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Directory of the bench sources. */
export const BENCH_DIR = new URL(".", import.meta.url).pathname;
/** Repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;
