/**
 * Round-trip time of one peer link, measured by its heartbeats (requirement M4): each ping
 * carries an id in `seq`, the pong echoes it in `ref`, and the time between is the RTT.
 *
 * @module
 */

const MAX_U32 = 0xffff_ffff;

/** Pings in flight are forgotten beyond this many (their pongs were lost). */
const PINGS_KEPT = 16;

/** The pings of one link that wait for their pong, and when each was sent. */
export class RttMeter {
  #sent = new Map<number, number>();
  #next = 1;

  /**
   * A ping leaves: take its id.
   *
   * @param now When it is sent (ms, `performance.now()`).
   * @returns The ping's id (its `seq`), from 1 to 0xFFFFFFFF.
   */
  ping(now: number = performance.now()): number {
    const id = this.#next;
    this.#next = this.#next >= MAX_U32 ? 1 : this.#next + 1;
    this.#sent.set(id, now);
    if (this.#sent.size > PINGS_KEPT) this.#sent.delete(this.#sent.keys().next().value!);
    return id;
  }

  /**
   * A pong arrived.
   *
   * @param ref The id it echoes.
   * @param now When it arrived (ms, same clock as {@linkcode RttMeter.ping}).
   * @returns The round-trip time in ms, or `undefined` when no ping of ours waits for it.
   */
  pong(ref: number, now: number = performance.now()): number | undefined {
    const sent = this.#sent.get(ref);
    if (sent === undefined) return undefined;
    this.#sent.delete(ref);
    return now - sent;
  }
}
