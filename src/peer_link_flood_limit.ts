/**
 * The flood limit of one peer link (requirement S6): a token bucket that allows a peer a
 * sustained number of reliable frames per second, with bursts up to one second's worth.
 * The link refuses a frame the bucket has no token for with a nack.
 *
 * @module
 */

/** A token bucket of `rate` tokens per second, holding at most `rate` tokens. */
export class FloodLimit {
  /** Tokens added per second, and the most the bucket holds. */
  readonly rate: number;
  #tokens: number;
  #refill: number;

  /**
   * @param rate Frames per second a peer may send (sustained).
   * @param now The clock's current time in ms (starts full).
   */
  constructor(rate: number, now: number = Date.now()) {
    this.rate = rate;
    this.#tokens = rate;
    this.#refill = now;
  }

  /**
   * Take one token for a frame.
   *
   * @param now The clock's current time in ms.
   * @returns Whether the frame is within the limit (false: refuse it).
   */
  take(now: number = Date.now()): boolean {
    const rate = this.rate;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refill) / 1000) * rate);
    this.#refill = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
