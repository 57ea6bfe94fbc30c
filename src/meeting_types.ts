/**
 * The public types of a meeting: participants, events, statistics and options (with the
 * check of the options), apart from the {@linkcode Meeting} class that uses them.
 *
 * @module
 */
import type { OverlayOptions } from "./overlay/types.ts";
import { checkOverlayOptions } from "./overlay/node.ts";
import type { CandidateInfo } from "./connect/inspect.ts";
import { DEFAULT_MAX_PAYLOAD } from "./frame.ts";
import type { MessageData } from "./message_codec.ts";
import type { LinkState } from "./peer_link.ts";
import type { PublicAddressInfo } from "./public_address.ts";
import type { RendezvousOptions } from "./rendezvous.ts";

/** The path a participant's connection takes. */
export type ConnectionPath = "direct" | "turn" | "relay";

export type { CandidateInfo };

/** A participant of the meeting (a snapshot). */
export interface Participant {
  /** Peer id. */
  peerId: string;
  /** Display name. */
  name: string;
  /** When it joined (its clock, ms since the epoch). */
  joinedAt: number;
  /** Connection state. */
  state: LinkState;
  /** Path of the current connection. */
  path: ConnectionPath | undefined;
  /** Selected ICE candidate pair, when known. */
  selectedCandidatePair: { local: CandidateInfo; remote: CandidateInfo } | undefined;
  /** Whether we dialed (`outbound`) or were dialed (`inbound`). */
  direction: "inbound" | "outbound";
  /** Last heartbeat round-trip time in ms. */
  rtt: number | undefined;
  /** When we last heard from it (ms since the epoch). */
  lastSeen: number;
  /** When we found it (ms since the epoch). */
  discoveredAt: number;
  /** When its first connection was ready (ms since the epoch). */
  connectedAt: number;
  /** Messages sent to it that are not acknowledged yet. */
  unacknowledged: number;
  /**
   * Whether we hold a link to it. The roster holds every member and only neighbours are
   * linked (a member we hold no link to has state `closed`); with `overlay: false` every
   * participant is linked.
   */
  linked: boolean;
}

/** Detail of `peer:join`. */
export type PeerJoinDetail = Participant;
/** Detail of `peer:leave`. */
export interface PeerLeaveDetail {
  /** Peer id. */
  peerId: string;
  /** Display name. */
  name: string;
  /** `left` (said goodbye), `timeout` (lease expired) or `closed` (we left). */
  reason: "left" | "timeout" | "closed";
}
/** Detail of `message`. */
export interface MessageDetail {
  /** Sender's peer id. */
  from: string;
  /** Sender's display name. */
  name: string;
  /** The message as sent: text, bytes or a JSON value. */
  data: MessageData;
  /** The message if it was text. */
  text: string | undefined;
  /** Application channel (0–255). */
  channel: number;
}
/** Detail of `request`: call `respond()` or `reject()` once, now or later. */
export interface RequestDetail {
  /** Requester's peer id. */
  from: string;
  /** Requester's display name. */
  name: string;
  /** The request body. */
  data: MessageData;
  /** Send the response. */
  respond(data: MessageData): void;
  /** Send an error response; the requester's `request()` rejects with its message. */
  reject(reason: Error | string): void;
}
/** Detail of `connection:state`. */
export interface ConnectionStateDetail {
  /** Peer id. */
  peerId: string;
  /** New state of the participant's link. */
  state: LinkState;
  /** Path, when connected. */
  path: ConnectionPath | undefined;
  /** ICE connection state of the WebRTC connection (`checking`, `connected`, …), if any. */
  ice?: string;
  /** RTCPeerConnection state (`connecting`, `connected`, `disconnected`, …), if any. */
  connection?: string;
}
/** Detail of `peer:discovered`. */
export interface PeerDiscoveredDetail {
  /** Peer id. */
  peerId: string;
  /** Display name from its presence record. */
  name: string;
  /** Addresses from its presence record. */
  addresses: string[];
  /** How we learned of it (`local`: multicast DNS on the LAN, see `discovery/local.ts`). */
  via: "dht" | "knock" | "local";
}
/** Detail of `handshake:failed`. */
export interface HandshakeFailedDetail {
  /** The peer that failed. */
  peerId: string;
  /** Why. */
  error: Error;
}

/** Detail of `connection:failed`. */
export interface ConnectionFailedDetail {
  /** The peer we could not reach. */
  peerId: string;
  /** Its display name (from its presence record). */
  name: string;
  /** The last error; a {@linkcode ConnectionFailedError} names the rungs tried. */
  error: Error;
}

