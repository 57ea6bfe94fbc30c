/**
 * The roster every member holds: one signed entry per member and its state (SWIM's
 * alive / suspect / dead, plus left), merged by incarnation, with a digest per bucket for
 * anti-entropy. Members are kept by dense integer index ({@linkcode MemberIndex}) in typed
 * arrays, so that 10,000 simulated members, each holding a roster of 10,000, fit in one
 * process (a `Map` per member cost about 100 bytes per entry: 10 GB).
 *
 * Incarnations start at the member's join time (ms), so a member that joins again under
 * the same peer id outranks every statement about its earlier life; a refutation adds 1.
 *
 * @module
 */
import { MemberIndex } from "./member_index.ts";
import { DIGEST_BUCKETS, RosterDigest } from "./roster_digest.ts";
import {
  ALIVE,
  CODE,
  DEAD,
  LEFT,
  NONE,
  type RosterChange,
  STATUS,
  SUSPECT,
  type Suspicion,
  suspicionTimeout,
} from "./roster_state.ts";
import type { MemberEntry, MemberStatus, PeerId, RosterItem, Rumor } from "./types.ts";

export { DIGEST_BUCKETS, MemberIndex, type RosterChange };

/** One member's view of the meeting. */
export class Roster {
  readonly #index: MemberIndex;
  readonly #self: number;
  #entries: (MemberEntry | undefined)[] = [];
  #status = new Uint8Array(64);
  /** Position of each live (alive or suspect) member in `#live`, for O(1) sampling. */
  #pos = new Int32Array(64).fill(-1);
  #live: number[] = [];
  readonly #suspects = new Map<number, Suspicion>();
  readonly #tombs = new Map<number, { until: number; rumor: Rumor | undefined }>();
  readonly #digest = new RosterDigest();

  /**
   * @param index Peer ids ↔ indices.
   * @param self Our own signed entry.
   */
  constructor(index: MemberIndex, self: MemberEntry) {
    this.#index = index;
    this.#self = index.of(self.peerId);
    this.#set(this.#self, self, ALIVE);
  }

  /** Live members (alive or suspect), ourselves included. */
  get size(): number {
    return this.#live.length;
  }

  /** Our own current entry. */
  get self(): MemberEntry {
    return this.#entries[this.#self]!;
  }

