/**
 * Which of a peer's addresses a dial (or a knock) opens its next stream to. A member holds a
 * reservation on every relay it can, and its presence record lists an address at each (and
 * LAN addresses, which come first). When a stream cannot be opened at one address (its
 * relay is down, or says the peer holds no reservation there), the next attempt goes to
 * another relay at once, without a pause and without counting as a failed rung: nothing
 * about the path between the two peers was learnt. Only when every address failed does the
 * caller back off (and start again from the first), or stop when every relay said the peer
 * is not there.
 *
 * Measured with `tests/faults/relay_death_signaling_test.ts` (two relays, the one carrying
 * the signaling killed): before, every retry went to the dead relay's address until the
 * peer's next presence record came, 3.2 s and five failed attempts, and the pair ended up
 * on the relay rung.
 *
 * Addresses are keyed by their relay, so two addresses of one relay (TCP and WebSocket)
 * fail together.
 *
 * @module
 */

/** The relay an address goes through (its peer id), or the address itself when direct. */
export function relayKey(address: string): string {
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(address)?.[1] ?? address;
}

/** The addresses one dial or knock could not open a stream to. */
export class AddressRotation {
  /** Relay key → whether that relay said the peer holds no reservation there. */
  readonly #failed = new Map<string, boolean>();

  /**
   * The first address not yet failed.
   *
   * @param addresses The peer's addresses, in preference order (they may change between
   *   calls: a newer presence record).
   * @returns The address, or undefined when every one failed.
   */
  next(addresses: readonly string[]): string | undefined {
    return addresses.find((a) => !this.#failed.has(relayKey(a)));
  }

  /**
   * A stream could not be opened at `address`.
   *
   * @param address Where.
   * @param gone Whether the relay said the peer is not there (`NO_RESERVATION`).
   */
  unreached(address: string, gone: boolean): void {
    this.#failed.set(relayKey(address), gone);
  }

  /**
   * Whether every address failed and each relay said the peer is not there: it left, or
   * moved to relays we have not heard of.
   *
   * @param addresses The peer's addresses.
   * @returns True then.
   */
  gone(addresses: readonly string[]): boolean {
    return addresses.length > 0 && addresses.every((a) => this.#failed.get(relayKey(a)) === true);
  }

  /** Forget the failures: the next round tries every address again. */
  reset(): void {
    this.#failed.clear();
  }
}
