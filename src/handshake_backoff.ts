/**
 * Backoff for strangers who keep failing the membership handshake (issue 12: each member
 * absorbed about 50 failed handshakes from strangers with no backoff; each costs an HMAC, a
 * signature check or a decryption, and a stream).
 *
 * Pure logic with an injected clock: the caller asks {@linkcode HandshakeBackoff.allow}
 * before doing any cryptographic work for a peer and reports failures and successes.
 *
 * - Per peer: after a failure the peer is refused for `baseMs`, doubling with every further
 *   failure up to `maxMs`; a success forgets it.
 * - Overall: when more than `maxFailuresPerSecond` handshakes failed in the last second, peers
 *   this member does not already know (not found in the DHT, no accepted record) are refused
 *   until the rate drops: a crowd of strangers with fresh peer ids costs at most that many
 *   failed handshakes per second, while known participants still get through.
 * - Memory is bounded: at most `maxTracked` peers are remembered (the oldest are dropped).
 *
 * @module
 */

/** Options of {@linkcode HandshakeBackoff}. */
export interface HandshakeBackoffOptions {
  /**
   * Refusal after the first failure (ms).
   * @default {1000}
   */
  baseMs?: number;
  /**
   * Longest refusal (ms).
   * @default {60_000}
   */
  maxMs?: number;
  /**
   * Failed handshakes per second above which unknown peers are refused.
   * @default {20}
   */
  maxFailuresPerSecond?: number;
  /**
   * Peers remembered at most.
   * @default {4096}
   */
  maxTracked?: number;
  /**
   * The clock (ms).
   * @default {Date.now}
   */
  now?: () => number;
}

/** Per-peer and overall backoff of failed membership handshakes. */
export class HandshakeBackoff {
  readonly #base: number;
  readonly #max: number;
  readonly #maxRate: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #peers = new Map<string, { failures: number; until: number }>();
  #recent: number[] = [];
  /** Handshakes refused without any work. */
  refused = 0;

  /** @param options Timers, limits and clock. */
  constructor(options: HandshakeBackoffOptions = {}) {
    this.#base = options.baseMs ?? 1000;
    this.#max = options.maxMs ?? 60_000;
    this.#maxRate = options.maxFailuresPerSecond ?? 20;
    this.#maxTracked = options.maxTracked ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether to start a handshake with `peerId` now (counts a refusal when not).
   *
   * @param peerId The remote peer.
   * @param known Whether this member already knows the peer as a participant.
   * @returns `false` to refuse without any work.
   */
  allow(peerId: string, known = false): boolean {
    const now = this.#now();
    const entry = this.#peers.get(peerId);
    let ok = !(entry && now < entry.until);
    if (ok && !known && this.#rate(now) > this.#maxRate) ok = false;
    if (!ok) this.refused++;
    return ok;
  }

  /**
   * Report a failed handshake.
   *
   * @param peerId The remote peer.
   */
  failed(peerId: string): void {
    const now = this.#now();
    this.#recent.push(now);
    const entry = this.#peers.get(peerId);
    const failures = (entry?.failures ?? 0) + 1;
    const wait = Math.min(this.#max, this.#base * 2 ** (failures - 1));
    this.#peers.delete(peerId); // re-insert: Map order is the age order for eviction
    this.#peers.set(peerId, { failures, until: now + wait });
    while (this.#peers.size > this.#maxTracked) {
      this.#peers.delete(this.#peers.keys().next().value!);
    }
  }

  /**
   * Report a successful handshake: the peer is forgotten.
   *
   * @param peerId The remote peer.
   */
  succeeded(peerId: string): void {
    this.#peers.delete(peerId);
  }

  /** How many peers are remembered. */
  get tracked(): number {
    return this.#peers.size;
  }

  #rate(now: number): number {
    if (this.#recent.length > 0 && this.#recent[0] <= now - 1000) {
      this.#recent = this.#recent.filter((t) => t > now - 1000);
    }
    return this.#recent.length;
  }
}