/** Events of a {@linkcode Meeting}. */
export interface MeetingEventMap {
  /** Every rung of the connection ladder failed for a discovered peer. */
  "connection:failed": CustomEvent<ConnectionFailedDetail>;
  /**
   * A member entered the roster. In a meeting small enough to be a full mesh (up to
   * `maxDegree + 1`, 17) it fires once its link is up (or once every rung failed, unlinked);
   * in a larger one as soon as the roster learns of it (`linked` tells).
   */
  "peer:join": CustomEvent<PeerJoinDetail>;
  /** A member left the roster (said goodbye, or failed), or we left. */
  "peer:leave": CustomEvent<PeerLeaveDetail>;
  /** A message arrived. */
  "message": CustomEvent<MessageDetail>;
  /** A request arrived. */
  "request": CustomEvent<RequestDetail>;
  /** A participant's connection changed state. */
  "connection:state": CustomEvent<ConnectionStateDetail>;
  /** A verified presence record of a peer was found. */
  "peer:discovered": CustomEvent<PeerDiscoveredDetail>;
  /** A peer failed the membership handshake (or sent an invalid presence record). */
  "handshake:failed": CustomEvent<HandshakeFailedDetail>;
}

/** Our own participant info. */
export interface SelfInfo {
  /** Our peer id. */
  peerId: string;
  /** Our display name. */
  name: string;
  /** When we joined (ms since the epoch). */
  joinedAt: number;
  /** Our multiaddrs (relay circuit + WebRTC). */
  addresses: string[];
  /** Our public address learned by STUN (`ip:port`), when known. */
  publicAddress: string | undefined;
  /** The STUN result: `ok`, `unreachable` (with the reason) or `none` configured. */
  stun: PublicAddressInfo;
  /** The ICE servers in use (user's and bootstrap-advertised; credentials included). */
  iceServers: RTCIceServer[];
}

/** Counters of a meeting. */
export interface MeetingStats {
  /** Handshakes (and knocks) that failed. */
  handshakeFailures: number;
  /** WebRTC dial attempts. */
  dialAttempts: number;
  /** WebRTC dials that failed (and were retried). */
  dialFailures: number;
  /** Connections re-established after a drop. */
  reconnects: number;
  /** Messages sent (data frames). */
  messagesSent: number;
  /** Messages acknowledged. */
  messagesAcked: number;
  /** Messages received. */
  messagesReceived: number;
  /** Messages refused by rate or size limits. */
  messagesDropped: number;
  /** Step timings of the join in ms (KDF, bootstrap, reservation, announce, first lookup). */
  joinTimings: Record<string, number>;
}

/**
 * A meeting's counters, all zero.
 *
 * @param joinTimings The join's step timings so far (kept, and added to).
 * @returns The counters.
 */
export function newMeetingStats(joinTimings: Record<string, number>): MeetingStats {
  return {
    handshakeFailures: 0,
    dialAttempts: 0,
    dialFailures: 0,
    reconnects: 0,
    messagesSent: 0,
    messagesAcked: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    joinTimings,
  };
}

/** Timers and limits of a meeting (all optional). */
export interface MeetingOptions {
  /**
   * With `overlay: false` only: most participants to connect to directly. Meetings up to
   * this size are a full mesh; further participants are discovered but not dialed. (The
   * overlay's own bounds are `overlay.lowDegree` … `overlay.maxDegree`.)
   * @default {32}
   */
  maxPeers?: number;
  /**
   * Heartbeat interval while idle, in ms.
   * @default {2000}
   */
  heartbeatMs?: number;
  /**
   * A participant we have not heard from for this long leaves the roster (ms). A crashed
   * peer is gone from every roster within `leaseMs + 1 s`; a link that comes back sooner
   * keeps the participant (and its unacknowledged messages).
   * @default {14_000}
   */
  leaseMs?: number;
  /**
   * How long `send()` waits for an acknowledgement (ms).
   * @default {30_000}
   */
  ackTimeoutMs?: number;
  /**
   * Largest message, in bytes (encoded).
   * @default {1_048_576}
   */
  maxMessageBytes?: number;
  /**
   * Frames per second one peer may send us before the excess is refused (a token bucket
   * that holds one second's worth, so a burst of that size always passes). The default
   * lets a legitimate burst of small messages through (the benchmark sends 50,000/s)
   * while a flooder stays bounded.
   * @default {100_000}
   */
  maxFramesPerSecond?: number;
  /**
   * Time budget of one attempt on the direct rung (ms): WebRTC over host and
   * server-reflexive candidates only, DTLS and the membership handshake.
   * @default {5_000}
   */
  dialTimeoutMs?: number;
  /**
   * Time budget of one attempt on the TURN rung (ms): WebRTC with the dialer's TURN relay
   * candidates added. Only tried when TURN servers are configured.
   * @default {8_000}
   */
  turnTimeoutMs?: number;
  /**
   * Most attempts on each WebRTC rung; two timeouts also end a rung. Covers the occasional
   * failed or stalled first dial.
   * @default {3}
   */
  directAttempts?: number;
  /**
   * Run the meeting over the bootstrap's circuit relay when no WebRTC path works. When
   * false, such a peer stays unreachable and the dial fails with ConnectionFailedError.
   * @default {true}
   */
  allowRelay?: boolean;
  /**
   * Time budget of the relay rung (ms).
   * @default {5_000}
   */
  relayTimeoutMs?: number;
  /**
   * How often a relayed participant is tried again over WebRTC (ms).
   * @default {30_000}
   */
  upgradeIntervalMs?: number;
  /**
   * Dial attempts per peer (all rungs) before giving up until the next discovery.
   * @default {6}
   */
  maxDialAttempts?: number;
  /**
   * Outgoing connection attempts (WebRTC or relayed) run at once; more wait their turn, and
   * an attempt's time budget starts when it leaves the queue. A newcomer to a large meeting
   * otherwise starts one WebRTC dial per participant at the same moment.
   * @default {8}
   */
  maxDialsInFlight?: number;
  /** Rendezvous timers. */
  rendezvous?: RendezvousOptions;
  /**
   * Listeners registered before the meeting starts, so that they see every event from the
   * first one: what happens inside `joinMeeting()` (the first `peer:discovered`, early
   * `peer:join`s) is otherwise over before `addEventListener` can be called.
   *
   * @example
   * ```ts ignore
   * const meeting = await joinMeeting(code, {
   *   on: { "peer:join": (e) => console.log(`${e.detail.name} joined`) },
   * });
   * ```
   */
  on?: { [K in keyof MeetingEventMap]?: (event: MeetingEventMap[K]) => void };
  /**
   * The overlay (`src/overlay/`): a bounded mesh of links, a signed roster every member
   * holds, broadcasts relayed through the mesh. On by default with its defaults (degree
   * 6–12, cap 16; a meeting of up to 17 is a full mesh); pass its options to tune it, or
   * `false` for the earlier design (every participant linked to every other, up to
   * `maxPeers`, nothing relayed).
   * @default {true}
   */
  overlay?: boolean | OverlayOptions;
}

