/**
 * The simulated network's link layer: sends (after the uplink, the latency and any
 * retransmissions, in order per direction), connects and their failures, clean closes,
 * and crashed neighbours noticed after a lease. The event loop and the members are
 * `network.ts`'s; this module gets them through a {@linkcode LinkHost}.
 *
 * @module
 */
import type { OverlayMessage, PeerId } from "../../src/overlay/types.ts";
import type { EventQueue } from "./heap.ts";
import {
  BROKEN,
  CLOSE,
  CLOSING,
  CONNECT_DONE,
  CONNECT_FAIL,
  CONNECTING,
  DELIVER,
  LEASE,
  Link,
  linkEvent,
  SimEvent,
  transferArrival,
  UP,
} from "./links.ts";
import {
  linkKey,
  type Member,
  type NetworkCounters,
  type NetworkObserver,
  type NetworkOptions,
} from "./model.ts";
import { pairLatency, type Random } from "./random.ts";

/** What the link layer uses of the network. */
export interface LinkHost {
  readonly options: NetworkOptions;
  readonly random: Random;
  readonly counters: NetworkCounters;
  /** Every member ever created, by slot. */
  readonly members: Member[];
  readonly queue: EventQueue<SimEvent>;
  /** Virtual time now (ms since the start of the run). */
  now(): number;
  /** The clock the nodes see. */
  abs(): number;
  /** Drain a member's actions and reschedule its timer. */
  after(m: Member): void;
  /** Run `fn` at virtual time `at`. */
  at(at: number, fn: () => void): void;
  /** The slot of a peer id. */
  slotOf(peerId: PeerId): number | undefined;
  /** The current metric callbacks. */
  observer(): NetworkObserver;
  /** During a warm start: the stand-in peer (nothing is sent to it). */
  virtual(): PeerId | null;
}

/** Every link of the simulated network. */
export class LinkLayer {
  readonly #h: LinkHost;
  readonly #links = new Map<number, Link>();

  /** @param host The network. */
  constructor(host: LinkHost) {
    this.#h = host;
  }

