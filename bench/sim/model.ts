/**
 * The simulator's vocabulary: what it drives (`SimNode`, the part of `OverlayNode`'s API it
 * uses), the network model's parameters, a simulated member, counters, and the peer ids and
 * contacts it makes up.
 *
 * @module
 */
import type {
  MemberEntry,
  OverlayAction,
  OverlayMessage,
  PeerId,
} from "../../src/overlay/types.ts";
import type { Random } from "./random.ts";

/** The part of `OverlayNode`'s API the simulator drives (structural, so fakes fit too). */
export interface SimNode {
  /** Entry points found in the DHT. */
  addEntryPoints(points: { peerId: PeerId; contact: string[] }[], now: number): void;
  /** A link came up. */
  linkUp(peer: PeerId, now: number, info: { inbound: boolean; rttMs?: number }): void;
  /** A link went down. */
  linkDown(peer: PeerId, now: number, info: { failed: boolean }): void;
  /** A `connect` did not succeed. */
  connectFailed(peer: PeerId, now: number): void;
  /** A message from a neighbour. */
  receive(from: PeerId, msg: OverlayMessage, now: number): void;
  /** Broadcast to every member; returns the rumor id. */
  broadcast(channel: number, payload: Uint8Array, now: number): string;
  /** Leave the meeting. */
  leave(now: number): void;
  /** Run timers. */
  tick(now: number): void;
  /** When `tick` must run next (absolute ms). */
  nextDeadline(): number;
  /** Drain the actions collected since the last call. */
  takeActions(): OverlayAction[];
  /** Current neighbours. */
  neighbours(): PeerId[];
  /** Live (alive or suspect) roster entries, self included. */
  rosterSize(): number;
  /** Whether a member is alive or suspect in the roster. */
  has(peerId: PeerId): boolean;
  /** The member's own signed entry. */
  readonly entry: MemberEntry;
}

/** What a factory gets to build one member's node. */
export interface NodeInit {
  /** The member's peer id. */
  peerId: PeerId;
  /** Its display name. */
  name: string;
  /** Absolute join time (ms). */
  joinedAt: number;
  /** Its contact (opaque to the overlay; realistic length for byte counts). */
  contact: string[];
  /** A seeded generator of its own. */
  random: Random;
  /** Absolute time now (ms). */
  now: number;
}

/** Builds a member's node. */
export type NodeFactory = (init: NodeInit) => SimNode;

/** Parameters of the network model (see the module doc for what each one models). */
export interface NetworkOptions {
  /** Seed of every random choice. */
  seed: number;
  /** One-way latency range per pair (ms). */
  latencyMs: [number, number];
  /** Packet loss probability. */
  loss: number;
  /** Range of the first retransmission timeout (ms): lost packets go out again after it, and it doubles for each further round in which one of them is lost again. */
  rtoMs: [number, number];
  /** Bytes per packet. */
  mtu: number;
  /** Each member's uplink (Mbit/s); 0 for unlimited. */
  uplinkMbps: number;
  /** Round trips for a `connect` to come up. */
  connectRtts: number;
  /** After this, a `connect` to a member that is not running fails (ms). */
  connectTimeoutMs: number;
  /** Range of the lease after which a crashed member's neighbours see its links fail (ms). */
  leaseMs: [number, number];
  /** How long a leaving member keeps running after `leave()` (ms). */
  leaveGraceMs: number;
  /** Absolute time of virtual 0 (ms since the epoch): nodes see `epochMs + t`. */
  epochMs: number;
  /** Estimated bytes of a message on the wire (for the uplink, loss and the counters). */
  messageBytes: (msg: OverlayMessage) => number;
}

/** Defaults of {@linkcode NetworkOptions}. */
export const NETWORK_DEFAULTS: Omit<NetworkOptions, "messageBytes"> = {
  seed: 1,
  latencyMs: [20, 150],
  loss: 0.01,
  rtoMs: [200, 300],
  mtu: 1200,
  uplinkMbps: 20,
  connectRtts: 2,
  connectTimeoutMs: 5_000,
  leaseMs: [6_000, 14_000],
  leaveGraceMs: 1_000,
  epochMs: 1_800_000_000_000,
};

/** A member's life in the simulation. */
export type MemberState = "live" | "leaving" | "left" | "crashed";

