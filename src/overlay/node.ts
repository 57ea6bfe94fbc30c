/**
 * One member's overlay, sans I/O: a bounded mesh of neighbours (degree between
 * `lowDegree` and `highDegree`, hard cap `maxDegree`, peer exchange on refusal), the
 * roster every member holds (signed entries, SWIM-style suspicion raised by neighbours and
 * refuted by the member itself, snapshots for newcomers, digest repair), and Plumtree
 * broadcast (eager push along a tree, lazy `ihave` on the other links, graft on a gap).
 *
 * It takes events and a clock and returns actions: `src/meeting.ts` drives it over real
 * WebRTC links, `bench/sim/` over a simulated network with 10,000 members, unit tests with
 * a fake clock. Models: HyParView/Plumtree as in iroh-gossip, SWIM/Lifeguard as in
 * hashicorp/memberlist, gossipsub's degree bounds and peer exchange on prune.
 *
 * @module
 */
import { resolveOverlayOptions } from "./options.ts";
import { Plumtree } from "./plumtree.ts";
import { MemberIndex, Roster, type RosterChange } from "./roster.ts";
import { appBytes, rumorId, signEntry, verdictBytes, verifyEntry, verifyRumor } from "./signing.ts";
import type {
  MemberEntry,
  OverlayAction,
  OverlayCrypto,
  OverlayMessage,
  OverlayOptions,
  PeerId,
  RosterItem,
  Rumor,
} from "./types.ts";

export { MemberIndex };

export { checkOverlayOptions, OVERLAY_DEFAULTS } from "./options.ts";

/** Items per `roster` message (about 250 bytes each on the wire). */
const ROSTER_CHUNK = 200;
/** Members handed over in a `prune`. */
const PEER_EXCHANGE = 8;
/** Connects in flight at once. */
const MAX_PENDING = 4;
/** A connect that got no answer is forgotten after this long. */
const PENDING_MS = 20_000;
/** After a failed connect, that member is not tried again for this long. */
const BACKOFF_MS = 30_000;
/** After a prune, the member that pruned us is not tried again for this long. */
const PRUNE_BACKOFF_MS = 10_000;
/** A member at its cap waits this long for the other side's hello before pruning it. */
const REFUSE_WAIT_MS = 2_000;
/** Neighbours younger than this are not dropped for being one too many. */
const MIN_LINK_AGE_MS = 10_000;
/** A new link compares rosters this long after it came up. */
const NEW_LINK_DIGEST_MS = 2_000;
/**
 * A newcomer asks one neighbour for the roster; another one after this long without it. A
 * member that has had nobody to ask for this long (the first members of a meeting) holds
 * all there is: it counts as holding the roster from then on.
 */
const ROSTER_ASK_MS = 5_000;

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

interface Neighbour {
  inbound: boolean;
  since: number;
  rttMs: number | undefined;
  /** Their degree, from their hello. */
  degree: number;
  hello: boolean;
  /** Whether it holds the whole roster (from its hello; true until then). */
  ready: boolean;
  /** Set when we are over our cap: prune them at this time (or at their hello). */
  refuseAt: number | undefined;
  /** When to compare rosters with it (once, soon after the link came up). */
  digestAt: number | undefined;
}

/** Counters of one overlay node. */
export interface OverlayStats {
  /** Rumors accepted (roster and application). */
  rumorsAccepted: number;
  /** Rumors that arrived again (after the first copy). */
  duplicates: number;
  /** Rumors or entries whose signature failed. */
  invalid: number;
  /** Grafts sent (gaps repaired from an `ihave`). */
  grafts: number;
  /** Prunes sent (refusals and drops). */
  prunes: number;
  /** Digest rounds that found a difference. */
  repairs: number;
  /** Suspicions we raised. */
  suspicionsRaised: number;
  /** Times we refuted a suspicion of ourselves. */
  refutations: number;
}

