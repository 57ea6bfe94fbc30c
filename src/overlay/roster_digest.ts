/**
 * The roster's anti-entropy digest: one 32-bit hash per bucket, the XOR over the bucket's
 * live members of (peer hash, incarnation) mixed, so adding or removing a member is one
 * XOR and two rosters compare bucket by bucket.
 *
 * @module
 */

/** The number of anti-entropy buckets (a digest is this many 32-bit hashes). */
export const DIGEST_BUCKETS = 32;

/** Mixes a peer hash and an incarnation into one 32-bit value (murmur3's finalizer). */
function mix(h: number, inc: number): number {
  let x = (h ^ Math.imul(inc % 0x100000000, 0x9e3779b1) ^ Math.floor(inc / 0x100000000)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
/** One hash per bucket over a set of (peer hash, incarnation) pairs. */
export class RosterDigest {
  readonly #digest = new Uint32Array(DIGEST_BUCKETS);

  /**
   * Add or remove a member (the same call does both: XOR).
   * @param h The member's peer hash.
   * @param inc Its incarnation.
   */
  toggle(h: number, inc: number): void {
    this.#digest[h % DIGEST_BUCKETS] ^= mix(h, inc);
  }

  /** One hash per bucket. */
  values(): number[] {
    return [...this.#digest];
  }

  /**
   * The buckets where a neighbour's digest differs from ours.
   * @param theirs The neighbour's digest.
   * @returns Bucket numbers.
   */
  differing(theirs: readonly number[]): number[] {
    const out: number[] = [];
    for (let b = 0; b < DIGEST_BUCKETS; b++) if ((theirs[b] >>> 0) !== this.#digest[b]) out.push(b);
    return out;
  }
}
