/**
 * The mesh of one member: its links and their upkeep. Degree between `lowDegree` and
 * `highDegree`, hard cap `maxDegree` (a link that arrives at the cap is refused after the
 * hellos), everyone linked to everyone in a meeting small enough; connects in flight,
 * back-off after a failed connect or a prune, peer exchange on prune (gossipsub), taking
 * in an under-linked member at the cap by dropping a neighbour that can spare the link
 * (HyParView's join), one random extra link now and then, one link dropped when there are
 * too many.
 *
 * Sans I/O like the {@linkcode OverlayNode} that owns it: it keeps the link table and the
 * upkeep state and returns decisions (`connect` actions, whom to prune); the node sends
 * the messages and queues the actions.
 *
 * @module
 */
import type { Roster } from "./roster.ts";
import { DIGEST_BUCKETS } from "./roster_digest.ts";
import type { MemberEntry, OverlayAction, OverlayOptions, PeerId } from "./types.ts";

/** Members handed over in a `prune`. */
const PEER_EXCHANGE = 8;
/** Members suggested by prunes that are kept to try (the latest ones). */
const SUGGESTED_MAX = 32;
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

/** One link, as the node sees it. */
export interface Neighbour {
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
  /** The most digest buckets it reads (from its hello; 32 until then). */
  digestBuckets: number;
}

/** A link to open. */
export type Connect = Extract<OverlayAction, { type: "connect" }>;

/** The links of one member and the decisions that keep their number in bounds. */
export class Mesh {
  readonly #self: PeerId;
  readonly #o: Pick<
    Required<OverlayOptions>,
    "lowDegree" | "targetDegree" | "highDegree" | "maxDegree"
  >;
  readonly #random: () => number;
  readonly #roster: Roster;
  readonly #links = new Map<PeerId, Neighbour>();
  /** Connects in flight, with when they were asked for. */
  readonly #pending = new Map<PeerId, number>();
  /** Members not to try until the given time. */
  readonly #backoff = new Map<PeerId, number>();
  readonly #entryPoints = new Map<PeerId, string[]>();
  #suggested: MemberEntry[] = [];

  /**
   * @param self Our peer id.
   * @param options The degree bounds in force.
   * @param random Uniform [0, 1) randomness (the node's, so a seed replays).
   * @param roster The roster, read to pick members (never changed here).
   */
  constructor(
    self: PeerId,
    options: Pick<
      Required<OverlayOptions>,
      "lowDegree" | "targetDegree" | "highDegree" | "maxDegree"
    >,
    random: () => number,
    roster: Roster,
  ) {
    this.#self = self;
    this.#o = options;
    this.#random = random;
    this.#roster = roster;
  }

  // ---- the link table -------------------------------------------------------------------

  /**
   * A link's state.
   * @param peer The member.
   * @returns The link, refused or not, or undefined.
   */
  get(peer: PeerId): Neighbour | undefined {
    return this.#links.get(peer);
  }

  /** Every link, refused ones included, in the order they came up. */
  links(): IterableIterator<[PeerId, Neighbour]> {
    return this.#links.entries();
  }

  /** The peers of every link, refused ones included. */
  peers(): IterableIterator<PeerId> {
    return this.#links.keys();
  }

