/**
 * Verification of the presence records a rendezvous reads, from the DHT or handed over in a
 * knock (requirement S3): `openPresence()` rejects forged, stale and undecryptable records,
 * and the highest sequence number seen of each member rejects replays.
 *
 * @module
 */
import { openPresence, type Presence } from "../presence.ts";
import type { TopicKeys } from "../topic.ts";
import type { RendezvousStats } from "./types.ts";

/** Verifies the presence records of one meeting and remembers each member's latest seq. */
export class PresenceCheck {
  #keys: TopicKeys;
  #stats: RendezvousStats;
  #seen = new Map<string, number>();

  /**
   * @param keys The meeting's keys.
   * @param stats Where accepted and rejected records are counted.
   */
  constructor(keys: TopicKeys, stats: RendezvousStats) {
    this.#keys = keys;
    this.#stats = stats;
  }

  /**
   * The sequence number of the latest record accepted from a member.
   *
   * @param peerId The member.
   * @returns Its seq, or `undefined` when none was accepted.
   */
  lastSeq(peerId: string): number | undefined {
    return this.#seen.get(peerId);
  }

  /**
   * Verify a record (any: one saying its member left counts too, for the replay check).
   *
   * @param peerId Whose record it claims to be.
   * @param bytes The record.
   * @returns The presence.
   * @throws {InvalidRecordError} When it does not verify or replays an older one.
   */
  async open(peerId: string, bytes: Uint8Array): Promise<Presence> {
    try {
      const presence = await openPresence(this.#keys, peerId, bytes, {
        minSeq: this.#seen.get(peerId),
      });
      this.#seen.set(peerId, presence.record.seq);
      this.#stats.recordsAccepted++;
      return presence;
    } catch (err) {
      this.#stats.recordsRejected++;
      throw err;
    }
  }
}
