/**
 * Peer ids ↔ dense integer indices, with a stable hash per peer id: what lets a roster keep
 * its members in typed arrays (see `roster.ts`).
 *
 * @module
 */
import type { PeerId } from "./types.ts";

/** FNV-1a over a string's UTF-16 code units. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
/**
 * Peer ids ↔ dense integers. A real member has its own; the simulator shares one among all
 * its members so their rosters are arrays, not maps.
 */
export class MemberIndex {
  readonly #ids = new Map<PeerId, number>();
  readonly #peers: PeerId[] = [];
  #hashes = new Uint32Array(64);

  /** How many peer ids have an index. */
  get size(): number {
    return this.#peers.length;
  }

  /**
   * The index of a peer id, assigned on first use.
   * @param peerId The peer id.
   * @returns Its index.
   */
  of(peerId: PeerId): number {
    let i = this.#ids.get(peerId);
    if (i === undefined) {
      i = this.#peers.length;
      this.#ids.set(peerId, i);
      this.#peers.push(peerId);
      if (i >= this.#hashes.length) {
        const grown = new Uint32Array(this.#hashes.length * 2);
        grown.set(this.#hashes);
        this.#hashes = grown;
      }
      this.#hashes[i] = hashString(peerId);
    }
    return i;
  }

  /**
   * The index of a peer id, or undefined when it never had one.
   * @param peerId The peer id.
   * @returns Its index.
   */
  find(peerId: PeerId): number | undefined {
    return this.#ids.get(peerId);
  }

  /**
   * The peer id of an index.
   * @param i The index.
   * @returns The peer id.
   */
  peer(i: number): PeerId {
    return this.#peers[i];
  }

  /**
   * A stable 32-bit hash of the peer id (the same in every process).
   * @param i The index.
   * @returns The hash.
   */
  hash(i: number): number {
    return this.#hashes[i];
  }
}