  /**
   * A member's entry and state.
   * @param peerId The member.
   * @returns Entry and status, or undefined when unknown (or forgotten).
   */
  get(peerId: PeerId): { entry: MemberEntry; status: MemberStatus } | undefined {
    const i = this.#index.find(peerId);
    if (i === undefined || i >= this.#status.length || this.#status[i] === NONE) return undefined;
    return { entry: this.#entries[i]!, status: STATUS[this.#status[i]] };
  }

  /**
   * Whether a member is live (alive or suspect).
   * @param peerId The member.
   * @returns True when live.
   */
  isLive(peerId: PeerId): boolean {
    const i = this.#index.find(peerId);
    return i !== undefined && this.#isLive(i);
  }

  /**
   * Whether the roster already holds what a rumor says (so the rumor is a duplicate).
   * @param id The rumor id (see `rumorId()`); ids of application broadcasts are not roster's.
   * @returns True when known.
   */
  knows(id: string): boolean {
    const [k, peer, incText] = id.split("/");
    const i = this.#index.find(peer);
    if (i === undefined || i >= this.#status.length) return false;
    const s = this.#status[i];
    const e = this.#entries[i];
    if (s === NONE || !e) return false;
    const inc = Number(incText);
    switch (k) {
      case "a":
        return e.incarnation >= inc;
      case "s": {
        if (e.incarnation > inc || (e.incarnation === inc && (s === DEAD || s === LEFT))) {
          return true;
        }
        // A suspicion we hold, from an accuser we have not counted yet, is news: it confirms.
        return e.incarnation === inc && s === SUSPECT &&
          this.#suspects.get(i)?.by.has(id.split("/")[3]) !== false;
      }
      case "d":
      case "l":
        return e.incarnation > inc || (e.incarnation === inc && (s === DEAD || s === LEFT));
      default:
        return false;
    }
  }

  /**
   * The rumor behind what the roster holds for an id (to answer a graft), if it still has it.
   * @param id The rumor id.
   * @returns The rumor.
   */
  rumorFor(id: string): Rumor | undefined {
    const [k, peer] = id.split("/");
    const i = this.#index.find(peer);
    if (i === undefined || !this.knows(id)) return undefined;
    if (k === "a") return { k: "alive", entry: this.#entries[i]! };
    return k === "s" ? this.#suspects.get(i)?.rumor : this.#tombs.get(i)?.rumor;
  }

  /**
   * Merge a member's signed entry (a join, a refutation, a new contact). The caller has
   * verified the signature.
   * @param entry The entry.
   * @returns What changed (nothing when stale).
   */
  applyAlive(entry: MemberEntry): RosterChange | undefined {
    const i = this.#index.of(entry.peerId);
    if (i === this.#self) return undefined;
    this.#grow(i);
    const s = this.#status[i];
    const cur = this.#entries[i];
    if (s === NONE || !cur) {
      this.#set(i, entry, ALIVE);
      return { kind: "join", entry };
    }
    if (entry.incarnation <= cur.incarnation) return undefined;
    if (s === DEAD || s === LEFT) {
      // A new life (incarnations start at the join time) outranks the tombstone.
      this.#tombs.delete(i);
      this.#set(i, entry, ALIVE);
      return { kind: "join", entry };
    }
    const refuted = s === SUSPECT;
    this.#suspects.delete(i);
    this.#set(i, entry, ALIVE);
    return { kind: "update", entry, refuted };
  }

  /**
   * Merge a suspicion, death or leave (verified by the caller).
   * @param rumor The verdict.
   * @param now The clock.
   * @param suspicionMs How long a suspicion may stand.
   * @param tombstoneMs How long a tombstone is kept.
   * @returns What changed.
   */
  applyVerdict(
    rumor: Extract<Rumor, { k: "suspect" | "dead" | "left" }>,
    now: number,
    suspicionMs: number,
    tombstoneMs: number,
  ): RosterChange | undefined {
    const i = this.#index.of(rumor.peer);
    if (i === this.#self) {
      const own = this.self.incarnation;
      return rumor.k === "left" || rumor.inc < own ? undefined : { kind: "refute", inc: rumor.inc };
    }
    this.#grow(i);
    const s = this.#status[i];
    const cur = this.#entries[i];
    if (s === NONE || !cur || rumor.inc < cur.incarnation) return undefined;
    if (s === DEAD || s === LEFT) return undefined;
    if (rumor.k === "suspect") {
      if (s === SUSPECT) {
        const sus = this.#suspects.get(i);
        if (!sus || sus.by.has(rumor.by)) return undefined;
        sus.by.add(rumor.by);
        sus.deadline = sus.since + suspicionTimeout(suspicionMs, sus.by.size - 1);
        return undefined;
      }
      this.#setStatus(i, SUSPECT);
      this.#suspects.set(i, {
        since: now,
        deadline: now + suspicionMs,
        rumor,
        by: new Set([rumor.by]),
      });
      return { kind: "suspect", peer: rumor.peer };
    }
    this.#suspects.delete(i);
    this.#setStatus(i, rumor.k === "left" ? LEFT : DEAD);
    this.#tombs.set(i, { until: now + tombstoneMs, rumor });
    return { kind: "leave", entry: cur, reason: rumor.k === "left" ? "left" : "failed" };
  }

  /**
   * Merge one item of a neighbour's roster (snapshot or anti-entropy answer). Its entry's
   * signature was verified by the caller; the state is the neighbour's word (it holds the
   * meeting's proof).
   * @param item The item.
   * @param now The clock.
   * @param suspicionMs How long a suspicion may stand.
   * @param tombstoneMs How long a tombstone is kept.
   * @returns What changed.
   */
  applyItem(
    item: RosterItem,
    now: number,
    suspicionMs: number,
    tombstoneMs: number,
  ): RosterChange | undefined {
    const { entry, status } = item;
    const i = this.#index.of(entry.peerId);
    if (i === this.#self) {
      return status !== "alive" && entry.incarnation >= this.self.incarnation
        ? { kind: "refute", inc: entry.incarnation }
        : undefined;
    }
    this.#grow(i);
    if (status === "alive") return this.applyAlive(entry);
    const s = this.#status[i];
    const cur = this.#entries[i];
    if (s === NONE || !cur || entry.incarnation > cur.incarnation) {
      if (status === "suspect") {
        const change = this.applyAlive(entry);
        this.#setStatus(i, SUSPECT);
        this.#suspects.set(i, {
          since: now,
          deadline: now + suspicionMs,
          rumor: undefined,
          by: new Set(),
        });
        return change;
      }
      // A member we never knew alive (or an older life of it): remember the tombstone only.
      const wasLive = this.#isLive(i);
      this.#set(i, entry, CODE[status]);
      this.#suspects.delete(i);
      this.#tombs.set(i, { until: now + tombstoneMs, rumor: undefined });
      return wasLive && cur
        ? { kind: "leave", entry: cur, reason: status === "left" ? "left" : "failed" }
        : undefined;
    }
    if (entry.incarnation < cur.incarnation || s === DEAD || s === LEFT) return undefined;
    if (status === "suspect") {
      if (s === SUSPECT) return undefined;
      this.#setStatus(i, SUSPECT);
      this.#suspects.set(i, {
        since: now,
        deadline: now + suspicionMs,
        rumor: undefined,
        by: new Set(),
      });
      return { kind: "suspect", peer: entry.peerId };
    }
    this.#suspects.delete(i);
    this.#setStatus(i, CODE[status]);
    this.#tombs.set(i, { until: now + tombstoneMs, rumor: undefined });
    return { kind: "leave", entry: cur, reason: status === "left" ? "left" : "failed" };
  }

  /**
   * Replace our own entry (a refutation or a new contact).
   * @param entry Our newer signed entry.
   */
  setSelf(entry: MemberEntry): void {
    this.#set(this.#self, entry, ALIVE);
  }

  /**
   * Suspicions past their deadline and who raised them; tombstones past theirs are
   * forgotten.
   * @param now The clock.
   * @returns Suspected members whose time is up, with the rumor that raised it.
   */
  expired(now: number): { peer: PeerId; inc: number; rumor: Rumor | undefined }[] {
    const out: { peer: PeerId; inc: number; rumor: Rumor | undefined }[] = [];
    for (const [i, s] of this.#suspects) {
      if (s.deadline <= now) {
        out.push({ peer: this.#index.peer(i), inc: this.#entries[i]!.incarnation, rumor: s.rumor });
      }
    }
    for (const [i, t] of this.#tombs) {
      if (t.until <= now) {
        this.#tombs.delete(i);
        this.#status[i] = NONE;
        this.#entries[i] = undefined;
      }
    }
    return out;
  }

  /**
   * Extend a suspicion (we wait for the accuser's verdict a while longer).
   * @param peerId The suspect.
   * @param deadline The new deadline.
   */
  extendSuspicion(peerId: PeerId, deadline: number): void {
    const i = this.#index.find(peerId);
    const s = i === undefined ? undefined : this.#suspects.get(i);
    if (s) s.deadline = deadline;
  }

  /** The earliest suspicion or tombstone deadline. */
  nextDeadline(): number {
    let next = Infinity;
    for (const s of this.#suspects.values()) next = Math.min(next, s.deadline);
    for (const t of this.#tombs.values()) next = Math.min(next, t.until);
    return next;
  }

  /**
   * A random live member other than ourselves that `skip` does not exclude.
   * @param random A uniform [0, 1) source.
   * @param skip Members not to pick.
   * @param tries How many draws before giving up.
   * @returns The member's entry, or undefined.
   */
  sample(
    random: () => number,
    skip: (peerId: PeerId) => boolean,
    tries = 16,
  ): MemberEntry | undefined {
    const n = this.#live.length;
    if (n <= 1) return undefined;
    for (let t = 0; t < tries; t++) {
      const i = this.#live[Math.floor(random() * n)];
      if (i === this.#self || this.#status[i] !== ALIVE) continue;
      const e = this.#entries[i]!;
      if (!skip(e.peerId)) return e;
    }
    return undefined;
  }

  /**
   * Every live member (for small meetings: the full mesh wants them all).
   * @returns Their entries, ourselves excluded.
   */
  liveEntries(): MemberEntry[] {
    const out: MemberEntry[] = [];
    for (const i of this.#live) if (i !== this.#self) out.push(this.#entries[i]!);
    return out;
  }

  /**
   * Everything we hold, or the members of some buckets only.
   * @param buckets Only these anti-entropy buckets.
   * @param count The digest's bucket count the bucket numbers refer to.
   * @returns Roster items (tombstones included).
   */
  items(buckets?: ReadonlySet<number>, count: number = DIGEST_BUCKETS): RosterItem[] {
    const out: RosterItem[] = [];
    const take = (i: number) => {
      const e = this.#entries[i];
      if (!e || this.#status[i] === NONE) return;
      if (buckets && !buckets.has(this.#index.hash(i) % count)) return;
      out.push({ entry: e, status: STATUS[this.#status[i]] });
    };
    for (const i of this.#live) take(i);
    for (const i of this.#tombs.keys()) take(i);
    return out;
  }

  /**
   * One hash per bucket over the live members and their incarnations.
   * @param count How many buckets (see `roster_digest.ts`).
   * @returns The hashes.
   */
  digest(count: number = DIGEST_BUCKETS): number[] {
    return this.#digest.values(count);
  }

  /**
   * The buckets where a neighbour's digest differs from ours.
   * @param theirs The neighbour's digest.
   * @returns Bucket numbers.
   */
  differingBuckets(theirs: readonly number[]): number[] {
    return this.#digest.differing(theirs);
  }

  #isLive(i: number): boolean {
    const s = i < this.#status.length ? this.#status[i] : NONE;
    return s === ALIVE || s === SUSPECT;
  }

  #grow(i: number): void {
    if (i < this.#status.length) return;
    let size = this.#status.length;
    while (size <= i) size *= 2;
    const status = new Uint8Array(size);
    status.set(this.#status);
    this.#status = status;
    const pos = new Int32Array(size).fill(-1);
    pos.set(this.#pos);
    this.#pos = pos;
  }

  #set(i: number, entry: MemberEntry, status: number): void {
    this.#grow(i);
    const before = this.#entries[i];
    if (before && this.#isLive(i)) this.#toggleDigest(i, before.incarnation);
    this.#entries[i] = entry;
    this.#setStatus(i, status, true);
    if (this.#isLive(i)) this.#toggleDigest(i, entry.incarnation);
  }

  #setStatus(i: number, status: number, digestHandled = false): void {
    const wasLive = this.#isLive(i);
    this.#status[i] = status;
    const isLive = this.#isLive(i);
    if (wasLive === isLive) return;
    if (!digestHandled) this.#toggleDigest(i, this.#entries[i]!.incarnation);
    if (isLive) {
      this.#pos[i] = this.#live.length;
      this.#live.push(i);
    } else {
      const p = this.#pos[i];
      const last = this.#live.pop()!;
      if (last !== i) {
        this.#live[p] = last;
        this.#pos[last] = p;
      }
      this.#pos[i] = -1;
    }
  }

  #toggleDigest(i: number, inc: number): void {
    this.#digest.toggle(this.#index.hash(i), inc);
  }
}
