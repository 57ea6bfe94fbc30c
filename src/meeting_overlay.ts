/**
 * The overlay as a meeting runs it: the driver (src/overlay/driver.ts) wired to the
 * meeting's links and events, plus what only a meeting needs on top of the mesh:
 *
 * - members' contacts from their signed roster entries (where to signal them);
 * - in a full-mesh meeting, `peer:join` waits for the link (or for the ladder to give up),
 *   so that a small meeting's application can talk to whoever `peer:join` names;
 * - links on demand: `send()`/`request()` to a member that is not a neighbour opens a link
 *   outside the mesh (at most {@linkcode MAX_ON_DEMAND}, the least recently used closes
 *   first, and each closes after {@linkcode ON_DEMAND_IDLE_MS} without application traffic).
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "./logger.ts";
import type { MeetingEventMap, Participant } from "./meeting_types.ts";
import { OverlayDriver } from "./overlay/driver.ts";
import type { OverlayOptions } from "./overlay/types.ts";
import type { PeerLink } from "./peer_link.ts";

/** Links outside the mesh (opened by `send()`/`request()` on demand) at most. */
export const MAX_ON_DEMAND = 8;
/** A link outside the mesh closes after this long without application traffic. */
export const ON_DEMAND_IDLE_MS = 60_000;

/** What the overlay needs from its meeting. */
export interface MeetingOverlayHost {
  /** The link to a peer, if any. */
  link(peerId: string): PeerLink | undefined;
  /** Every link. */
  links(): Iterable<[string, PeerLink]>;
  /** Close a link on purpose. */
  close(link: PeerLink): void;
  /** Open a link (the lower peer id dials, the higher one knocks). */
  open(peerId: string): void;
  /** Whether a dial to the peer is under way. */
  dialing(peerId: string): boolean;
  /** Emit a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void;
  /** A roster member as a participant. */
  snapshot(peerId: string): Participant | undefined;
  /** The member left the roster: forget what discovery said about it. */
  forget(peerId: string): void;
  /** An application broadcast arrived through the mesh. */
  deliver(origin: string, name: string, channel: number, payload: Uint8Array): void;
  /** Whether the meeting has been left. */
  left(): boolean;
}

/** What a {@linkcode MeetingOverlay} is built from. */
export interface MeetingOverlayInit {
  /** Ourselves, as in the roster. */
  self: { peerId: string; name: string; joinedAt: number; contact: string[] };
  /** The meeting's topic id (the signing domain). */
  topic: string;
  /** Our key (signs our roster entry and broadcasts). */
  privateKey: PrivateKey;
  /** Overlay limits and timers. */
  options: OverlayOptions;
  /** Where overlay failures are reported. */
  log: Logger;
  /** How long a full-mesh `peer:join` waits for the link (the whole ladder's budget). */
  joinWaitMs: number;
  /** The meeting. */
  host: MeetingOverlayHost;
}

/** The overlay of one meeting (see the module documentation). */
export class MeetingOverlay extends OverlayDriver {
  readonly #host: MeetingOverlayHost;
  readonly #joinWaitMs: number;
  /** Contacts of roster members (from their signed entries), for signaling. */
  readonly #contacts = new Map<string, string[]>();
  /** Links `send()` is waiting on. */
  readonly #linkWaiters = new Map<string, Set<() => void>>();
  /** Links we open on demand (to members that are not neighbours), until up. */
  readonly #onDemand = new Set<string>();
  /** When the application last used each link. */
  readonly #lastUsed = new Map<string, number>();
  /** Members of a full-mesh meeting announced before their link was up. */
  readonly #pendingJoins = new Map<string, ReturnType<typeof setTimeout>>();

  /**
   * A roster member we hold no link to, as a participant.
   * @param peerId The member.
   * @param discoveredAt When discovery found it (0 when only the roster knows it).
   * @returns Its participant entry, or undefined when it is not in the roster.
   */
  unlinkedMember(peerId: string, discoveredAt: number): Participant | undefined {
    const member = this.node.member(peerId);
    if (!member) return undefined;
    return {
      peerId,
      name: member.entry.name,
      joinedAt: member.entry.joinedAt,
      state: "closed",
      path: undefined,
      selectedCandidatePair: undefined,
      direction: "outbound",
      rtt: undefined,
      lastSeen: 0,
      discoveredAt,
      connectedAt: 0,
      unacknowledged: 0,
      linked: false,
    };
  }

  /** @param init Who we are, our key, options and the meeting. */
  constructor(init: MeetingOverlayInit) {
    const { host } = init;
    // The driver runs no action before the constructor returns (its first tick is a timer),
    // so the callbacks below find `ref.me` set.
    const ref: { me?: MeetingOverlay } = {};
    super({
      self: init.self,
      topic: init.topic,
      privateKey: init.privateKey,
      options: init.options,
      log: init.log,
      send: (peer, bytes) => host.link(peer)?.sendOverlay(bytes),
      connect: (peer, contact) => ref.me!.linkTo(peer, contact),
      disconnect: (peer) => {
        const link = host.link(peer);
        if (link) host.close(link);
      },
      onJoin: (entry) => ref.me!.#onJoin(entry.peerId, entry.contact),
      onLeave: (peerId, name, reason) => ref.me!.#onLeave(peerId, name, reason),
      onDeliver: (origin, channel, payload) => {
        host.deliver(origin, ref.me!.node.member(origin)?.entry.name ?? "", channel, payload);
      },
    });
    ref.me = this;
    this.#host = host;
    this.#joinWaitMs = init.joinWaitMs;
  }

