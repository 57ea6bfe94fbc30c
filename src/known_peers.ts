/**
 * The peers a meeting's discovery found (the DHT, knocks, the LAN), each with its newest
 * verified presence, and where to open signaling streams to them.
 *
 * @module
 */
import type { Presence } from "./presence.ts";

/** A peer found by discovery (DHT, a knock, the LAN). */
export interface Known {
  /** Its latest verified presence (the highest record seq seen). */
  presence: Presence;
  /** When we first heard of it (ms since the epoch). */
  discoveredAt: number;
  /** How we heard of it first. */
  via: "dht" | "knock" | "local";
  /**
   * Addresses off any relay (a LAN's) seen in any of its records. A record made for the DHT
   * or a knock lists relay addresses only; when it is newer than the one a LAN exchange
   * brought, the LAN addresses would otherwise be lost (on a LAN without relays the lower
   * peer id then had nothing to dial: one pair of three stayed unlinked for 20 s).
   */
  direct: string[];
}

/**
 * Where to open signaling (and knock) streams to a peer, best first: LAN addresses that
 * local discovery verified (`/ip4/…/tcp/…/p2p/<id>`: a direct TCP connection, no relay in
 * between), then its relay (circuit) addresses, at every relay it holds a reservation on
 * (a dial moves to the next relay when one cannot be reached, see
 * `connect/address_rotation.ts`). A
 * `/webrtc-direct` bootstrap address inside a circuit address is not a `/webrtc` one
 * (`includes("/webrtc")` took it for one, so peers reachable only through a WebRTC-Direct
 * bootstrap node looked unreachable).
 */
export function signalingAddresses(addresses: readonly string[]): string[] {
  const lan = addresses.filter((a) =>
    a.includes("/tcp/") && !a.includes("/p2p-circuit") && !a.includes("/ws")
  );
  const relayed = addresses.filter((a) =>
    a.includes("/p2p-circuit") && !/\/webrtc(?:\/|$)/.test(a)
  );
  return [...new Set([...lan, ...relayed])];
}

/** What discovery found, by peer id. */
export class KnownPeers {
  readonly #peers = new Map<string, Known>();

  /**
   * What discovery found about a peer.
   * @param peerId The peer.
   * @returns Its entry, or undefined.
   */
  get(peerId: string): Known | undefined {
    return this.#peers.get(peerId);
  }

  /**
   * Whether discovery found a peer.
   * @param peerId The peer.
   * @returns True when it did.
   */
  has(peerId: string): boolean {
    return this.#peers.has(peerId);
  }

  /**
   * Forget a peer.
   * @param peerId The peer.
   */
  delete(peerId: string): void {
    this.#peers.delete(peerId);
  }

  /**
   * Keep a verified presence: a newer record (higher seq) replaces the one held, and the
   * addresses off any relay are kept from every record (see {@linkcode Known.direct}).
   * @param presence The verified presence.
   * @param via How it came.
   * @returns Whether the peer is new (first found).
   */
  add(presence: Presence, via: Known["via"]): boolean {
    const peerId = presence.info.peerId;
    const known = this.#peers.get(peerId);
    const lan = presence.info.addresses.filter((a) => !a.includes("/p2p-circuit"));
    const direct = [...new Set([...lan, ...(known?.direct ?? [])])].slice(0, 16);
    if (known && known.presence.record.seq >= presence.record.seq) known.direct = direct;
    else {
      this.#peers.set(peerId, {
        presence,
        discoveredAt: known?.discoveredAt ?? Date.now(),
        via,
        direct,
      });
    }
    return !known;
  }

  /**
   * Where signaling to a peer goes, best first (see {@linkcode signalingAddresses}).
   * @param peerId The peer.
   * @param contact Its addresses from elsewhere (the roster), asked for when discovery
   *   did not find it.
   * @returns The addresses (empty when none is known).
   */
  addresses(peerId: string, contact: () => readonly string[] | undefined): string[] {
    const known = this.#peers.get(peerId);
    return signalingAddresses(
      known ? [...known.presence.info.addresses, ...known.direct] : contact() ?? [],
    );
  }
}
