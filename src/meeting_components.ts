/**
 * What a {@linkcode Meeting} is assembled from (what it keeps about each peer is in
 * src/known_peers.ts and src/meeting_links.ts).
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "./logger.ts";
import type { ParticipantLibp2p } from "./node.ts";
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
