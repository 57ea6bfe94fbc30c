/**
 * The simulated network's links and events, and how long a message takes on a link.
 *
 * Links are reliable and ordered (a WebRTC data channel is SCTP, reliable and ordered by
 * default): a lost packet is retransmitted after an RTO, so loss delays that message and
 * every later one on the link instead of dropping it. A message of `b` bytes is
 * `ceil(b / mtu)` packets; each retransmission can be lost again (the RTO doubles). Each
 * member has an uplink of `uplinkMbps`; its messages leave one after the other, so a member
 * relaying a 16 KiB broadcast to 8 neighbours pays for 128 KiB of sending.
 *
 * @module
 */
import type { OverlayMessage } from "../../src/overlay/types.ts";
import type { Member, NetworkCounters, NetworkOptions } from "./model.ts";
import type { Random } from "./random.ts";

/** Link states. */
export const CONNECTING = 0, UP = 1, CLOSING = 2, BROKEN = 3;

/** A link between two members (a: the side that connected). */
export class Link {
  state = CONNECTING;
  epoch = 0;
  /** Arrival time of the last message a→b and b→a (keeps each direction in order). */
  lastAB = 0;
  lastBA = 0;
  /**
   * @param key The pair's key (`linkKey`).
   * @param a The slot that connected.
   * @param b The slot connected to.
   * @param oneWay One-way latency (ms).
   */
  constructor(
    readonly key: number,
    readonly a: number,
    readonly b: number,
    readonly oneWay: number,
  ) {}
}

/** Event kinds. */
export const DELIVER = 0,
  TICK = 1,
  CONNECT_DONE = 2,
  CONNECT_FAIL = 3,
  CLOSE = 4,
  LEASE = 5,
  SCRIPT = 6;

/** A queued event (one shape for every kind, which keeps V8's property access monomorphic). */
export class SimEvent {
  seq = 0;
  /**
   * @param at Virtual time (ms).
   * @param kind Event kind.
   * @param to Slot it is for (-1: none).
   * @param from Slot it comes from (-1: none).
   * @param link The link it is about.
   * @param epoch The link's epoch when queued (stale when the link moved on).
   * @param msg The message (DELIVER).
   * @param fn The script (SCRIPT).
   */
  constructor(
    public at: number,
    readonly kind: number,
    readonly to: number,
    readonly from: number,
    readonly link: Link | null,
    readonly epoch: number,
    readonly msg: OverlayMessage | null,
    readonly fn: (() => void) | null,
  ) {}
}

/**
 * An event about a link (no message, no script).
 * @param at Virtual time (ms).
 * @param kind Event kind.
 * @param to Slot it is for.
 * @param from Slot it comes from.
 * @param link The link.
 * @param epoch The link's epoch.
 * @returns The event.
 */
export function linkEvent(
  at: number,
  kind: number,
  to: number,
  from: number,
  link: Link,
  epoch: number,
): SimEvent {
  return new SimEvent(at, kind, to, from, link, epoch, null, null);
}

/**
 * When a message sent now arrives, before ordering on the link: the sender's uplink
 * queue, the link's latency, and retransmissions of lost packets. Advances the sender's
 * uplink, counts retransmissions and draws from `random` (in the same order on every run, for determinism).
 * @param o Network model.
 * @param random The network's random source.
 * @param from The sender.
 * @param link The link.
 * @param bytes The message's size.
 * @param now Virtual time now (ms).
 * @param counters Counts messages that needed a retransmission.
 * @returns The arrival time (ms).
 */
export function transferArrival(
  o: NetworkOptions,
  random: Random,
  from: Member,
  link: Link,
  bytes: number,
  now: number,
  counters: NetworkCounters,
): number {
  let depart = now;
  if (o.uplinkMbps > 0) {
    depart = Math.max(depart, from.uplinkFreeAt) + (bytes * 8) / (o.uplinkMbps * 1000);
    from.uplinkFreeAt = depart;
  }
  let arrive = depart + link.oneWay;
  if (o.loss > 0) {
    // Each packet of the message is lost with probability `loss`; the lost ones go out
    // again one retransmission timeout later (SCTP retransmits the missing chunks, not the
    // whole message), and so on while any of them is lost again, the timeout doubling.
    // (Until 2026-12-01 the whole message was re-sent each round, so a 50 KB roster chunk
    // of 42 packets was "lost" a third of the time and again a third of the time after
    // that: the simulator's newcomers waited seconds for their snapshot.)
    let outstanding = Math.max(1, Math.ceil(bytes / o.mtu));
    let rto = o.rtoMs[0] + random() * (o.rtoMs[1] - o.rtoMs[0]);
    let retransmitted = false;
    while (outstanding > 0) {
      let lost = 0;
      for (let i = 0; i < outstanding; i++) if (random() < o.loss) lost++;
      if (lost === 0) break;
      arrive += rto;
      rto *= 2;
      outstanding = lost;
      retransmitted = true;
    }
    if (retransmitted) counters.retransmitted++;
  }
  return arrive;
}
