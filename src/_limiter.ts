/**
 * A limit on how many async tasks run at once.
 *
 * @module
 */

/** Runs at most `limit` tasks at once; the rest wait in arrival order. */
export class Limiter {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  /** @param limit How many tasks may run at once (at least 1). */
  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Limiter: limit must be an integer >= 1, got ${limit}`);
    }
    this.#limit = limit;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Run a task when a slot is free.
   *
   * @param task The task; it starts only once a slot is free.
   * @param signal When aborted while the task still waits, it never starts and the promise
   *   rejects with the signal's reason.
   * @returns The task's result.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const start = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.#waiting.indexOf(start);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal!.reason);
        };
        this.#waiting.push(start);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
