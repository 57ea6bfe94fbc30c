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
import { relayOf } from "../relay_reservations.ts";
import { notAtRelay } from "./relay_status.ts";

/** The relay an address goes through (its peer id), or the address itself when direct. */
export function relayKey(address: string): string {
  return relayOf(address) ?? address;
}

/** What to do after a stream could not be opened at an address. */
export type Unreached =
  /** Another address is left: try it at once. */
  | "elsewhere"
  /** Every relay said the peer holds no reservation there: it left or moved. */
  | "gone"
  /** Every address failed, not all of them for that reason: back off, then start again. */
  | "exhausted";

/** The addresses one dial or knock could not open a stream to. */
export class AddressRotation {
  /** Relay key → whether that relay said the peer holds no reservation there. */
  readonly #failed = new Map<string, boolean>();

  /**
   * Where the next stream goes: the first address not yet failed; when every one has
   * failed, the failures are forgotten and the round starts again from the first.
   *
   * @param addresses The peer's addresses, in preference order (they may change between
   *   calls: a newer presence record).
   * @returns The address, or undefined when there is none.
   */
  pick(addresses: readonly string[]): string | undefined {
    const next = addresses.find((a) => !this.#failed.has(relayKey(a)));
    if (next !== undefined) return next;
    this.#failed.clear();
    return addresses[0];
  }

  /**
   * A stream could not be opened at `address`.
   *
   * @param address Where.
   * @param err What opening it threw (a relay's `NO_RESERVATION` means the peer is not there).
   * @param addresses The peer's addresses now.
   * @returns What to do next.
   */
  unreached(address: string, err: unknown, addresses: readonly string[]): Unreached {
    this.#failed.set(relayKey(address), notAtRelay(err));
    if (addresses.some((a) => !this.#failed.has(relayKey(a)))) return "elsewhere";
    const gone = addresses.length > 0 &&
      addresses.every((a) => this.#failed.get(relayKey(a)) === true);
    return gone ? "gone" : "exhausted";
  }
}
