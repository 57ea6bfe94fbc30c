/**
 * Membership of one member, SWIM-style (hashicorp/memberlist, with Lifeguard's suspicion
 * timeouts in the roster): our own signed entry and its incarnations, the verdicts we sign
 * (a neighbour whose link failed is suspected; a suspicion that ran out is a death; our
 * own leave), and what others say about members merged into the roster as events. A
 * suspicion of ourselves is refuted at once with a higher incarnation.
 *
 * Sans I/O like the {@linkcode OverlayNode} that owns it: the node spreads the rumors it
 * returns through the broadcast tree; events and refutations go out through its host.
 *
 * @module
 */
import type { Roster, RosterChange } from "./roster.ts";
import { rumorId, signEntry, verdictBytes, verifyEntry } from "./signing.ts";
import type {
  MemberEntry,
  OverlayAction,
  OverlayCrypto,
  OverlayOptions,
  OverlayStats,
  PeerId,
  RosterItem,
  Rumor,
} from "./types.ts";

/** What membership needs from the node around it. */
export interface MembershipHost {
  /** Queue a member event for the application. */
  emit(action: Extract<OverlayAction, { type: `member:${string}` }>): void;
  /** Push a rumor of ours to every link at once (a refutation must not wait for grafts). */
  pushAll(id: string, rumor: Rumor): void;
  /** A member left the roster (the mesh stops trying it). */
  gone(peer: PeerId): void;
}

/** A roster rumor: about a member, not an application broadcast. */
export type RosterRumor = Exclude<Rumor, { k: "app" }>;

/** What a {@linkcode Membership} is built from. */
export interface MembershipInit {
  /** Our peer id. */
  self: PeerId;
  /** The meeting's topic id: the signing domain. */
  topic: string;
  /** Signs our statements and checks others'. */
  crypto: OverlayCrypto;
  /** The roster merged into. */
  roster: Roster;
  /** The timers in force. */
  options: Pick<Required<OverlayOptions>, "suspicionMs" | "tombstoneMs">;
  /** Counters shared with the node. */
  stats: Pick<OverlayStats, "rumorsAccepted" | "invalid" | "suspicionsRaised" | "refutations">;
  /** Events and pushes. */
  host: MembershipHost;
}

/** The membership of one member. */
export class Membership {
  readonly #self: PeerId;
  readonly #topic: string;
  readonly #crypto: OverlayCrypto;
  readonly #roster: Roster;
  readonly #o: MembershipInit["options"];
  readonly #stats: MembershipInit["stats"];
  readonly #host: MembershipHost;

  /**
   * @param init Who we are, the signing domain and keys, the roster, timers, counters, host.
   */
  constructor(init: MembershipInit) {
    this.#self = init.self;
    this.#topic = init.topic;
    this.#crypto = init.crypto;
    this.#roster = init.roster;
    this.#o = init.options;
    this.#stats = init.stats;
    this.#host = init.host;
  }

  /**
   * Check a member's signature on its entry.
   * @param entry The entry.
   * @returns True when valid (else it is counted as invalid).
   */
  verify(entry: MemberEntry): boolean {
    if (verifyEntry(this.#topic, this.#crypto, entry)) return true;
    this.#stats.invalid++;
    return false;
  }

  /**
   * Merge a verified rumor about a member.
   * @param rumor The rumor.
   * @param now The clock.
   */
  apply(rumor: RosterRumor, now: number): void {
    this.#changed(
      rumor.k === "alive"
        ? this.#roster.applyAlive(rumor.entry)
        : this.#roster.applyVerdict(rumor, now, this.#o.suspicionMs, this.#o.tombstoneMs),
    );
  }

  /**
   * Merge a roster item (from a snapshot or a repair), checking its signature unless the
   * roster holds it already (a snapshot repeats most of it).
   * @param item The item.
   * @param now The clock.
   */
  merge(item: RosterItem, now: number): void {
    const cur = this.#roster.get(item.entry.peerId);
    if (
      cur && (cur.entry.incarnation > item.entry.incarnation ||
        (cur.entry.incarnation === item.entry.incarnation && cur.status === item.status))
    ) return;
    if (!this.verify(item.entry)) return;
    this.#changed(
      this.#roster.applyItem(item, now, this.#o.suspicionMs, this.#o.tombstoneMs),
    );
  }

  /**
   * A neighbour's link failed: suspect it, if it is alive.
   * @param peer The neighbour.
   * @returns The signed suspicion to spread, or undefined.
   */
  suspect(peer: PeerId): RosterRumor | undefined {
    const m = this.#roster.get(peer);
    if (m?.status !== "alive") return undefined;
    this.#stats.suspicionsRaised++;
    const inc = m.entry.incarnation;
    const sig = this.#crypto.sign(verdictBytes(this.#topic, "suspect", peer, inc, this.#self));
    return { k: "suspect", peer, inc, by: this.#self, sig };
  }

  /**
   * A suspicion ran out here first: declare the death (same id for whoever does).
   * @param peer The member.
   * @param inc Its incarnation.
   * @returns The signed death to spread.
   */
  dead(peer: PeerId, inc: number): RosterRumor {
    const sig = this.#crypto.sign(verdictBytes(this.#topic, "dead", peer, inc, this.#self));
    return { k: "dead", peer, inc, by: this.#self, sig };
  }

  /** Our signed leave, at our current incarnation. */
  left(): RosterRumor {
    const inc = this.#roster.self.incarnation;
    const sig = this.#crypto.sign(verdictBytes(this.#topic, "left", this.#self, inc, this.#self));
    return { k: "left", peer: this.#self, inc, sig };
  }

  /**
   * Our contact changed: a new incarnation tells everyone.
   * @param contact The new contact.
   */
  newContact(contact: string[]): void {
    this.#reincarnate(this.#roster.self.incarnation + 1, contact);
  }

  /** Turn a roster change into events (and a refutation when it was about us). */
  #changed(change: RosterChange | undefined): void {
    if (!change) return;
    switch (change.kind) {
      case "join":
        this.#host.emit({ type: "member:join", entry: change.entry });
        return;
      case "update":
        this.#host.emit({ type: "member:update", entry: change.entry });
        return;
      case "leave":
        this.#host.gone(change.entry.peerId);
        this.#host.emit({
          type: "member:leave",
          peerId: change.entry.peerId,
          name: change.entry.name,
          reason: change.reason,
        });
        // A neighbour the roster calls dead keeps its link: the verdict reaches it through
        // the broadcast tree, and it refutes if it is alive.
        return;
      case "suspect":
        return;
      case "refute":
        this.#stats.refutations++;
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
    const rumor: Rumor = { k: "alive", entry };
    this.#stats.rumorsAccepted++;
    this.#host.pushAll(rumorId(rumor), rumor);
  }
}
