/**
 * A deliberately simple overlay node for the simulator's own unit tests (not the real
 * protocol): it links to a few members, floods rumors to every neighbour with
 * deduplication, hands a newcomer the whole roster, and declares a neighbour dead when its
 * link fails. It lets the tests check the engine (latency, order, loss, leases, determinism)
 * independently of `src/overlay/node.ts`.
 *
 * @module
 */
import type { NodeInit, SimNode } from "../../bench/sim/network.ts";
import type {
  MemberEntry,
  OverlayAction,
  OverlayMessage,
  PeerId,
  Rumor,
} from "../../src/overlay/types.ts";

/** Log of what a fake node saw (for engine tests). */
export interface FakeLog {
  received: { from: PeerId; msg: OverlayMessage; now: number }[];
  ups: { peer: PeerId; now: number; inbound: boolean; rttMs?: number }[];
  downs: { peer: PeerId; now: number; failed: boolean }[];
  failedConnects: { peer: PeerId; now: number }[];
}

/** The fake. */
export class FakeNode implements SimNode {
  readonly log: FakeLog = { received: [], ups: [], downs: [], failedConnects: [] };
  readonly self: MemberEntry;
  readonly #random: () => number;
  readonly #roster = new Map<PeerId, MemberEntry>();
  readonly #neighbours = new Set<PeerId>();
  readonly #pending = new Set<PeerId>();
  readonly #seen = new Set<string>();
  #actions: OverlayAction[] = [];
  #next: number;
  #seq = 0;
  #left = false;
  /** Neighbours wanted. */
  degree = 4;

  constructor(init: NodeInit) {
    this.self = {
      peerId: init.peerId,
      name: init.name,
      joinedAt: init.joinedAt,
      incarnation: 0,
      contact: init.contact,
      sig: new Uint8Array(4),
    };
    this.#random = init.random;
    this.#roster.set(init.peerId, this.self);
    this.#next = init.now + 1000;
  }

  /** The member's own entry. */
  get entry(): MemberEntry {
    return this.self;
  }

  /**
   * Queue an action as if the node had decided it (for engine tests).
   * @param action The action.
   */
  push(action: OverlayAction): void {
    this.#actions.push(action);
  }

  addEntryPoints(points: { peerId: PeerId; contact: string[] }[], _now: number): void {
    for (const p of points.slice(0, this.degree)) this.#connect(p.peerId);
  }

