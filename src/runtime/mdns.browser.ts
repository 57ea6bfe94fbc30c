/**
 * Browsers have no multicast DNS (they cannot send UDP): local discovery is off there, and
 * browsers meet through bootstrap nodes and the DHT only.
 *
 * @module
 */
import type { ComponentLogger, PeerInfo } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";

/** Whether this runtime can do multicast DNS. */
export const mdnsAvailable = false;

/** Init of {@linkcode startMdns}. */
export interface MdnsInit {
  /** DNS-SD service name, e.g. `_meshmeet._udp.local`. */
  serviceTag: string;
  /** Query interval (ms). */
  intervalMs: number;
  /** The addresses to advertise. */
  addresses: () => Multiaddr[];
  /** libp2p's logger. */
  logger: ComponentLogger;
  /** A neighbour answered. */
  onPeer: (peer: PeerInfo) => void;
}

/** A running mDNS responder and querier. */
export interface MdnsHandle {
  /** Stop. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Not available in browsers.
 *
 * @param _init Ignored.
 * @returns Never.
 * @throws {TypeError} Always: browsers cannot send multicast.
 */
export function startMdns(_init: MdnsInit): Promise<MdnsHandle> {
  return Promise.reject(
    new TypeError("Local discovery (mDNS) is not available in browsers: they cannot send UDP"),
  );
}
