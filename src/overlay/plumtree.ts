/**
 * Plumtree broadcast over the overlay's links (Leitão et al., "Epidemic Broadcast Trees"):
 * a rumor is pushed eagerly along a tree and announced lazily (`ihave`) on every other
 * link; a gap that an `ihave` reveals is grafted after `graftTimeoutMs`, which also makes
 * that link eager again; a duplicate makes its link lazy.
 *
 * Sans I/O like the node that owns it: it records links, sends through its host and keeps
 * its own deadlines. The roster's rumors (alive, suspect, dead, left) ride the same tree;
 * the roster remembers those, this class remembers application broadcasts.
 *
 * @module
 */
import { rumorId } from "./signing.ts";
import type { OverlayMessage, OverlayOptions, OverlayStats, PeerId, Rumor } from "./types.ts";

/** Application rumors kept to answer grafts. */
const APP_CACHE = 512;
/** Broadcasts this recent are announced on a new link. */
const RECENT_MS = 30_000;
/**
 * A duplicate makes a link lazy only while more than this many links stay eager: a single
 * spanning tree shared by every origin grew deep (the simulator measured 9 hops at p50 where
 * the graph's shortest path was 3, and 3.6× the shortest latency).
 */
const MIN_EAGER = 3;
/** Ids per `ihave`. */
export const IHAVE_MAX = 256;

/** What Plumtree needs from the node around it. */
export interface PlumtreeHost {
  /** Queue a message to a neighbour. */
  send(to: PeerId, msg: OverlayMessage): void;
  /** Whether a link counts (a link being refused at our cap carries nothing). */
  counts(peer: PeerId): boolean;
  /** Whether the roster has applied a roster rumor (ids `a/ s/ d/ l/`). */
  rosterKnows(id: string): boolean;
  /** A roster rumor by id, to answer a graft. */
  rosterRumor(id: string): Rumor | undefined;
  /** Whether a rumor's signature holds. */
  verify(rumor: Rumor): boolean;
  /** Apply a new, verified rumor; the host then calls {@linkcode Plumtree.accepted}. */
  accept(from: PeerId, id: string, rumor: Rumor, hops: number, now: number): void;
}

interface Link {
  eager: boolean;
  /** Rumor ids to announce at the next flush. */
  lazy: string[];
}

/** The broadcast tree of one member. */
export class Plumtree {
  readonly #o: Pick<Required<OverlayOptions>, "graftTimeoutMs" | "lazyFlushMs" | "seenMs">;
  readonly #host: PlumtreeHost;
  readonly #links = new Map<PeerId, Link>();
  /** Ids announced to us that we lack: graft from `from[0]` at `deadline`. */
  readonly #missing = new Map<string, { deadline: number; from: PeerId[] }>();
  /** Application rumor ids seen, with their expiry (insertion order is expiry order). */
  readonly #seenApp = new Map<string, number>();
  readonly #appCache = new Map<string, Rumor>();
  #nextFlush = Infinity;
  #nextGraft = Infinity;
  /** Counters shared with the node (grafts sent, duplicates and invalid rumors received). */
  readonly #stats: Pick<OverlayStats, "grafts" | "duplicates" | "invalid">;

  /**
   * @param options The timers in force.
   * @param host Sends, roster lookups, verification and acceptance.
   * @param stats Where grafts, duplicates and invalid rumors are counted.
   */
  constructor(
    options: Pick<Required<OverlayOptions>, "graftTimeoutMs" | "lazyFlushMs" | "seenMs">,
    host: PlumtreeHost,
    stats: Pick<OverlayStats, "grafts" | "duplicates" | "invalid">,
  ) {
    this.#o = options;
    this.#host = host;
    this.#stats = stats;
  }

  /**
   * A new link starts eager, and hears of our recent broadcasts: a member that was between
   * links when one passed grafts it from its new neighbour.
   * @param peer The neighbour.
   * @param now The clock.
   */
  addLink(peer: PeerId, now: number): void {
    this.#links.set(peer, { eager: true, lazy: [] });
    const recent = [...this.#appCache.keys()].filter((id) =>
      (this.#seenApp.get(id) ?? 0) - this.#o.seenMs > now - RECENT_MS
    ).slice(-IHAVE_MAX);
    if (recent.length > 0) this.#host.send(peer, { t: "ihave", ids: recent });
  }

  /**
   * A link is gone.
   * @param peer The neighbour.
   */
  removeLink(peer: PeerId): void {
    this.#links.delete(peer);
  }

  /** Every link is gone (we left). */
  clear(): void {
    this.#links.clear();
    this.#missing.clear();
  }

  /**
   * Whether a rumor was seen.
   * @param id The rumor id.
   * @returns True for an application rumor within `seenMs` or a roster rumor applied.
   */
  known(id: string): boolean {
    return id.startsWith("m/") ? this.#seenApp.has(id) : this.#host.rosterKnows(id);
  }

  /**
   * A rumor arrived on a link. A copy of one seen before means that link is not needed in
   * the tree (a `left` is pushed to every neighbour on purpose, so its copies say nothing
   * about the tree); a new one makes the link eager and, if its signature holds, goes to the
   * host to be applied.
   * @param from The neighbour.
   * @param id The rumor's id as sent (checked against the rumor).
   * @param rumor The rumor.
   * @param hops Hops so far.
   * @param now The clock.
   */
  onGossip(from: PeerId, id: string, rumor: Rumor, hops: number, now: number): void {
    if (id !== rumorId(rumor)) {
      this.#stats.invalid++;
      return;
    }
    if (this.known(id)) {
      this.#stats.duplicates++;
      if (rumor.k !== "left") this.#duplicate(from);
      return;
    }
    if (!this.#host.verify(rumor)) {
      this.#stats.invalid++;
      return;
    }
    this.setEager(from, true);
    this.#host.accept(from, id, rumor, hops + 1, now);
  }

  /** A rumor arrived again on a link: that link is not needed in the tree. */
  #duplicate(from: PeerId): void {
    const link = this.#links.get(from);
    if (link?.eager && this.#eagerCount() > MIN_EAGER) {
      link.eager = false;
      this.#host.send(from, { t: "lazy" });
    }
  }