  linkUp(peer: PeerId, now: number, info: { inbound: boolean; rttMs?: number }): void {
    this.log.ups.push({ peer, now, ...info });
    this.#pending.delete(peer);
    this.#neighbours.add(peer);
    this.#send(peer, {
      t: "hello",
      entry: this.self,
      degree: this.#neighbours.size,
      wantRoster: !info.inbound,
    });
  }

  linkDown(peer: PeerId, now: number, info: { failed: boolean }): void {
    this.log.downs.push({ peer, now, ...info });
    this.#neighbours.delete(peer);
    if (info.failed && this.#roster.has(peer)) {
      this.#roster.delete(peer);
      this.#actions.push({ type: "member:leave", peerId: peer, name: peer, reason: "failed" });
      this.#flood(
        { k: "dead", peer, inc: 0, by: this.self.peerId, sig: new Uint8Array(4) },
        `d/${peer}`,
      );
    }
  }

  connectFailed(peer: PeerId, now: number): void {
    this.log.failedConnects.push({ peer, now });
    this.#pending.delete(peer);
  }

  receive(from: PeerId, msg: OverlayMessage, now: number): void {
    this.log.received.push({ from, msg, now });
    if (this.#left) return;
    switch (msg.t) {
      case "hello":
        this.#learn(msg.entry, from, true);
        if (msg.wantRoster) {
          this.#send(from, {
            t: "roster",
            entries: [...this.#roster.values()].map((entry) => ({ entry, status: "alive" })),
            last: true,
          });
        }
        return;
      case "roster":
        for (const item of msg.entries) this.#learn(item.entry, from, false);
        return;
      case "gossip":
        if (this.#seen.has(msg.id)) return;
        this.#seen.add(msg.id);
        this.#apply(msg.rumor, msg.hops);
        for (const n of this.#neighbours) {
          if (n !== from) {
            this.#send(n, { t: "gossip", id: msg.id, hops: msg.hops + 1, rumor: msg.rumor });
          }
        }
        return;
    }
  }

  broadcast(channel: number, payload: Uint8Array, _now: number): string {
    const seq = this.#seq++;
    const id = `m/${this.self.peerId}/${seq}`;
    this.#flood({
      k: "app",
      origin: this.self.peerId,
      seq,
      channel,
      payload,
      sig: new Uint8Array(4),
    }, id);
    return id;
  }

  leave(_now: number): void {
    this.#flood(
      { k: "left", peer: this.self.peerId, inc: 0, sig: new Uint8Array(4) },
      `l/${this.self.peerId}`,
    );
    this.#left = true;
    for (const n of this.#neighbours) this.#actions.push({ type: "disconnect", peer: n });
  }

  tick(now: number): void {
    this.#next = now + 1000;
    if (this.#left) return;
    if (this.#neighbours.size + this.#pending.size < this.degree) {
      const peers = [...this.#roster.keys()].filter((p) =>
        p !== this.self.peerId && !this.#neighbours.has(p)
      );
      if (peers.length > 0) this.#connect(peers[Math.floor(this.#random() * peers.length)]);
    }
  }

  nextDeadline(): number {
    return this.#next;
  }

  takeActions(): OverlayAction[] {
    const a = this.#actions;
    this.#actions = [];
    return a;
  }

  neighbours(): PeerId[] {
    return [...this.#neighbours];
  }

  rosterSize(): number {
    return this.#roster.size;
  }

  has(peerId: PeerId): boolean {
    return this.#roster.has(peerId);
  }

  #connect(peer: PeerId): void {
    if (this.#neighbours.has(peer) || this.#pending.has(peer)) return;
    this.#pending.add(peer);
    this.#actions.push({ type: "connect", peer, contact: [] });
  }

  #send(to: PeerId, msg: OverlayMessage): void {
    this.#actions.push({ type: "send", to, msg });
  }

  #learn(entry: MemberEntry, via: PeerId, spread: boolean): void {
    if (!this.#roster.has(entry.peerId)) {
      this.#roster.set(entry.peerId, entry);
      this.#actions.push({ type: "member:join", entry });
    }
    const id = `a/${entry.peerId}`;
    if (spread && !this.#seen.has(id)) this.#flood({ k: "alive", entry }, id, via);
  }

  #flood(rumor: Rumor, id: string, except?: PeerId): void {
    this.#seen.add(id);
    for (const n of this.#neighbours) {
      if (n !== except) this.#send(n, { t: "gossip", id, hops: 1, rumor });
    }
  }

  #apply(rumor: Rumor, hops: number): void {
    switch (rumor.k) {
      case "alive":
        if (!this.#roster.has(rumor.entry.peerId)) {
          this.#roster.set(rumor.entry.peerId, rumor.entry);
          this.#actions.push({ type: "member:join", entry: rumor.entry });
        }
        return;
      case "dead":
      case "left":
        if (rumor.peer === this.self.peerId) return;
        if (this.#roster.delete(rumor.peer)) {
          this.#actions.push({
            type: "member:leave",
            peerId: rumor.peer,
            name: rumor.peer,
            reason: rumor.k === "left" ? "left" : "failed",
          });
        }
        return;
      case "app":
        this.#actions.push({
          type: "deliver",
          origin: rumor.origin,
          seq: rumor.seq,
          channel: rumor.channel,
          payload: rumor.payload,
          hops,
        });
        return;
    }
  }
}