/** One member's overlay: call its inputs, then drain {@linkcode OverlayNode.takeActions}. */
export class OverlayNode {
  readonly peerId: PeerId;
  readonly #topic: string;
  readonly #crypto: OverlayCrypto;
  readonly #o: Required<OverlayOptions>;
  readonly #random: () => number;
  readonly #roster: Roster;
  readonly #neighbours = new Map<PeerId, Neighbour>();
  readonly #pending = new Map<PeerId, number>();
  readonly #backoff = new Map<PeerId, number>();
  readonly #entryPoints = new Map<PeerId, string[]>();
  #suggested: MemberEntry[] = [];
  readonly #plumtree: Plumtree;
  #out: OverlayAction[] = [];
  #seq: number;
  #nextHeartbeat: number;
  #nextDigest: number;
  #nextRewire: number;
  /** Whether we hold the whole roster (a snapshot came from a member that held it). */
  #hasRoster = false;
  /** The neighbour asked for the whole roster (one at a time), and when. */
  #rosterAsked: PeerId | undefined;
  #rosterAskedAt = -Infinity;
  readonly #createdAt: number;
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
    this.#plumtree = new Plumtree(this.#o, {
      send: (to, msg) => this.#send(to, msg),
      counts: (peer) => this.#neighbours.get(peer)?.refuseAt === undefined,
      rosterKnows: (id) => this.#roster.knows(id),
      rosterRumor: (id) => this.#roster.rumorFor(id),
    }, this.stats);
    this.#seq = init.now;
    this.#createdAt = init.now;
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
    const out: PeerId[] = [];
    for (const [peer, n] of this.#neighbours) if (n.refuseAt === undefined) out.push(peer);
    return out;
  }

  /**
   * Whether a member is our neighbour.
   * @param peerId The member.
   * @returns True when linked in the overlay.
   */
  isNeighbour(peerId: PeerId): boolean {
    const n = this.#neighbours.get(peerId);
    return n !== undefined && n.refuseAt === undefined;
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
    return this.#roster.size - 1 <= this.#o.maxDegree;
  }

  /** Whether we want more neighbours (the driver keeps looking up entry points). */
  get wantsPeers(): boolean {
    const have = this.#degree();
    return this.fullMesh ? have < this.#roster.size - 1 || have === 0 : have < this.#o.lowDegree;
  }

  // ---- inputs -------------------------------------------------------------------------

  /**
   * Members found outside the mesh (DHT, LAN, a knock): tried when we need neighbours.
   * @param points Their peer ids and contacts.
   * @param now The clock.
   */
  addEntryPoints(points: { peerId: PeerId; contact: string[] }[], now: number): void {
    if (this.#left) return;
    for (const p of points) {
      if (p.peerId !== this.peerId) this.#entryPoints.set(p.peerId, p.contact);
    }
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
    if (this.#left || peer === this.peerId || this.#neighbours.has(peer)) return;
    if (info.extra) {
      // A link on demand: say so, and keep it out of the mesh.
      this.#send(peer, {
        t: "hello",
        entry: this.#roster.self,
        degree: this.#degree(),
        wantRoster: false,
        ready: this.#hasRoster,
        extra: true,
      });
      return;
    }
    this.#pending.delete(peer);
    // At our cap the link is refused (after the hellos: the other side gets peer exchange
    // and, if it is a newcomer, the roster); until then it is not counted and carries nothing.
    const full = this.#degree() >= this.#o.maxDegree;
    const n: Neighbour = {
      inbound: info.inbound,
      since: now,
      rttMs: info.rttMs,
      degree: 0,
      hello: false,
      // Until its hello says otherwise (a real neighbour's hello comes before anything else
      // it sends; a stand-in that only hands over a snapshot, like the simulator's warm
      // start, sends none).
      ready: true,
      refuseAt: full ? now + REFUSE_WAIT_MS : undefined,
      // A new link compares rosters soon: a rumor that could not cross before (the mesh was
      // split, or it was spreading while this link formed) crosses then, not at the next
      // digest round. Not at once: during a join wave rumors in flight make most buckets
      // differ, and the simulator saw newcomers pull their roster 7 times over.
      digestAt: this.#hasRoster ? now + NEW_LINK_DIGEST_MS : undefined,
    };
    this.#neighbours.set(peer, n);
    // A newcomer asks one neighbour at a time for the whole roster (each asked for it: the
    // simulator saw newcomers download it 3.5 times). The first link is asked at once, in
    // the hello; if its hello says it does not hold the roster either (another newcomer),
    // a neighbour that does is asked (`#askRoster`).
    const ask = !this.#hasRoster && this.#rosterAsked === undefined;
    if (ask) {
      this.#rosterAsked = peer;
      this.#rosterAskedAt = now;
    }
    this.#send(peer, {
      t: "hello",
      entry: this.#roster.self,
      degree: this.#degree(),
      wantRoster: ask,
      ready: this.#hasRoster,
    });
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
    const n = this.#neighbours.get(peer);
    if (!this.#unlink(peer) || this.#left) return;
    if (peer === this.#rosterAsked) {
      this.#rosterAsked = undefined; // ask the next neighbour
      this.#askRoster(now);
    }
    if (n?.refuseAt !== undefined) return; // a refused link: never part of the mesh
    const m = this.#roster.get(peer);
    if (info.failed && m?.status === "alive") {
      this.stats.suspicionsRaised++;
      const inc = m.entry.incarnation;
      const sig = this.#crypto.sign(verdictBytes(this.#topic, "suspect", peer, inc, this.peerId));
      this.#originate({ k: "suspect", peer, inc, by: this.peerId, sig }, now);
    }
    this.#maintain(now);
  }

  /**
   * A `connect` action did not produce a link.
   * @param peer The member.
   * @param now The clock.
   */
  connectFailed(peer: PeerId, now: number): void {
    this.#pending.delete(peer);
    this.#backoff.set(peer, now + BACKOFF_MS);
    this.#entryPoints.delete(peer);
    if (!this.#left) this.#maintain(now);
  }

  /**
   * A round-trip time measured on a neighbour's link.
   * @param peer The neighbour.
   * @param rttMs The round-trip time.
   */
  setRtt(peer: PeerId, rttMs: number): void {
    const n = this.#neighbours.get(peer);
    if (n) n.rttMs = rttMs;
  }

  /**
   * A message from a neighbour (decoded and shape-checked by the driver).
   * @param from The neighbour.
   * @param msg The message.
   * @param now The clock.
   */
  receive(from: PeerId, msg: OverlayMessage, now: number): void {
    if (this.#left) return;
    const n = this.#neighbours.get(from);
    if (!n) return; // not (or no longer) linked: ignore
    switch (msg.t) {
      case "hello":
        return this.#onHello(from, n, msg, now);
      case "roster":
        for (const item of msg.entries) this.#mergeItem(item, now);
        if (msg.last && !this.#hasRoster) {
          // A snapshot from a member that holds the roster completes ours; one from a member
          // that does not (asked in our first hello) is merged, and someone else is asked.
          if (n.ready) this.#hasRoster = true;
          else if (from === this.#rosterAsked) {
            this.#rosterAsked = undefined;
            this.#askRoster(now);
          }
        }
        return this.#maintain(now);
      case "want":
        this.#sendItems(from, this.#roster.items(), true);
        return;
      case "prune":
        this.#backoff.set(from, now + PRUNE_BACKOFF_MS);
        for (const entry of msg.peers) {
          if (!this.#verifyEntry(entry)) continue;
          this.#changed(this.#roster.applyAlive(entry));
          if (entry.peerId !== this.peerId) this.#suggested.push(entry);
        }
        this.#suggested = this.#suggested.slice(-32);
        return;
      case "gossip":
        return this.#onGossip(from, msg.id, msg.rumor, msg.hops, now);
      case "ihave":
        return this.#plumtree.onIhave(from, msg.ids, now);
      case "graft":
        return this.#plumtree.onGraft(from, msg.ids);
      case "lazy":
        return this.#plumtree.setEager(from, false);
      case "digest": {
        const differ = this.#roster.differingBuckets(msg.buckets);
        if (differ.length === 0) return;
        this.stats.repairs++;
        this.#sendItems(from, this.#roster.items(new Set(differ)), false);
        this.#send(from, { t: "pull", buckets: differ });
        return;
      }
      case "pull":
        this.#sendItems(
          from,
          this.#roster.items(new Set(msg.buckets.filter((b) => Number.isInteger(b)))),
          false,
        );
        return;
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
    this.#reincarnate(this.#roster.self.incarnation + 1, contact);
  }

  /**
   * Leave: tell every neighbour (signed), then close every link. Takes the clock like
   * every input, though leaving needs no timer.
   * @param _now The clock.
   */
  leave(_now: number): void {
    if (this.#left) return;
    const inc = this.#roster.self.incarnation;
    const sig = this.#crypto.sign(verdictBytes(this.#topic, "left", this.peerId, inc, this.peerId));
    const rumor: Rumor = { k: "left", peer: this.peerId, inc, sig };
    const id = rumorId(rumor);
    for (const peer of this.#neighbours.keys()) {
      this.#send(peer, { t: "gossip", id, hops: 0, rumor });
      this.#out.push({ type: "disconnect", peer });
    }
    this.#left = true;
    this.#neighbours.clear();
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
    if (msg.entry.peerId !== from || !this.#verifyEntry(msg.entry)) {
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
    // A hello works as the alive rumor of its sender: a newcomer's first neighbours spread
    // its join, so the newcomer need not broadcast it (and no copy comes back as duplicate).
    const rumor: Rumor = { k: "alive", entry: msg.entry };
    const id = rumorId(rumor);
    if (!this.#roster.knows(id)) this.#accept(from, id, rumor, 0, now);
    if (msg.wantRoster) this.#sendItems(from, this.#roster.items(), true);
    // The member asked in our hello cannot help (it is new too): ask one that can. Also asks
    // this one if nobody was asked yet (`#askRoster` does nothing while an ask is open).
    if (from === this.#rosterAsked && !n.ready) this.#rosterAsked = undefined;
    this.#askRoster(now);
    if (n.refuseAt !== undefined && msg.degree <= this.#o.lowDegree) {
      // An under-linked member is taken in at our cap by dropping a neighbour that can spare
      // the link (HyParView's join): refusing it could leave it, or a group of newcomers,
      // cut off while everyone else is full.
      const spare = [...this.#neighbours].find(([peer, other]) =>
        peer !== from && other.refuseAt === undefined && other.hello &&
        other.degree > this.#o.lowDegree + 1
      );
      if (spare) {
        n.refuseAt = undefined;
        this.#prune(spare[0]);
      }
    }
    if (n.refuseAt !== undefined) this.#prune(from);
    else this.#maintain(now);
  }

  #onGossip(from: PeerId, id: string, rumor: Rumor, hops: number, now: number): void {
    if (id !== rumorId(rumor)) {
      this.stats.invalid++;
      return;
    }
    if (this.#plumtree.known(id)) {
      this.stats.duplicates++;
      // A second copy means this link is not needed in the tree (a `left` is pushed to
      // every neighbour on purpose, so its copies say nothing about the tree).
      if (rumor.k !== "left") this.#plumtree.duplicate(from);
      return;
    }
    if (!verifyRumor(this.#topic, this.#crypto, rumor)) {
      this.stats.invalid++;
      return;
    }
    this.#plumtree.setEager(from, true);
    this.#accept(from, id, rumor, hops + 1, now);
  }

  /** A new, verified rumor: apply it, then pass it on (eager links) and announce it (lazy). */
  #accept(from: PeerId | undefined, id: string, rumor: Rumor, hops: number, now: number): void {
    this.stats.rumorsAccepted++;
    switch (rumor.k) {
      case "alive":
        this.#changed(this.#roster.applyAlive(rumor.entry));
        break;
      case "suspect":
      case "dead":
      case "left":
        this.#changed(
          this.#roster.applyVerdict(rumor, now, this.#o.suspicionMs, this.#o.tombstoneMs),
        );
        break;
      case "app":
        if (rumor.origin !== this.peerId) {
          this.#out.push({
            type: "deliver",
            origin: rumor.origin,
            seq: rumor.seq,
            channel: rumor.channel,
            payload: rumor.payload,
            hops,
          });
        }
        break;
    }
    this.#plumtree.accepted(from, id, rumor, hops, now);
  }

  /** A rumor of ours: apply it and push it to every neighbour. */
  #originate(rumor: Rumor, now: number): string {
    const id = rumorId(rumor);
    this.#accept(undefined, id, rumor, 0, now);
    return id;
  }

  #mergeItem(item: RosterItem, now: number): void {
    // What the roster already holds needs no signature check (a snapshot repeats most of it).
    const cur = this.#roster.get(item.entry.peerId);
    if (
      cur && (cur.entry.incarnation > item.entry.incarnation ||
        (cur.entry.incarnation === item.entry.incarnation && cur.status === item.status))
    ) return;
    if (!this.#verifyEntry(item.entry)) return;
    this.#changed(
      this.#roster.applyItem(item, now, this.#o.suspicionMs, this.#o.tombstoneMs),
    );
  }

  /** Turn a roster change into events (and a refutation when it was about us). */
  #changed(change: RosterChange | undefined): void {
    if (!change) return;
    switch (change.kind) {
      case "join":
        this.#out.push({ type: "member:join", entry: change.entry });
        return;
      case "update":
        this.#out.push({ type: "member:update", entry: change.entry });
        return;
      case "leave":
        this.#suggested = this.#suggested.filter((e) => e.peerId !== change.entry.peerId);
        this.#out.push({
          type: "member:leave",
          peerId: change.entry.peerId,
          name: change.entry.name,
          reason: change.reason,
        });
        // A neighbour the roster calls dead keeps its link: the verdict reaches it through
        // `#spread`, and it refutes if it is alive.
        return;
      case "suspect":
        return;
      case "refute":
        this.stats.refutations++;
        this.#reincarnate(Math.max(change.inc, this.#roster.self.incarnation) + 1);
        return;
    }
  }

  #reincarnate(inc: number, contact = this.#roster.self.contact): void {
    const self = this.#roster.self;
    const entry = signEntry(this.#topic, this.#crypto, {
      peerId: self.peerId,
      name: self.name,
      joinedAt: self.joinedAt,
      incarnation: inc,
      contact,
    });
    this.#roster.setSelf(entry);
    // Pushed to every neighbour (not only eager ones): a refutation must not wait for grafts.
    const rumor: Rumor = { k: "alive", entry };
    const id = rumorId(rumor);
    this.stats.rumorsAccepted++;
    for (const peer of this.#neighbours.keys()) {
      this.#send(peer, { t: "gossip", id, hops: 0, rumor });
    }
  }

  // ---- upkeep -------------------------------------------------------------------------

  #heartbeat(now: number): void {
    if (!this.#hasRoster) {
      if (this.#rosterAsked !== undefined && now - this.#rosterAskedAt >= ROSTER_ASK_MS) {
        this.#rosterAsked = undefined; // no answer: ask another neighbour
        this.#askRoster(now);
      }
      if (this.#rosterAsked === undefined && now - this.#createdAt >= ROSTER_ASK_MS) {
        this.#hasRoster = true; // nobody to ask for this long: we hold all there is
      }
    }
    for (const { peer, inc } of this.#roster.expired(now)) {
      // Whoever's suspicion runs out first declares the death (same id for everyone).
      const sig = this.#crypto.sign(verdictBytes(this.#topic, "dead", peer, inc, this.peerId));
      this.#originate({ k: "dead", peer, inc, by: this.peerId, sig }, now);
    }
    this.#plumtree.expire(now);
    for (const [peer, until] of this.#backoff) if (until <= now) this.#backoff.delete(peer);
    for (const [peer, since] of this.#pending) {
      if (now - since > PENDING_MS) this.#pending.delete(peer);
    }
    for (const [peer, n] of this.#neighbours) {
      if (n.refuseAt !== undefined && n.refuseAt <= now) this.#prune(peer);
      else if (n.digestAt !== undefined && n.digestAt <= now) {
        n.digestAt = undefined;
        this.#send(peer, { t: "digest", buckets: this.#roster.digest() });
      }
    }
    this.#maintain(now);
    if (!this.fullMesh && this.#degree() > this.#o.highDegree) this.#dropOne(now);
    if (now >= this.#nextRewire) {
      this.#nextRewire = now + this.#jitter(this.#o.rewireIntervalMs);
      this.#rewire(now);
    }
    if (now >= this.#nextDigest) {
      this.#nextDigest = now + this.#jitter(this.#o.digestIntervalMs);
      const peers = [...this.#neighbours.keys()];
      if (peers.length > 0) {
        const peer = peers[Math.floor(this.#random() * peers.length)];
        this.#send(peer, { t: "digest", buckets: this.#roster.digest() });
      }
    }
  }

  /** Ask one neighbour that holds the roster for it, unless one was asked already. */
  #askRoster(now: number): void {
    if (this.#hasRoster || this.#rosterAsked !== undefined) return;
    const ready: PeerId[] = [];
    for (const [peer, n] of this.#neighbours) if (n.hello && n.ready) ready.push(peer);
    if (ready.length === 0) return;
    const peer = ready[Math.floor(this.#random() * ready.length)];
    this.#rosterAsked = peer;
    this.#rosterAskedAt = now;
    this.#send(peer, { t: "want" });
  }

  /** Open links while below the low mark (or, in a small meeting, to everyone). */
  #maintain(now: number): void {
    if (this.#left) return;
    const degree = this.#degree();
    const have = degree + this.#pending.size;
    const full = this.fullMesh;
    const others = this.#roster.size - 1;
    if (!full && degree >= this.#o.lowDegree) return;
    // A newcomer without the roster yet tries several entry points at once.
    const want = !this.#hasRoster && others === 0
      ? this.#o.targetDegree
      : full
      ? Math.min(others, this.#o.maxDegree)
      : this.#o.targetDegree;
    let room = Math.min(
      want - have,
      MAX_PENDING - this.#pending.size,
      this.#o.maxDegree - have, // never connect past the cap
    );
    const skip = (peer: PeerId) =>
      peer === this.peerId || this.#neighbours.has(peer) || this.#pending.has(peer) ||
      this.#backoff.has(peer);
    const connect = (peer: PeerId, contact: string[]) => {
      this.#pending.set(peer, now);
      this.#out.push({ type: "connect", peer, contact });
      room--;
    };
    while (room > 0 && this.#suggested.length > 0) {
      const e = this.#suggested.pop()!;
      if (!skip(e.peerId) && this.#roster.isLive(e.peerId)) connect(e.peerId, e.contact);
    }
    if (full) {
      for (const e of this.#roster.liveEntries()) {
        if (room <= 0) break;
        if (!skip(e.peerId) && this.#roster.get(e.peerId)?.status === "alive") {
          connect(e.peerId, e.contact);
        }
      }
    } else {
      while (room > 0) {
        const e = this.#roster.sample(this.#random, skip);
        if (!e) break;
        connect(e.peerId, e.contact);
      }
    }
    for (const [peer, contact] of this.#entryPoints) {
      if (room <= 0) break;
      if (!skip(peer) && !this.#roster.get(peer)) connect(peer, contact);
      else if (this.#roster.get(peer)) this.#entryPoints.delete(peer);
    }
  }

  /** One random link beyond our neighbours (see `rewireIntervalMs`). */
  #rewire(now: number): void {
    if (this.fullMesh || this.#pending.size > 0) return;
    if (this.#degree() + this.#pending.size >= this.#o.maxDegree - 1) return;
    const skip = (peer: PeerId) =>
      this.#neighbours.has(peer) || this.#pending.has(peer) || this.#backoff.has(peer);
    const e = this.#roster.sample(this.#random, skip);
    if (!e) return;
    this.#pending.set(e.peerId, now);
    this.#out.push({ type: "connect", peer: e.peerId, contact: e.contact });
  }

  /**
   * One neighbour too many: drop a settled one that can spare the link (its own degree
   * above the low mark), half the time the slowest, else at random.
   */
  #dropOne(now: number): void {
    const all = [...this.#neighbours].filter(([, n]) =>
      n.refuseAt === undefined && n.hello && now - n.since >= MIN_LINK_AGE_MS
    );
    const spare = all.filter(([, n]) => n.degree > this.#o.lowDegree);
    const settled = spare.length > 0 ? spare : all;
    if (settled.length === 0) return;
    let pick = settled[Math.floor(this.#random() * settled.length)];
    if (this.#random() < 0.5) {
      for (const c of settled) if ((c[1].rttMs ?? 0) > (pick[1].rttMs ?? 0)) pick = c;
    }
    this.#prune(pick[0]);
  }

  /** Refuse or drop a neighbour politely: hand it other members to try, then close. */
  #prune(peer: PeerId): void {
    const peers: MemberEntry[] = [];
    const chosen = new Set<PeerId>([peer]);
    for (let i = 0; i < PEER_EXCHANGE * 2 && peers.length < PEER_EXCHANGE; i++) {
      const e = this.#roster.sample(this.#random, (p) => chosen.has(p));
      if (!e) break;
      chosen.add(e.peerId);
      peers.push(e);
    }
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
    return this.#neighbours.delete(peer);
  }

  /** Neighbours that count (links being refused do not). */
  #degree(): number {
    let d = 0;
    for (const n of this.#neighbours.values()) if (n.refuseAt === undefined) d++;
    return d;
  }

  #verifyEntry(entry: MemberEntry): boolean {
    if (verifyEntry(this.#topic, this.#crypto, entry)) return true;
    this.stats.invalid++;
    return false;
  }

  #sendItems(to: PeerId, items: RosterItem[], snapshot: boolean): void {
    if (items.length === 0 && !snapshot) return;
    for (let i = 0; i < items.length || i === 0; i += ROSTER_CHUNK) {
      const entries = items.slice(i, i + ROSTER_CHUNK);
      this.#send(to, { t: "roster", entries, last: snapshot && i + ROSTER_CHUNK >= items.length });
    }
  }

  #send(to: PeerId, msg: OverlayMessage): void {
    this.#out.push({ type: "send", to, msg });
  }

  #jitter(ms: number): number {
    return ms * (0.75 + this.#random() * 0.5);
  }
}
