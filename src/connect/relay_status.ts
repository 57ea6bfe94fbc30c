/**
 * What a circuit relay's refusal says about the peer behind it.
 *
 * `@libp2p/circuit-relay-v2` 4.2 reports a relay's refusal to connect us as an
 * `InvalidMessageError` whose message carries the HOP status
 * (`failed to connect via relay with status NO_RESERVATION`,
 * `dist/src/transport/index.js`); it has no field or error name of its own, so the message is
 * the one place to read it. `NO_RESERVATION` means the peer holds no reservation on that
 * relay: it left, crashed or moved to another relay. Trying the same address again cannot
 * work until the peer announces a new one, so a dial stops there (a departed member's
 * presence record lives until it expires, and a newcomer would otherwise spend the whole
 * ladder, six attempts over about 3.5 s, on each of them).
 *
 * @module
 */

/**
 * Whether a dial failed because the peer has no reservation on the relay it announced.
 *
 * @param err What the dial threw.
 * @returns True for the relay's `NO_RESERVATION` answer.
 *
 * @example
 * ```ts
 * import { notAtRelay } from "./relay_status.ts";
 * notAtRelay(new Error("failed to connect via relay with status NO_RESERVATION")); // true
 * ```
 */
export function notAtRelay(err: unknown): boolean {
  return err instanceof Error && /\bstatus NO_RESERVATION\b/.test(err.message);
}
