/**
 * What the connector (`connector.ts`) is given and what it hands back: its host (the meeting),
 * its timers and limits, and the links it makes.
 *
 * @module
 */
import type { ConnectionFailedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MemberHello } from "../membership.ts";
import type { ParticipantLibp2p } from "../node.ts";
import type { RuntimeRtcConfiguration } from "../runtime/webrtc.ts";
import type { TopicKeys } from "../topic.ts";
import type { FrameChannel } from "./frame_channel.ts";
import type { PathInfo } from "./inspect.ts";

/** A link the connector made: handshaken, open, its path described. */
export interface NewLink {
  /** The remote peer. */
  peerId: string;
  /** Its frames. */
  channel: FrameChannel;
  /** What it told us in the handshake. */
  hello: MemberHello;
  /** The peer connection, for WebRTC links (undefined on the relay rung). */
  pc?: RTCPeerConnection;
  /** The selected candidate pair of a WebRTC link, when known. */
  path?: PathInfo;
  /** Who dialed. */
  direction: "inbound" | "outbound";
  /** When the peer was first discovered (ms since the epoch). */
  discoveredAt: number;
}

/** Timers and limits the connector uses (the meeting's options). */
export interface ConnectorOptions {
  /** Budget of a `direct` attempt (ms). */
  dialTimeoutMs: number;
  /** Budget of a `turn` attempt (ms). */
  turnTimeoutMs: number;
  /** Budget of a `relay` attempt (ms). */
  relayTimeoutMs: number;
  /** Whether the relay rung may carry meetings. */
  allowRelay: boolean;
  /** Attempts per dial. */
  maxDialAttempts: number;
  /** Quick failures per rung. */
  directAttempts: number;
  /** Attempts running at once. */
  maxDialsInFlight: number;
  /** Largest meeting message (bytes). */
  maxMessageBytes: number;
}

/** What the connector needs from the meeting it serves. */
export interface ConnectorHost {
  /** The participant's libp2p node. */
  libp2p: ParticipantLibp2p;
  /** The meeting's keys (membership proof). */
  keys: TopicKeys;
  /** What we tell peers in the handshake. */
  self: { name: string; joinedAt: number };
  /** Logger (`meshmeet:connect`). */
  log: Logger;
  /** ICE servers in use (asked before every attempt). */
  iceServers(): RTCIceServer[];
  /** The user's RTCConfiguration (without `iceServers`). */
  rtcConfiguration: RuntimeRtcConfiguration;
  /** The RTCPeerConnection class. */
  PeerConnection: typeof RTCPeerConnection;
  /** Ends everything (the meeting was left). */
  signal: AbortSignal;
  /** Counters the connector updates. */
  stats: { dialAttempts: number; dialFailures: number };
  /** When a peer was discovered and where signaling reaches it, if discovery knows it. */
  known(peerId: string):
    | { discoveredAt: number; name: string; addresses: readonly string[] }
    | undefined;
  /** Whether the peer already has a working link. */
  linked(peerId: string): boolean;
  /** A new link is ready. */
  onLink(link: NewLink): void;
  /** A peer failed the membership handshake. */
  onHandshakeFailed(peerId: string, error: Error): void;
  /**
   * Whether to refuse a peer's signaling stream before any handshake work (a stranger
   * backing off, see `src/handshake_backoff.ts`).
   */
  refuse?(peerId: string): boolean;
  /** Every rung failed for a peer. */
  onConnectionFailed(peerId: string, name: string, error: ConnectionFailedError): void;
}