  /**
   * A member's contact from its roster entry.
   * @param peerId The member.
   * @returns Its addresses, or undefined.
   */
  contactOf(peerId: string): string[] | undefined {
    return this.#contacts.get(peerId);
  }

  /**
   * Open a link to a member.
   * @param peerId The member.
   * @param contact Its addresses (kept for signaling).
   */
  linkTo(peerId: string, contact: string[]): void {
    if (contact.length > 0) this.#contacts.set(peerId, contact);
    this.#host.open(peerId);
  }

  /**
   * A new link is up: the mesh hears of it, `send()` calls waiting on it go on, and a join
   * that waited for it is shown.
   * @param peerId The member.
   * @param inbound Whether it dialed us.
   */
  linked(peerId: string, inbound: boolean): void {
    this.#lastUsed.set(peerId, Date.now());
    this.linkUp(peerId, inbound, this.#onDemand.delete(peerId));
    for (const wake of this.#linkWaiters.get(peerId) ?? []) wake();
    this.#linkWaiters.delete(peerId);
    this.joined(peerId);
  }

  /**
   * Every rung to a member failed: the mesh tries another, and its join shows unlinked.
   * @param peerId The member.
   */
  unreachable(peerId: string): void {
    this.connectFailed(peerId);
    this.joined(peerId);
  }

  /**
   * Show a member's join that waited for its link.
   * @param peerId The member.
   */
  joined(peerId: string): void {
    const pending = this.#pendingJoins.get(peerId);
    if (pending === undefined) return;
    clearTimeout(pending);
    this.#pendingJoins.delete(peerId);
    const snapshot = this.#host.snapshot(peerId);
    if (snapshot && !this.#host.left()) this.#host.emit("peer:join", snapshot);
  }

  /**
   * The application used a link (links outside the mesh close when idle).
   * @param peerId The member.
   */
  used(peerId: string): void {
    this.#lastUsed.set(peerId, Date.now());
  }

  /**
   * A link is gone.
   * @param peerId The member.
   */
  closed(peerId: string): void {
    this.#lastUsed.delete(peerId);
  }

  /**
   * Open a link to a roster member for `send()`/`request()` and wait for it (at most two
   * dial budgets). Returns at once for a member the roster does not hold: the caller's
   * lookup then fails with a named error.
   * @param peerId The member.
   * @param waitMs How long to wait for the link.
   */
  async linkOnDemand(peerId: string, waitMs: number): Promise<void> {
    const member = this.node.member(peerId);
    if (!member || member.status === "dead" || member.status === "left") return;
    const ready = new Promise<void>((resolve) => {
      const set = this.#linkWaiters.get(peerId) ?? new Set();
      set.add(resolve);
      this.#linkWaiters.set(peerId, set);
    });
    const outside = [...this.#host.links()].filter(([p]) => !this.node.isNeighbour(p));
    if (outside.length >= MAX_ON_DEMAND) {
      const [, lru] = outside.sort(([a], [b]) =>
        (this.#lastUsed.get(a) ?? 0) - (this.#lastUsed.get(b) ?? 0)
      )[0];
      this.#host.close(lru);
    }
    this.#onDemand.add(peerId);
    this.linkTo(peerId, member.entry.contact);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([ready, new Promise<void>((r) => timer = setTimeout(r, waitMs))]);
    clearTimeout(timer);
  }

  /**
   * Once a second: feed RTTs to the mesh (it drops the slowest neighbour when it has too
   * many) and close links outside the mesh that have been idle too long.
   * @param now The clock (ms since the epoch).
   */
  upkeep(now: number): void {
    for (const [peerId, link] of [...this.#host.links()]) {
      if (link.rtt !== undefined) this.setRtt(peerId, link.rtt);
      if (this.node.isNeighbour(peerId) || this.#host.dialing(peerId)) continue;
      if (now - (this.#lastUsed.get(peerId) ?? 0) > ON_DEMAND_IDLE_MS) this.#host.close(link);
    }
  }

  /** Leave: tell the mesh, drop pending joins, release `send()` calls waiting on links. */
  override leave(): void {
    super.leave();
    for (const timer of this.#pendingJoins.values()) clearTimeout(timer);
    this.#pendingJoins.clear();
    for (const wake of [...this.#linkWaiters.values()].flatMap((s) => [...s])) wake();
    this.#linkWaiters.clear();
  }

  #onJoin(peerId: string, contact: string[]): void {
    this.#contacts.set(peerId, contact);
    if (this.#host.link(peerId)?.connected === true || !this.node.fullMesh) {
      this.#host.emit("peer:join", this.#host.snapshot(peerId)!);
      return;
    }
    clearTimeout(this.#pendingJoins.get(peerId));
    this.#pendingJoins.set(peerId, setTimeout(() => this.joined(peerId), this.#joinWaitMs));
  }

  #onLeave(peerId: string, name: string, reason: string): void {
    this.#contacts.delete(peerId);
    this.#host.forget(peerId);
    const pending = this.#pendingJoins.get(peerId);
    if (pending !== undefined) {
      // Its join was never shown: neither is its leave.
      clearTimeout(pending);
      this.#pendingJoins.delete(peerId);
      return;
    }
    this.#host.emit("peer:leave", { peerId, name, reason: reason === "left" ? "left" : "timeout" });
  }
}
