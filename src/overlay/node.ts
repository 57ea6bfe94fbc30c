/**
 * One member's overlay, sans I/O: it takes events and a clock and returns actions.
 * `src/meeting.ts` drives it over real WebRTC links, `bench/sim/` over a simulated network
 * with 10,000 members, unit tests with a fake clock.
 *
 * The node routes inputs to its parts and keeps their timers; each part is sans I/O too:
 * - `mesh.ts`: a bounded mesh of neighbours (degree between `lowDegree` and `highDegree`,
 *   hard cap `maxDegree`; gossipsub's degree bounds and peer exchange, HyParView's join);
 * - `membership.ts`: signed entries, suspicion raised by neighbours and refuted by the
 *   member itself (SWIM/Lifeguard as in hashicorp/memberlist);
 * - `roster_sync.ts`: snapshots for newcomers, digest repair;
 * - `plumtree.ts`: broadcast (eager push along a tree, lazy `ihave` on the other links,
 *   graft on a gap; as in iroh-gossip).
 *
 * They all work on the roster every member holds (`roster.ts`).
 *
 * @module
 */
import { Membership } from "./membership.ts";
import { Mesh, type Neighbour } from "./mesh.ts";
import { resolveOverlayOptions } from "./options.ts";
import { Plumtree } from "./plumtree.ts";
import { MemberIndex, Roster } from "./roster.ts";
import { DIGEST_BUCKETS, MAX_DIGEST_BUCKETS } from "./roster_digest.ts";
import { RosterSync } from "./roster_sync.ts";
import { appBytes, rumorId, signEntry, verifyRumor } from "./signing.ts";
import type {
  MemberEntry,
  OverlayAction,
  OverlayCrypto,
  OverlayMessage,
  OverlayOptions,
  OverlayStats,
  PeerId,
  Rumor,
} from "./types.ts";

export { MemberIndex };

export { checkOverlayOptions, OVERLAY_DEFAULTS } from "./options.ts";
export type { OverlayStats } from "./types.ts";

/** What an {@linkcode OverlayNode} is built from. */
export interface OverlayNodeInit {
  /** Ourselves (the entry is signed by the node). */
  self: { peerId: PeerId; name: string; joinedAt: number; contact: string[] };
  /** The meeting's topic id: the signing domain. */
  topic: string;
  /** Signs and verifies statements. */
  crypto: OverlayCrypto;
  /** Limits and timers. */
  options?: OverlayOptions;
  /** Uniform [0, 1) randomness (seeded in the simulator). */
  random?: () => number;
  /** Peer ids ↔ indices (shared by simulated members to save memory). */
  index?: MemberIndex;
  /** The clock at creation (ms). */
  now: number;
}

/** One member's overlay: call its inputs, then drain {@linkcode OverlayNode.takeActions}. */
export class OverlayNode {
  readonly peerId: PeerId;
  readonly #topic: string;
  readonly #crypto: OverlayCrypto;
  readonly #o: Required<OverlayOptions>;
  readonly #random: () => number;
  readonly #roster: Roster;
  readonly #members: Membership;
  readonly #mesh: Mesh;
  readonly #sync: RosterSync;
  readonly #plumtree: Plumtree;
  #out: OverlayAction[] = [];
  #seq: number;
  #nextHeartbeat: number;
  #nextDigest: number;
  #nextRewire: number;
  #left = false;
  readonly stats: OverlayStats = {
    rumorsAccepted: 0,
    duplicates: 0,
    invalid: 0,
    grafts: 0,
    prunes: 0,
    repairs: 0,
    suspicionsRaised: 0,
    refutations: 0,
  };