/** One simulated member. */
export class Member {
  /** Its number in this simulation (0, 1, 2, … in order of creation). */
  readonly slot: number;
  /** Its peer id. */
  readonly peerId: PeerId;
  /** Its node. */
  readonly node: SimNode;
  /** Virtual time it was created (ms). */
  readonly startedAt: number;
  /** Its state. */
  state: MemberState = "live";
  /** Virtual time it crashed, left or started leaving (ms). */
  endedAt = Infinity;
  /** Scheduled tick (virtual ms), Infinity when none. */
  tickAt = Infinity;
  /** When its uplink is free again (virtual ms). */
  uplinkFreeAt = 0;
  /** Members it has an up (or closing) link with. */
  readonly links = new Set<number>();

  constructor(slot: number, peerId: PeerId, node: SimNode, startedAt: number) {
    this.slot = slot;
    this.peerId = peerId;
    this.node = node;
    this.startedAt = startedAt;
  }

  /** Whether it still runs (live or leaving). */
  get running(): boolean {
    return this.state === "live" || this.state === "leaving";
  }
}

/** Counts of what the network did (for the report and for sanity checks). */
export interface NetworkCounters {
  /** Events processed. */
  events: number;
  /** Messages sent / delivered. */
  sent: number;
  delivered: number;
  /** Sends dropped because there was no up link (a protocol bug or a race). */
  sentWithoutLink: number;
  /** Sends on a link the other side is closing, or whose other side crashed. */
  sentOnDyingLink: number;
  /** Messages lost because the receiver crashed, left, or the link closed first. */
  lostInFlight: number;
  /** Connects started, succeeded, failed. */
  connects: number;
  connectsUp: number;
  connectsFailed: number;
  /** Connects that were no-ops (already linked or connecting). */
  connectsRedundant: number;
  /** Disconnects. */
  disconnects: number;
  /** Messages that needed at least one retransmission. */
  retransmitted: number;
  /** Ticks that asked for another tick at the same millisecond (pushed 1 ms later). */
  tightTicks: number;
}

/** @returns Counters all at zero (in the order the report lists them). */
export function zeroCounters(): NetworkCounters {
  return {
    events: 0,
    sent: 0,
    delivered: 0,
    sentWithoutLink: 0,
    sentOnDyingLink: 0,
    lostInFlight: 0,
    connects: 0,
    connectsUp: 0,
    connectsFailed: 0,
    connectsRedundant: 0,
    disconnects: 0,
    retransmitted: 0,
    tightTicks: 0,
  };
}

/** Callbacks for the metrics. */
export interface NetworkObserver {
  /** A member's observation (`member:*`, `deliver`). */
  onObservation?(member: Member, action: OverlayAction, now: number): void;
  /** A message left a member. */
  onSend?(from: Member, msg: OverlayMessage, bytes: number, now: number): void;
}

/**
 * The key of a pair's link (order-free; up to 2^21 members).
 * @param x One slot.
 * @param y The other.
 * @returns A number unique to the pair.
 */
export function linkKey(x: number, y: number): number {
  return x < y ? x * 2_097_152 + y : y * 2_097_152 + x;
}

/**
 * The peer id of simulated member `slot`: as long as a real one (52 characters, so that
 * byte estimates and rumor ids have their real size), readable, free of "/".
 * @param slot Member number.
 * @returns Its peer id.
 */
export function simPeerId(slot: number): PeerId {
  return `12D3KooWSim${slot.toString().padStart(41, "0")}`;
}

// One shared string of a realistic length: a member's contact in a real meeting is a circuit
// relay address plus its /webrtc suffix (~130 bytes); sharing it costs no memory per member.
const CONTACT_TAIL = "/ip4/198.51.100.20/udp/4002/webrtc-direct/certhash/" +
  "uEiBYbUp0w4EhIl7RjAaHf8l6cu5aDx4qwbCC5i1XyZp4dQ/p2p/12D3KooWRelayRelayRelayRelayRelay/p2p-circuit";

/**
 * A member's contact as the simulator gives it (one shared string: only its length matters).
 * @param _peerId The member.
 * @returns Its contact list.
 */
export function simContact(_peerId: PeerId): string[] {
  return SIM_CONTACT;
}
const SIM_CONTACT = [CONTACT_TAIL];
