/**
 * Bounded announcers (issue 11, part 4): in a meeting of thousands, a newcomer needs a few
 * fresh entry points in the DHT, not everyone's record refreshed every 20 s. Each member
 * decides alone, from its peer id, the meeting's size and the clock, whether it announces
 * in the current epoch:
 *
 * - while the meeting has at most `target` members, everyone announces (as before);
 * - a newcomer announces during its first epoch (`epochMs` after it joined), so that it can
 *   be found while it has no neighbours yet;
 * - otherwise a member announces when a hash of (peer id, epoch number) falls below
 *   `target / rosterSize`: about `target` members per epoch, a different subset each epoch,
 *   with no coordination (every member computes the same epoch number from its clock; clocks
 *   that differ only shift when one member's turn starts).
 *
 * Pure: time and size come in, a decision goes out.
 *
 * @module
 */

/** Members that keep the meeting's DHT entries fresh in one epoch, on average. */
export const ANNOUNCERS_TARGET = 32;
/** Length of one announcer epoch, in ms (three announcement rounds at the default ttl). */
export const ANNOUNCE_EPOCH_MS = 60_000;

/** What decides whether a member announces now. */
export interface AnnouncerInput {
  /** The member's peer id. */
  selfId: string;
  /** How many members the meeting has (the member's roster, itself included). */
  rosterSize: number;
  /** The clock, in ms since the epoch. */
  now: number;
  /** When the member joined (ms, same clock). */
  joinedAt: number;
  /**
   * Announcers wanted per epoch.
   * @default {32}
   */
  target?: number;
  /**
   * Epoch length in ms.
   * @default {60_000}
   */
  epochMs?: number;
}

/** Why a member announces or not. */
export type AnnouncerReason = "small-meeting" | "newcomer" | "chosen" | "not-chosen";

/**
 * A 32-bit hash of a string (FNV-1a with a final avalanche, so that peer ids, which share
 * their first characters, spread evenly).
 *
 * @param text The string.
 * @returns An unsigned 32-bit integer.
 */
function _hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Decide whether a member announces itself in the DHT in the current epoch.
 *
 * @param input Peer id, meeting size, clock, join time, target and epoch length.
 * @returns `announce` and the `reason`, and the `epoch` number the decision holds for.
 * @throws {RangeError} When `target` or `epochMs` is not positive.
 *
 * @example A member of a meeting of 10,000
 * ```ts
 * import { announcerDecision } from "@meshmeet/core";
 * const d = announcerDecision({
 *   selfId: "12D3KooWExample",
 *   rosterSize: 10_000,
 *   now: Date.now(),
 *   joinedAt: Date.now() - 3_600_000,
 * });
 * console.log(d.reason); // "chosen" for about 32 of the 10,000 in each epoch
 * ```
 */
export function announcerDecision(
  input: AnnouncerInput,
): { announce: boolean; reason: AnnouncerReason; epoch: number } {
  const target = input.target ?? ANNOUNCERS_TARGET;
  const epochMs = input.epochMs ?? ANNOUNCE_EPOCH_MS;
  if (!(target > 0) || !(epochMs > 0)) {
    throw new RangeError(
      `Invalid announcer settings: target ${target} and epochMs ${epochMs} must be positive`,
    );
  }
  const epoch = Math.floor(input.now / epochMs);
  if (!(input.rosterSize > target)) return { announce: true, reason: "small-meeting", epoch };
  if (input.now - input.joinedAt < epochMs) return { announce: true, reason: "newcomer", epoch };
  const chosen = _hash32(`${input.selfId}/${epoch}`) / 2 ** 32 < target / input.rosterSize;
  return { announce: chosen, reason: chosen ? "chosen" : "not-chosen", epoch };
}