  /** Linked neighbours (not counting links being refused at our cap). */
  neighbours(): PeerId[] {
    const out: PeerId[] = [];
    for (const [peer, n] of this.#links) if (n.refuseAt === undefined) out.push(peer);
    return out;
  }

  /**
   * Whether a member is a neighbour.
   * @param peer The member.
   * @returns True when linked and not being refused.
   */
  isNeighbour(peer: PeerId): boolean {
    const n = this.#links.get(peer);
    return n !== undefined && n.refuseAt === undefined;
  }

  /**
   * Whether a link counts (carries gossip): every link but one being refused at our cap.
   * @param peer The member.
   * @returns False only for a link being refused.
   */
  counts(peer: PeerId): boolean {
    return this.#links.get(peer)?.refuseAt === undefined;
  }

  /** Neighbours that count (links being refused do not). */
  degree(): number {
    let d = 0;
    for (const n of this.#links.values()) if (n.refuseAt === undefined) d++;
    return d;
  }

  /** Whether the meeting is small enough to be a full mesh (everyone linked to everyone). */
  get fullMesh(): boolean {
    return this.#roster.size - 1 <= this.#o.maxDegree;
  }

  /** Whether we want more neighbours. */
  get wantsPeers(): boolean {
    const have = this.degree();
    return this.fullMesh ? have < this.#roster.size - 1 || have === 0 : have < this.#o.lowDegree;
  }

  /** Links whose hello says they hold the whole roster (refused ones included). */
  holders(): PeerId[] {
    const ready: PeerId[] = [];
    for (const [peer, n] of this.#links) if (n.hello && n.ready) ready.push(peer);
    return ready;
  }

  /** Any one link at random (refused ones included), or undefined when there is none. */
  anyLink(): PeerId | undefined {
    const peers = [...this.#links.keys()];
    if (peers.length === 0) return undefined;
    return peers[Math.floor(this.#random() * peers.length)];
  }

  // ---- inputs ---------------------------------------------------------------------------

  /**
   * Members found outside the mesh: tried when we need neighbours.
   * @param points Their peer ids and contacts.
   */
  addEntryPoints(points: { peerId: PeerId; contact: string[] }[]): void {
    for (const p of points) {
      if (p.peerId !== this.#self) this.#entryPoints.set(p.peerId, p.contact);
    }
  }

  /**
   * A link is up: record it, refused if we are at our cap (it is pruned at its hello or
   * after `REFUSE_WAIT_MS`; until then it is not counted and carries nothing).
   * @param peer The member.
   * @param now The clock.
   * @param info Who opened it, and its round-trip time if known.
   * @param digestAt When to compare rosters over it (undefined: not on its own).
   * @returns The new link.
   */
  linkUp(
    peer: PeerId,
    now: number,
    info: { inbound: boolean; rttMs?: number },
    digestAt: number | undefined,
  ): Neighbour {
    this.#pending.delete(peer);
    const full = this.degree() >= this.#o.maxDegree;
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
      digestAt,
      digestBuckets: DIGEST_BUCKETS,
    };
    this.#links.set(peer, n);
    return n;
  }

  /**
   * Forget a link.
   * @param peer The member.
   * @returns False if there was none.
   */
  remove(peer: PeerId): boolean {
    return this.#links.delete(peer);
  }

  /** Forget every link (we left). */
  clear(): void {
    this.#links.clear();
  }

  /**
   * A connect did not produce a link: back off from that member.
   * @param peer The member.
   * @param now The clock.
   */
  connectFailed(peer: PeerId, now: number): void {
    this.#pending.delete(peer);
    this.#backoff.set(peer, now + BACKOFF_MS);
    this.#entryPoints.delete(peer);
  }

  /**
   * A round-trip time measured on a link.
   * @param peer The member.
   * @param rttMs The round-trip time.
   */
  setRtt(peer: PeerId, rttMs: number): void {
    const n = this.#links.get(peer);
    if (n) n.rttMs = rttMs;
  }

  /**
   * A member pruned us: do not try it again for a while.
   * @param peer The member.
   * @param now The clock.
   */
  prunedBy(peer: PeerId, now: number): void {
    this.#backoff.set(peer, now + PRUNE_BACKOFF_MS);
  }

  /**
   * A member handed over in a prune (verified and merged by the node): tried first when
   * we need neighbours.
   * @param entry Its entry.
   */
  suggest(entry: MemberEntry): void {
    if (entry.peerId === this.#self) return;
    this.#suggested.push(entry);
    if (this.#suggested.length > SUGGESTED_MAX) this.#suggested.shift();
  }

  /**
   * A member left the roster: do not try it.
   * @param peer The member.
   */
  forget(peer: PeerId): void {
    this.#suggested = this.#suggested.filter((e) => e.peerId !== peer);
  }

  /**
   * Forget connects that got no answer and back-offs that ran out.
   * @param now The clock.
   */
  expire(now: number): void {
    for (const [peer, until] of this.#backoff) if (until <= now) this.#backoff.delete(peer);
    for (const [peer, since] of this.#pending) {
      if (now - since > PENDING_MS) this.#pending.delete(peer);
    }
  }

  // ---- decisions ------------------------------------------------------------------------

  /**
   * Links to open while below the low mark (or, in a small meeting, to everyone): members
   * suggested by prunes first, then the roster, then entry points.
   * @param now The clock.
   * @param hasRoster Whether we hold the whole roster (a newcomer without it tries several
   *   entry points at once).
   * @returns The `connect` actions, already counted as in flight.
   */
  maintain(now: number, hasRoster: boolean): Connect[] {
    const out: Connect[] = [];
    const degree = this.degree();
    const have = degree + this.#pending.size;
    const full = this.fullMesh;
    const others = this.#roster.size - 1;
    if (!full && degree >= this.#o.lowDegree) return out;
    // A full mesh also links to the members discovery found outside the roster (see
    // #outsideRoster()).
    const want = !hasRoster && others === 0
      ? this.#o.targetDegree
      : full
      ? Math.min(others + this.#outsideRoster(), this.#o.maxDegree)
      : this.#o.targetDegree;
    let room = Math.min(
      want - have,
      MAX_PENDING - this.#pending.size,
      this.#o.maxDegree - have, // never connect past the cap
    );
    const skip = (peer: PeerId) =>
      peer === this.#self || this.#links.has(peer) || this.#pending.has(peer) ||
      this.#backoff.has(peer);
    const connect = (peer: PeerId, contact: string[]) => {
      this.#pending.set(peer, now);
      out.push({ type: "connect", peer, contact });
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
    return out;
  }

  /**
   * Entry points the roster does not hold. They matter most to a newcomer whose first
   * connects all failed: after ROSTER_ASK_MS with nobody to ask it holds its roster of one,
   * as the first member of a meeting does, and counting only the roster it wanted no link at
   * all and stopped trying, however many entry points its lookups handed it (issue 12: last
   * joiners of a 60-member test meeting stayed alone for minutes).
   */
  #outsideRoster(): number {
    let outside = 0;
    for (const peer of this.#entryPoints.keys()) if (!this.#roster.get(peer)) outside++;
    return outside;
  }

  /**
   * One random link beyond our neighbours (see `rewireIntervalMs`), unless the mesh is
   * full, a connect is in flight, or we are near the cap.
   * @param now The clock.
   * @returns The `connect` action, already counted as in flight.
   */
  rewire(now: number): Connect | undefined {
    if (this.fullMesh || this.#pending.size > 0) return undefined;
    if (this.degree() + this.#pending.size >= this.#o.maxDegree - 1) return undefined;
    const skip = (peer: PeerId) =>
      this.#links.has(peer) || this.#pending.has(peer) || this.#backoff.has(peer);
    const e = this.#roster.sample(this.#random, skip);
    if (!e) return undefined;
    this.#pending.set(e.peerId, now);
    return { type: "connect", peer: e.peerId, contact: e.contact };
  }

  /**
   * Above the high mark (in a meeting too big for a full mesh): the neighbour to drop, a
   * settled one that can spare the link (its own degree above the low mark), half the time
   * the slowest, else at random.
   * @param now The clock.
   * @returns The neighbour to prune, or undefined.
   */
  surplus(now: number): PeerId | undefined {
    if (this.fullMesh || this.degree() <= this.#o.highDegree) return undefined;
    const all = [...this.#links].filter(([, n]) =>
      n.refuseAt === undefined && n.hello && now - n.since >= MIN_LINK_AGE_MS
    );
    const spare = all.filter(([, n]) => n.degree > this.#o.lowDegree);
    const settled = spare.length > 0 ? spare : all;
    if (settled.length === 0) return undefined;
    let pick = settled[Math.floor(this.#random() * settled.length)];
    if (this.#random() < 0.5) {
      for (const c of settled) if ((c[1].rttMs ?? 0) > (pick[1].rttMs ?? 0)) pick = c;
    }
    return pick[0];
  }

  /**
   * A link refused at our cap said hello: if it is under-linked, take it in by dropping a
   * neighbour that can spare the link (HyParView's join): refusing it could leave it, or a
   * group of newcomers, cut off while everyone else is full.
   * @param peer The member of the refused link.
   * @returns The neighbour to prune in its place (the link now counts), or undefined.
   */
  takeIn(peer: PeerId): PeerId | undefined {
    const n = this.#links.get(peer);
    if (n?.refuseAt === undefined || n.degree > this.#o.lowDegree) return undefined;
    const spare = [...this.#links].find(([other, o]) =>
      other !== peer && o.refuseAt === undefined && o.hello && o.degree > this.#o.lowDegree + 1
    );
    if (!spare) return undefined;
    n.refuseAt = undefined;
    return spare[0];
  }

  /**
   * Other members to hand over in a prune (peer exchange), so the pruned one can link to
   * them instead.
   * @param peer The member being pruned.
   * @returns Up to `PEER_EXCHANGE` live members, neither it nor us.
   */
  peerExchange(peer: PeerId): MemberEntry[] {
    const peers: MemberEntry[] = [];
    const chosen = new Set<PeerId>([peer]);
    for (let i = 0; i < PEER_EXCHANGE * 2 && peers.length < PEER_EXCHANGE; i++) {
      const e = this.#roster.sample(this.#random, (p) => chosen.has(p));
      if (!e) break;
      chosen.add(e.peerId);
      peers.push(e);
    }
    return peers;
  }
}
