/**
 * What a {@linkcode Meeting} is assembled from, what it keeps about each peer that discovery
 * found, and where it opens signaling streams (what it keeps about each link is in
 * src/meeting_links.ts).
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "./logger.ts";
import type { ParticipantLibp2p } from "./node.ts";
import type { Presence } from "./presence.ts";
import type { PublicAddressInfo } from "./public_address.ts";
import type { RuntimeRtcConfiguration } from "./runtime/webrtc.ts";
import type { TopicKeys } from "./topic.ts";

/**
 * What {@linkcode Meeting} is built from (assembled by `joinMeeting()`).
 * @ignore
 */
export interface MeetingComponents {
  /** The participant's started libp2p node (bootstrapped, with a relay reservation). */
  libp2p: ParticipantLibp2p;
  /** Its private key. */
  privateKey: PrivateKey;
  /** The meeting's keys. */
  keys: TopicKeys;
  /** Our display name. */
  name: string;
  /** Scoped loggers. */
  log: { meeting: Logger; rendezvous: Logger; connect: Logger; link: Logger };
  /** Join step timings so far. */
  joinTimings: Record<string, number>;
  /** When the join started (performance.now()). */
  joinStarted: number;
  /** What STUN said about our public address. */
  publicAddress: PublicAddressInfo;
  /** The ICE servers in use (the user's and the bootstrap nodes'). */
  iceServers: () => RTCIceServer[];
  /** The user's RTCConfiguration (without `iceServers`: see above). */
  rtcConfiguration: RuntimeRtcConfiguration;
  /** The RTCPeerConnection class to use. */
  PeerConnection: typeof RTCPeerConnection;
  /**
   * Whether to announce and look up in the DHT (false when the node has no bootstrap
   * nodes and meets on the LAN only).
   * @default {true}
   */
  dht?: boolean;
  /** Called first when leaving (stops local discovery before the node stops). */
  beforeStop?: () => Promise<void>;
}

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
 * Where to open signaling (and knock) streams to a peer: a LAN address that local discovery
 * verified (`/ip4/…/tcp/…/p2p/<id>`: a direct TCP connection, no relay in between), else
 * its relay (circuit) address. A `/webrtc-direct` bootstrap address inside a circuit
 * address is not a `/webrtc` one (`includes("/webrtc")` took it for one, so peers reachable
 * only through a WebRTC-Direct bootstrap node looked unreachable).
 */
export function signalingAddress(addresses: readonly string[]): string | undefined {
  const lan = addresses.find((a) =>
    a.includes("/tcp/") && !a.includes("/p2p-circuit") && !a.includes("/ws")
  );
  return lan ?? addresses.find((a) => a.includes("/p2p-circuit") && !/\/webrtc(?:\/|$)/.test(a));
}