  /**
   * @param init Who we are, crypto, options, randomness and the clock.
   */
  constructor(init: OverlayNodeInit) {
    this.peerId = init.self.peerId;
    this.#topic = init.topic;
    this.#crypto = init.crypto;
    this.#o = resolveOverlayOptions(init.options ?? {});
    this.#random = init.random ?? Math.random;
    const entry = signEntry(this.#topic, this.#crypto, {
      ...init.self,
      // Incarnations start at the join time: a later life outranks an earlier one.
      incarnation: init.self.joinedAt,
    });
    this.#roster = new Roster(init.index ?? new MemberIndex(), entry);
    this.#members = new Membership({
      self: this.peerId,
      topic: this.#topic,
      crypto: this.#crypto,
      roster: this.#roster,
      options: this.#o,
      stats: this.stats,
      host: {
        emit: (action) => this.#out.push(action),
        pushAll: (id, rumor) => {
          for (const peer of this.#mesh.peers()) {
            this.#send(peer, { t: "gossip", id, hops: 0, rumor });
          }
        },
        gone: (peer) => this.#mesh.forget(peer),
      },
    });
    this.#mesh = new Mesh(this.peerId, this.#o, this.#random, this.#roster);
    this.#sync = new RosterSync(
      this.#roster,
      this.#random,
      {
        send: (to, msg) => this.#send(to, msg),
        holders: () => this.#mesh.holders(),
      },
      this.stats,
      init.now,
    );
    this.#plumtree = new Plumtree(this.#o, {
      send: (to, msg) => this.#send(to, msg),
      counts: (peer) => this.#mesh.counts(peer),
      rosterKnows: (id) => this.#roster.knows(id),
      rosterRumor: (id) => this.#roster.rumorFor(id),
      verify: (rumor) => verifyRumor(this.#topic, this.#crypto, rumor),
      accept: (from, id, rumor, hops, now) => this.#accept(from, id, rumor, hops, now),
    }, this.stats);
    this.#seq = init.now;
    this.#nextHeartbeat = init.now + this.#jitter(this.#o.heartbeatMs);
    this.#nextDigest = init.now + this.#jitter(this.#o.digestIntervalMs);
    this.#nextRewire = init.now + this.#jitter(this.#o.rewireIntervalMs);
  }

  // ---- queries ------------------------------------------------------------------------

  /** The options in force. */
  get options(): Readonly<Required<OverlayOptions>> {
    return this.#o;
  }

  /** Our current signed entry. */
  get entry(): MemberEntry {
    return this.#roster.self;
  }

  /** Linked neighbours (not counting links being refused at our cap). */
  neighbours(): PeerId[] {
    return this.#mesh.neighbours();
  }

  /**
   * Whether a member is our neighbour.
   * @param peerId The member.
   * @returns True when linked in the overlay.
   */
  isNeighbour(peerId: PeerId): boolean {
    return this.#mesh.isNeighbour(peerId);
  }

  /** Live members (alive or suspect), ourselves included. */
  rosterSize(): number {
    return this.#roster.size;
  }

  /**
   * Whether a member is live in our roster.
   * @param peerId The member.
   * @returns True when alive or suspect.
   */
  has(peerId: PeerId): boolean {
    return this.#roster.isLive(peerId);
  }

  /**
   * A member's entry and state.
   * @param peerId The member.
   * @returns Entry and status, or undefined.
   */
  member(peerId: PeerId): ReturnType<Roster["get"]> {
    return this.#roster.get(peerId);
  }

  /** Every live member but ourselves. */
  members(): MemberEntry[] {
    return this.#roster.liveEntries();
  }

  /** Whether the meeting is small enough to be a full mesh (everyone linked to everyone). */
  get fullMesh(): boolean {
    return this.#mesh.fullMesh;
  }

  /** Whether we want more neighbours (the driver keeps looking up entry points). */
  get wantsPeers(): boolean {
    return this.#mesh.wantsPeers;
  }

  // ---- inputs -------------------------------------------------------------------------

  /**
   * Members found outside the mesh (DHT, LAN, a knock): tried when we need neighbours.
   * @param points Their peer ids and contacts.
   * @param now The clock.
   */
  addEntryPoints(points: { peerId: PeerId; contact: string[] }[], now: number): void {
    if (this.#left) return;
    this.#mesh.addEntryPoints(points);
    this.#maintain(now);
  }

  /**
   * A link to a member is up (either side opened it).
   * @param peer The member.
   * @param now The clock.
   * @param info Who opened it, and its round-trip time if known.
   */
  linkUp(
    peer: PeerId,
    now: number,
    info: { inbound: boolean; rttMs?: number; extra?: boolean },
  ): void {
    if (this.#left || peer === this.peerId || this.#mesh.get(peer)) return;
    // A link on demand: say so, and keep it out of the mesh.
    if (info.extra) return this.#hello(peer, false, true);
    // At our cap the link is refused (after the hellos: the other side gets peer exchange
    // and, if it is a newcomer, the roster); until then it is not counted and carries nothing.
    this.#mesh.linkUp(peer, now, info, this.#sync.firstDigestAt(now));
    this.#hello(peer, this.#sync.linkUp(peer, now));
    // Likewise for recent broadcasts (announced by Plumtree).
    this.#plumtree.addLink(peer, now);
  }

  /**
   * A link is gone.
   * @param peer The member.
   * @param now The clock.
   * @param info `failed` when its lease expired or it broke (not closed on purpose).
   */
  linkDown(peer: PeerId, now: number, info: { failed: boolean }): void {
    const n = this.#mesh.get(peer);
    if (!this.#unlink(peer) || this.#left) return;
    this.#sync.linkDown(peer, now); // it was asked for the roster: ask the next neighbour
    if (n?.refuseAt !== undefined) return; // a refused link: never part of the mesh
    const suspicion = info.failed ? this.#members.suspect(peer) : undefined;
    if (suspicion) this.#originate(suspicion, now);
    this.#maintain(now);
  }

  /**
   * A `connect` action did not produce a link.
   * @param peer The member.
   * @param now The clock.
   */
  connectFailed(peer: PeerId, now: number): void {
    this.#mesh.connectFailed(peer, now);
    if (!this.#left) this.#maintain(now);
  }

  /**
   * A round-trip time measured on a neighbour's link.
   * @param peer The neighbour.
   * @param rttMs The round-trip time.
   */
  setRtt(peer: PeerId, rttMs: number): void {
    this.#mesh.setRtt(peer, rttMs);
  }

  /**
   * A message from a neighbour (decoded and shape-checked by the driver).
   * @param from The neighbour.
   * @param msg The message.
   * @param now The clock.
   */
  receive(from: PeerId, msg: OverlayMessage, now: number): void {
    if (this.#left) return;
    const n = this.#mesh.get(from);
    if (!n) return; // not (or no longer) linked: ignore
    switch (msg.t) {
      case "hello":
        return this.#onHello(from, n, msg, now);
      case "roster":
        for (const item of msg.entries) this.#members.merge(item, now);
        if (msg.last) this.#sync.snapshotEnd(from, n.ready, now);
        return this.#maintain(now);
      case "want":
        return this.#sync.sendSnapshot(from);
      case "prune":
        this.#mesh.prunedBy(from, now);
        for (const entry of msg.peers) {
          if (!this.#members.verify(entry)) continue;
          this.#members.apply({ k: "alive", entry }, now);
          this.#mesh.suggest(entry);
        }
        return;
      case "gossip":
        return this.#plumtree.onGossip(from, msg.id, msg.rumor, msg.hops, now);
      case "ihave":
        return this.#plumtree.onIhave(from, msg.ids, now);
      case "graft":
        return this.#plumtree.onGraft(from, msg.ids);
      case "lazy":
        return this.#plumtree.setEager(from, false);
      case "digest":
        return this.#sync.onDigest(from, msg.buckets);
      case "pull":
        return this.#sync.onPull(from, msg.buckets, msg.count);
    }
  }

  /**
   * Send an application message to every member through the mesh.
   * @param channel Application channel (0–255).
   * @param payload The bytes.
   * @param now The clock.
   * @returns The rumor's id.
   */
  broadcast(channel: number, payload: Uint8Array, now: number): string {
    const seq = ++this.#seq;
    const sig = this.#crypto.sign(appBytes(this.#topic, this.peerId, seq, channel, payload));
    const rumor: Rumor = { k: "app", origin: this.peerId, seq, channel, payload, sig };
    return this.#originate(rumor, now);
  }

  /**
   * Our contact changed (new relay addresses): a new incarnation tells everyone.
   * @param contact The new contact.
   * @param _now The clock (every input takes it; a new contact needs no timer).
   */
  updateContact(contact: string[], _now: number): void {
    if (this.#left) return;
    this.#members.newContact(contact);
  }

  /**
   * Leave: tell every neighbour (signed), then close every link. Takes the clock like
   * every input, though leaving needs no timer.
   * @param _now The clock.
   */
  leave(_now: number): void {
    if (this.#left) return;
    const rumor = this.#members.left();
    const id = rumorId(rumor);
    for (const peer of this.#mesh.peers()) {
      this.#send(peer, { t: "gossip", id, hops: 0, rumor });
      this.#out.push({ type: "disconnect", peer });
    }
    this.#left = true;
    this.#mesh.clear();
    this.#plumtree.clear();
  }

  /**
   * Run what is due: mesh upkeep, suspicion timeouts, lazy announcements, grafts, digests.
   * @param now The clock.
   */
  tick(now: number): void {
    if (this.#left) return;
    this.#plumtree.tick(now);
    if (now >= this.#nextHeartbeat) {
      this.#nextHeartbeat = now + this.#jitter(this.#o.heartbeatMs);
      this.#heartbeat(now);
    }
  }

  /** When {@linkcode OverlayNode.tick} must run next (absolute ms). */
  nextDeadline(): number {
    if (this.#left) return Infinity;
    return Math.min(this.#nextHeartbeat, this.#plumtree.nextDeadline());
  }

  /** The actions collected since the last call. */
  takeActions(): OverlayAction[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  // ---- handlers -----------------------------------------------------------------------

  #onHello(
    from: PeerId,
    n: Neighbour,
    msg: Extract<OverlayMessage, { t: "hello" }>,
    now: number,
  ): void {
    if (msg.entry.peerId !== from || !this.#members.verify(msg.entry)) {
      // The link's authenticated peer must sign its own entry.
      this.stats.invalid++;
      this.#drop(from);
      return;
    }
    if (msg.extra) {
      // The other side opened this link on demand: not a neighbour (no prune, no gossip).
      this.#unlink(from);
      this.#maintain(now);
      return;
    }
    n.hello = true;
    n.degree = msg.degree;
    n.ready = msg.ready ?? true;
    n.digestBuckets = msg.digestBuckets ?? DIGEST_BUCKETS;
    // A hello works as the alive rumor of its sender: a newcomer's first neighbours spread
    // its join, so the newcomer need not broadcast it (and no copy comes back as duplicate).
    const rumor: Rumor = { k: "alive", entry: msg.entry };
    const id = rumorId(rumor);
    if (!this.#roster.knows(id)) this.#accept(from, id, rumor, 0, now);
    if (msg.wantRoster) this.#sync.sendSnapshot(from);
    this.#sync.hello(from, n.ready, now);
    // A link refused at our cap is taken in if the member is under-linked and a neighbour
    // can spare its link (`Mesh.takeIn`); else it is pruned now that the hellos are done.
    const spare = this.#mesh.takeIn(from);
    if (spare !== undefined) this.#prune(spare);
    if (n.refuseAt !== undefined) this.#prune(from);
    else this.#maintain(now);
  }

  /** A new, verified rumor: apply it, then pass it on (eager links) and announce it (lazy). */
  #accept(from: PeerId | undefined, id: string, rumor: Rumor, hops: number, now: number): void {
    this.stats.rumorsAccepted++;
    if (rumor.k !== "app") this.#members.apply(rumor, now);
    else if (rumor.origin !== this.peerId) {
      this.#out.push({
        type: "deliver",
        origin: rumor.origin,
        seq: rumor.seq,
        channel: rumor.channel,
        payload: rumor.payload,
        hops,
      });
    }
    this.#plumtree.accepted(from, id, rumor, hops, now);
  }

  /** A rumor of ours: apply it and push it to every neighbour. */
  #originate(rumor: Rumor, now: number): string {
    const id = rumorId(rumor);
    this.#accept(undefined, id, rumor, 0, now);
    return id;
  }

  // ---- upkeep -------------------------------------------------------------------------

  #heartbeat(now: number): void {
    this.#sync.heartbeat(now);
    for (const { peer, inc } of this.#roster.expired(now)) {
      this.#originate(this.#members.dead(peer, inc), now);
    }
    this.#plumtree.expire(now);
    this.#mesh.expire(now);
    for (const [peer, n] of this.#mesh.links()) {
      if (n.refuseAt !== undefined && n.refuseAt <= now) this.#prune(peer);
      else if (n.digestAt !== undefined && n.digestAt <= now) {
        n.digestAt = undefined;
        this.#sync.sendDigest(peer, n.digestBuckets);
      }
    }
    this.#maintain(now);
    const surplus = this.#mesh.surplus(now);
    if (surplus !== undefined) this.#prune(surplus);
    if (now >= this.#nextRewire) {
      this.#nextRewire = now + this.#jitter(this.#o.rewireIntervalMs);
      const connect = this.#mesh.rewire(now);
      if (connect) this.#out.push(connect);
    }
    if (now >= this.#nextDigest) {
      this.#nextDigest = now + this.#jitter(this.#o.digestIntervalMs);
      const peer = this.#mesh.anyLink();
      if (peer !== undefined) this.#sync.sendDigest(peer, this.#mesh.get(peer)?.digestBuckets);
    }
  }

  /** Open the links the mesh wants (see `Mesh.maintain`). */
  #maintain(now: number): void {
    if (this.#left) return;
    this.#out.push(...this.#mesh.maintain(now, this.#sync.held));
  }

  /** Refuse or drop a neighbour politely: hand it other members to try, then close. */
  #prune(peer: PeerId): void {
    const peers = this.#mesh.peerExchange(peer);
    this.stats.prunes++;
    this.#send(peer, { t: "prune", peers });
    this.#drop(peer);
  }

  #drop(peer: PeerId): void {
    this.#unlink(peer);
    this.#out.push({ type: "disconnect", peer });
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Forget a link (mesh and tree); false if it was not there. */
  #unlink(peer: PeerId): boolean {
    this.#plumtree.removeLink(peer);
    return this.#mesh.remove(peer);
  }

  #hello(peer: PeerId, wantRoster: boolean, extra?: true): void {
    const hello = {
      t: "hello",
      entry: this.#roster.self,
      degree: this.#mesh.degree(),
      wantRoster,
      ready: this.#sync.held,
      digestBuckets: MAX_DIGEST_BUCKETS,
    } as const;
    this.#send(peer, extra ? { ...hello, extra } : hello);
  }

  #send(to: PeerId, msg: OverlayMessage): void {
    this.#out.push({ type: "send", to, msg });
  }

  #jitter(ms: number): number {
    return ms * (0.75 + this.#random() * 0.5);
  }
}