  /**
   * Push (eager) or announce (lazy) on a link from now on.
   * @param peer The neighbour.
   * @param eager Push when true.
   */
  setEager(peer: PeerId, eager: boolean): void {
    const link = this.#links.get(peer);
    if (link) link.eager = eager;
  }

  /**
   * A new rumor was accepted: pass it on along the tree, announce it elsewhere.
   * @param from The neighbour it came from (undefined for ours).
   * @param id Its id.
   * @param rumor The rumor.
   * @param hops Hops so far.
   * @param now The clock.
   */
  accepted(from: PeerId | undefined, id: string, rumor: Rumor, hops: number, now: number): void {
    this.#missing.delete(id);
    if (rumor.k === "app") {
      this.#seenApp.set(id, now + this.#o.seenMs);
      this.#appCache.set(id, rumor);
      if (this.#appCache.size > APP_CACHE) {
        this.#appCache.delete(this.#appCache.keys().next().value!);
      }
    }
    for (const [peer, link] of this.#links) {
      if (peer === from || !this.#host.counts(peer)) continue;
      if (link.eager) this.#host.send(peer, { t: "gossip", id, hops, rumor });
      else {
        link.lazy.push(id);
        if (this.#nextFlush === Infinity) this.#nextFlush = now + this.#o.lazyFlushMs;
      }
    }
  }

  /**
   * A neighbour announced rumors: the ones we lack are grafted if they do not arrive.
   * @param from The neighbour.
   * @param ids The announced ids.
   * @param now The clock.
   */
  onIhave(from: PeerId, ids: string[], now: number): void {
    for (const id of ids) {
      if (this.known(id)) continue;
      const m = this.#missing.get(id);
      if (m) {
        if (!m.from.includes(from)) m.from.push(from);
      } else {
        const deadline = now + this.#o.graftTimeoutMs;
        this.#missing.set(id, { deadline, from: [from] });
        this.#nextGraft = Math.min(this.#nextGraft, deadline);
      }
    }
  }

  /**
   * A neighbour grafted: the link is eager again, and it gets what we still hold.
   * @param from The neighbour.
   * @param ids The ids it lacks.
   */
  onGraft(from: PeerId, ids: string[]): void {
    this.setEager(from, true);
    for (const id of ids) {
      const rumor = this.#appCache.get(id) ?? this.#host.rosterRumor(id);
      if (rumor) this.#host.send(from, { t: "gossip", id, hops: 0, rumor });
    }
  }

  /**
   * Flush announcements and graft gaps that are due; forget old application ids.
   * @param now The clock.
   */
  tick(now: number): void {
    if (now >= this.#nextFlush) this.#flush();
    if (now >= this.#nextGraft) this.#graft(now);
  }

  /**
   * Forget application rumor ids past `seenMs`.
   * @param now The clock.
   */
  expire(now: number): void {
    for (const [id, until] of this.#seenApp) {
      if (until > now) break;
      this.#seenApp.delete(id);
    }
  }

  /** When {@linkcode Plumtree.tick} must run next (absolute ms). */
  nextDeadline(): number {
    return Math.min(this.#nextFlush, this.#nextGraft);
  }

  #flush(): void {
    this.#nextFlush = Infinity;
    for (const [peer, link] of this.#links) {
      if (link.lazy.length === 0) continue;
      for (let i = 0; i < link.lazy.length; i += IHAVE_MAX) {
        this.#host.send(peer, { t: "ihave", ids: link.lazy.slice(i, i + IHAVE_MAX) });
      }
      link.lazy = [];
    }
  }

  #graft(now: number): void {
    let next = Infinity;
    for (const [id, m] of this.#missing) {
      if (m.deadline > now) {
        next = Math.min(next, m.deadline);
        continue;
      }
      if (this.known(id)) {
        this.#missing.delete(id);
        continue;
      }
      let link: Link | undefined;
      let peer: PeerId | undefined;
      while (m.from.length > 0 && !(link = this.#links.get(peer = m.from.shift()!))) {
        peer = undefined;
      }
      if (link === undefined || peer === undefined) {
        this.#missing.delete(id);
        continue;
      }
      this.#stats.grafts++;
      link.eager = true;
      this.#host.send(peer, { t: "graft", ids: [id] });
      m.deadline = now + this.#o.graftTimeoutMs;
      next = Math.min(next, m.deadline);
    }
    this.#nextGraft = next;
  }

  #eagerCount(): number {
    let e = 0;
    for (const [peer, link] of this.#links) if (link.eager && this.#host.counts(peer)) e++;
    return e;
  }
}