  /**
   * Handle a link event (DELIVER, CONNECT_DONE, CONNECT_FAIL, CLOSE, LEASE).
   * @param ev The event.
   */
  handle(ev: SimEvent): void {
    switch (ev.kind) {
      case DELIVER: {
        const link = ev.link!;
        const to = this.#h.members[ev.to];
        if (link.epoch !== ev.epoch || link.state === CONNECTING || !to.running) {
          this.#h.counters.lostInFlight++;
          return;
        }
        this.#h.counters.delivered++;
        to.node.receive(this.#h.members[ev.from].peerId, ev.msg!, this.#h.abs());
        this.#h.after(to);
        return;
      }
      case CONNECT_DONE: {
        const link = ev.link!;
        if (link.epoch !== ev.epoch || link.state !== CONNECTING) return;
        const a = this.#h.members[link.a];
        const b = this.#h.members[link.b];
        if (!a.running) {
          this.#links.delete(link.key);
          return;
        }
        if (!b.running) {
          // The target died while we were connecting: the attempt times out.
          const at = ev.at - this.#h.options.connectRtts * 2 * link.oneWay +
            this.#h.options.connectTimeoutMs;
          this.#h.queue.push(
            linkEvent(Math.max(at, this.#h.now()), CONNECT_FAIL, a.slot, b.slot, link, link.epoch),
          );
          return;
        }
        link.state = UP;
        link.lastAB = link.lastBA = this.#h.now();
        a.links.add(b.slot);
        b.links.add(a.slot);
        this.#h.counters.connectsUp++;
        const rttMs = Math.round(2 * link.oneWay);
        a.node.linkUp(b.peerId, this.#h.abs(), { inbound: false, rttMs });
        this.#h.after(a);
        if (b.running) {
          b.node.linkUp(a.peerId, this.#h.abs(), { inbound: true, rttMs });
          this.#h.after(b);
        }
        return;
      }
      case CONNECT_FAIL: {
        const link = ev.link!;
        if (link.epoch !== ev.epoch || link.state !== CONNECTING) return;
        this.#links.delete(link.key);
        link.epoch++;
        this.#h.counters.connectsFailed++;
        const a = this.#h.members[ev.to];
        if (!a.running) return;
        a.node.connectFailed(this.#h.members[ev.from].peerId, this.#h.abs());
        this.#h.after(a);
        return;
      }
      case CLOSE: {
        const link = ev.link!;
        if (link.epoch !== ev.epoch) return;
        this.#remove(link);
        for (const [x, y] of [[link.a, link.b], [link.b, link.a]]) {
          const m = this.#h.members[x];
          if (!m.running) continue;
          m.node.linkDown(this.#h.members[y].peerId, this.#h.abs(), { failed: false });
          this.#h.after(m);
        }
        return;
      }
      case LEASE: {
        const link = ev.link!;
        if (link.epoch !== ev.epoch) return;
        this.#remove(link);
        const m = this.#h.members[ev.to];
        if (!m.running) return;
        m.node.linkDown(this.#h.members[ev.from].peerId, this.#h.abs(), { failed: true });
        this.#h.after(m);
        return;
      }
    }
  }

  /**
   * A member crashed: its up links break; each neighbour notices after a lease.
   * @param m The member.
   */
  breakAll(m: Member): void {
    const [lo, hi] = this.#h.options.leaseMs;
    for (const other of m.links) {
      const link = this.#links.get(linkKey(m.slot, other))!;
      if (link.state !== UP) continue;
      link.state = BROKEN;
      const lease = lo + this.#h.random() * (hi - lo);
      this.#h.queue.push(
        linkEvent(this.#h.now() + lease, LEASE, other, m.slot, link, link.epoch),
      );
    }
  }

  /**
   * A member is done leaving: close its remaining up links cleanly.
   * @param m The member.
   */
  closeAll(m: Member): void {
    for (const other of [...m.links]) {
      const link = this.#links.get(linkKey(m.slot, other))!;
      if (link.state === UP) this.#close(link);
    }
  }

  /**
   * Send a message on the link between two members.
   * @param from The sender.
   * @param toPeer The receiver.
   * @param msg The message.
   */
  send(from: Member, toPeer: PeerId, msg: OverlayMessage): void {
    if (toPeer === this.#h.virtual()) return;
    this.#h.counters.sent++;
    const toSlot = this.#h.slotOf(toPeer);
    const link = toSlot === undefined ? undefined : this.#links.get(linkKey(from.slot, toSlot));
    if (!link || link.state === CONNECTING || !from.running) {
      this.#h.counters.sentWithoutLink++;
      return;
    }
    if (link.state !== UP) {
      this.#h.counters.sentOnDyingLink++;
      return;
    }
    const o = this.#h.options;
    const bytes = o.messageBytes(msg);
    this.#h.observer().onSend?.(from, msg, bytes, this.#h.now());
    let arrive = transferArrival(
      o,
      this.#h.random,
      from,
      link,
      bytes,
      this.#h.now(),
      this.#h.counters,
    );
    if (link.a === from.slot) {
      arrive = Math.max(arrive, link.lastAB);
      link.lastAB = arrive;
    } else {
      arrive = Math.max(arrive, link.lastBA);
      link.lastBA = arrive;
    }
    this.#h.queue.push(
      new SimEvent(arrive, DELIVER, toSlot!, from.slot, link, link.epoch, msg, null),
    );
  }

  /**
   * Open a link (a no-op when linked or connecting already).
   * @param from The side that connects.
   * @param toPeer The peer to connect to.
   */
  connect(from: Member, toPeer: PeerId): void {
    if (toPeer === this.#h.virtual()) return;
    const toSlot = this.#h.slotOf(toPeer);
    if (toSlot === from.slot) return;
    this.#h.counters.connects++;
    const o = this.#h.options;
    if (toSlot === undefined) {
      // An unknown peer: nothing answers.
      this.#h.at(this.#h.now() + o.connectTimeoutMs, () => {
        this.#h.counters.connectsFailed++;
        if (!from.running) return;
        from.node.connectFailed(toPeer, this.#h.abs());
        this.#h.after(from);
      });
      return;
    }
    const key = linkKey(from.slot, toSlot);
    if (this.#links.has(key)) {
      this.#h.counters.connectsRedundant++;
      return;
    }
    const oneWay = pairLatency(o.seed, from.slot, toSlot, o.latencyMs[0], o.latencyMs[1]);
    const link = new Link(key, from.slot, toSlot, oneWay);
    this.#links.set(key, link);
    const to = this.#h.members[toSlot];
    if (to.running) {
      this.#h.queue.push(
        linkEvent(
          this.#h.now() + o.connectRtts * 2 * oneWay,
          CONNECT_DONE,
          toSlot,
          from.slot,
          link,
          0,
        ),
      );
    } else {
      this.#h.queue.push(
        linkEvent(this.#h.now() + o.connectTimeoutMs, CONNECT_FAIL, from.slot, toSlot, link, 0),
      );
    }
  }

  /**
   * Close a link, or abandon the attempt.
   * @param from The side that disconnects.
   * @param toPeer The other side.
   */
  disconnect(from: Member, toPeer: PeerId): void {
    const toSlot = this.#h.slotOf(toPeer);
    if (toSlot === undefined) return;
    const link = this.#links.get(linkKey(from.slot, toSlot));
    if (!link) return;
    this.#h.counters.disconnects++;
    if (link.state === CONNECTING) {
      // Abandon the attempt; the side that connected hears that it failed.
      this.#links.delete(link.key);
      link.epoch++;
      const a = this.#h.members[link.a];
      this.#h.at(this.#h.now(), () => {
        if (!a.running) return;
        a.node.connectFailed(this.#h.members[link.b].peerId, this.#h.abs());
        this.#h.after(a);
      });
      return;
    }
    if (link.state === UP) this.#close(link);
  }

  #remove(link: Link): void {
    link.epoch++;
    this.#links.delete(link.key);
    this.#h.members[link.a].links.delete(link.b);
    this.#h.members[link.b].links.delete(link.a);
  }

  /** Close an up link once what is in flight on it has arrived. */
  #close(link: Link): void {
    link.state = CLOSING;
    const at = Math.max(this.#h.now() + link.oneWay, link.lastAB, link.lastBA);
    this.#h.queue.push(linkEvent(at, CLOSE, -1, -1, link, link.epoch));
  }
}
