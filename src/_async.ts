/**
 * Small async helpers.
 *
 * @module
 */

/**
 * Wait, unless aborted first.
 *
 * @param ms How long.
 * @param signal Ends the wait early (the promise rejects with the signal's reason).
 * @returns Resolves after `ms`.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