/** A meeting's timers and limits, each set (the user's value or its default). */
export type MeetingSettings = Required<Omit<MeetingOptions, "rendezvous" | "overlay" | "on">>;

/**
 * Fill in the defaults of a meeting's timers and limits (the `@default`s above).
 *
 * @param options What the user set.
 * @returns Every timer and limit.
 */
export function meetingSettings(options: MeetingOptions): MeetingSettings {
  return {
    maxPeers: options.maxPeers ?? 32,
    heartbeatMs: options.heartbeatMs ?? 2000,
    leaseMs: options.leaseMs ?? 14_000,
    ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_PAYLOAD,
    maxFramesPerSecond: options.maxFramesPerSecond ?? 100_000,
    dialTimeoutMs: options.dialTimeoutMs ?? 5_000,
    turnTimeoutMs: options.turnTimeoutMs ?? 8_000,
    directAttempts: options.directAttempts ?? 3,
    allowRelay: options.allowRelay ?? true,
    relayTimeoutMs: options.relayTimeoutMs ?? 5_000,
    upgradeIntervalMs: options.upgradeIntervalMs ?? 30_000,
    maxDialAttempts: options.maxDialAttempts ?? 6,
    maxDialsInFlight: options.maxDialsInFlight ?? 8,
  };
}

const COUNT_OPTIONS = [
  "maxPeers",
  "directAttempts",
  "maxDialAttempts",
  "maxDialsInFlight",
  "maxFramesPerSecond",
  "maxMessageBytes",
] as const;
const MS_OPTIONS = [
  "heartbeatMs",
  "leaseMs",
  "ackTimeoutMs",
  "dialTimeoutMs",
  "turnTimeoutMs",
  "relayTimeoutMs",
  "upgradeIntervalMs",
] as const;

/**
 * Check a meeting's options before anything starts.
 *
 * @param options The options.
 * @throws {RangeError} Naming the first option that is not a positive number (counts must
 *   be integers).
 */
export function checkMeetingOptions(options: MeetingOptions): void {
  const bad = (key: string, value: unknown, what: string) =>
    new RangeError(
      `Cannot join meeting: options.${key} must be ${what}, got ${JSON.stringify(value)}; ` +
        "leave it out for the default",
    );
  for (const key of COUNT_OPTIONS) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw bad(key, value, "a positive integer");
    }
  }
  const durations: Array<[string, unknown]> = [
    ...MS_OPTIONS.map((key): [string, unknown] => [key, options[key]]),
    ...Object.entries(options.rendezvous ?? {}).map(([k, v]): [string, unknown] => [
      `rendezvous.${k}`,
      v,
    ]),
  ];
  for (const [key, value] of durations) {
    if (
      value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value > 0)
    ) {
      throw bad(key, value, "a positive number of milliseconds");
    }
  }
  if (options.overlay !== undefined && typeof options.overlay !== "boolean") {
    if (typeof options.overlay !== "object" || options.overlay === null) {
      throw new TypeError(
        `Cannot join meeting: options.overlay must be a boolean or overlay options, got ${
          JSON.stringify(options.overlay)
        }`,
      );
    }
    checkOverlayOptions(options.overlay);
  }
  for (const [type, listener] of Object.entries(options.on ?? {})) {
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot join meeting: options.on["${type}"] must be a function (an event listener)`,
      );
    }
  }
  if (options.allowRelay !== undefined && typeof options.allowRelay !== "boolean") {
    throw new TypeError(
      `Cannot join meeting: options.allowRelay must be a boolean, got ${
        JSON.stringify(options.allowRelay)
      }`,
    );
  }
}
