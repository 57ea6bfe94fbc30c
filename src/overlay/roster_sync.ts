/**
 * Roster sync between neighbours: how a newcomer gets the whole roster (it asks one
 * neighbour that holds it, in its first hello or with a `want`, and another one when no
 * snapshot comes), and how two members find and repair what differs between their rosters
 * (a `digest` of bucket hashes, answered with the differing buckets' items and a `pull` for
 * ours: anti-entropy as in hashicorp/memberlist's push-pull).
 *
 * Sans I/O like the {@linkcode OverlayNode} that owns it: it keeps the ask state, sends
 * through its host, and leaves merging received items to the node (which verifies them and
 * turns changes into events).
 *
 * @module
 */
import type { Roster } from "./roster.ts";
import { bucketCountFor, DIGEST_BUCKETS, isBucketCount } from "./roster_digest.ts";
import type { OverlayMessage, OverlayStats, PeerId, RosterItem } from "./types.ts";

/** Items per `roster` message (about 250 bytes each on the wire). */
const ROSTER_CHUNK = 200;
/** A new link compares rosters this long after it came up. */
const NEW_LINK_DIGEST_MS = 2_000;
/**
 * A newcomer asks one neighbour for the roster; another one after this long without it. A
 * member that has had nobody to ask for this long (the first members of a meeting) holds
 * all there is: it counts as holding the roster from then on.
 */
const ROSTER_ASK_MS = 5_000;

/** What roster sync needs from the node around it. */
export interface RosterSyncHost {
  /** Queue a message to a neighbour. */
  send(to: PeerId, msg: OverlayMessage): void;
  /** Neighbours whose hello says they hold the whole roster. */
  holders(): PeerId[];
}

/** The roster sync of one member. */
export class RosterSync {
  readonly #roster: Roster;
  readonly #random: () => number;
  readonly #host: RosterSyncHost;
  /** Counters shared with the node (digest rounds that found a difference). */
  readonly #stats: Pick<OverlayStats, "repairs">;
  readonly #createdAt: number;
  /** Whether we hold the whole roster (a snapshot came from a member that held it). */
  #held = false;
  /** The neighbour asked for the whole roster (one at a time), and when. */
  #asked: PeerId | undefined;
  #askedAt = -Infinity;

  /**
   * @param roster The roster sent from (merging into it is the node's job).
   * @param random Uniform [0, 1) randomness (the node's, so a seed replays).
   * @param host Sends, and the neighbours that can be asked.
   * @param stats Where repairs are counted.
   * @param now The clock at creation.
   */
  constructor(
    roster: Roster,
    random: () => number,
    host: RosterSyncHost,
    stats: Pick<OverlayStats, "repairs">,
    now: number,
  ) {
    this.#roster = roster;
    this.#random = random;
    this.#host = host;
    this.#stats = stats;
    this.#createdAt = now;
  }

  /** Whether we hold the whole roster (our hellos say so). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * A new link compares rosters soon: a rumor that could not cross before (the mesh was
   * split, or it was spreading while this link formed) crosses then, not at the next digest
   * round. Not at once: during a join wave rumors in flight make most buckets differ, and
   * the simulator saw newcomers pull their roster 7 times over. A newcomer does not: it is
   * getting the whole roster.
   * @param now The clock.
   * @returns When the new link's digest is due, or undefined.
   */
  firstDigestAt(now: number): number | undefined {
    return this.#held ? now + NEW_LINK_DIGEST_MS : undefined;
  }

  /**
   * A new link in the mesh: a newcomer asks one neighbour at a time for the whole roster
   * (each asked for it: the simulator saw newcomers download it 3.5 times). The first link
   * is asked at once, in our hello; if its hello says it does not hold the roster either
   * (another newcomer), a neighbour that does is asked instead.
   * @param peer The neighbour.
   * @param now The clock.
   * @returns Whether our hello asks it for the roster.
   */
  linkUp(peer: PeerId, now: number): boolean {
    const ask = !this.#held && this.#asked === undefined;
    if (ask) {
      this.#asked = peer;
      this.#askedAt = now;
    }
    return ask;
  }

  /**
   * A link is gone: if that neighbour was asked, ask the next one.
   * @param peer The neighbour.
   * @param now The clock.
   */
  linkDown(peer: PeerId, now: number): void {
    if (peer !== this.#asked) return;
    this.#asked = undefined;
    this.#ask(now);
  }

  /**
   * A neighbour's hello. The member asked in our hello cannot help if it does not hold the
   * roster (it is new too): ask one that can. Also asks this one if nobody was asked yet.
   * @param from The neighbour.
   * @param ready Whether its hello says it holds the roster.
   * @param now The clock.
   */
  hello(from: PeerId, ready: boolean, now: number): void {
    if (from === this.#asked && !ready) this.#asked = undefined;
    this.#ask(now);
  }

  /**
   * The last chunk of a snapshot arrived (its items are merged). One from a member that
   * holds the roster completes ours; one from a member that does not (asked in our first
   * hello) was merged, and someone else is asked.
   * @param from The neighbour.
   * @param ready Whether it holds the roster.
   * @param now The clock.
   */
  snapshotEnd(from: PeerId, ready: boolean, now: number): void {
    if (this.#held) return;
    if (ready) this.#held = true;
    else if (from === this.#asked) {
      this.#asked = undefined;
      this.#ask(now);
    }
  }

  /**
   * Heartbeat: ask another neighbour when the one asked did not answer in time; with
   * nobody to ask for that long, hold the roster as it is.
   * @param now The clock.
   */
  heartbeat(now: number): void {
    if (this.#held) return;
    if (this.#asked !== undefined && now - this.#askedAt >= ROSTER_ASK_MS) {
      this.#asked = undefined; // no answer: ask another neighbour
      this.#ask(now);
    }
    if (this.#asked === undefined && now - this.#createdAt >= ROSTER_ASK_MS) {
      this.#held = true; // nobody to ask for this long: we hold all there is
    }
  }

  /**
   * Send the whole roster (a neighbour asked for it).
   * @param to The neighbour.
   */
  sendSnapshot(to: PeerId): void {
    this.#sendItems(to, this.#roster.items(), true);
  }

  /**
   * Start a digest round with a neighbour, with as many buckets as the roster's size calls
   * for and the neighbour reads (`roster_digest.ts`).
   * @param to The neighbour.
   * @param limit The most buckets it reads (from its hello).
   */
  sendDigest(to: PeerId, limit: number = DIGEST_BUCKETS): void {
    const count = bucketCountFor(this.#roster.size, limit);
    this.#host.send(to, { t: "digest", buckets: this.#roster.digest(count) });
  }

  /**
   * A neighbour's digest: send our items of the buckets that differ, and pull theirs.
   * @param from The neighbour.
   * @param buckets Its bucket hashes (a length that is not a valid count is ignored).
   */
  onDigest(from: PeerId, buckets: number[]): void {
    const differ = this.#roster.differingBuckets(buckets);
    if (differ.length === 0) return;
    this.#stats.repairs++;
    const count = buckets.length;
    this.#sendItems(from, this.#roster.items(new Set(differ), count), false);
    // A count of 32 goes unnamed: members from before digests grew read only that.
    this.#host.send(from, {
      t: "pull",
      buckets: differ,
      ...(count === DIGEST_BUCKETS ? {} : { count }),
    });
  }

  /**
   * A neighbour pulls our items of some buckets.
   * @param from The neighbour.
   * @param buckets The bucket numbers.
   * @param count Among how many buckets (absent: 32); an invalid count is ignored.
   */
  onPull(from: PeerId, buckets: number[], count: number = DIGEST_BUCKETS): void {
    if (!isBucketCount(count)) return;
    this.#sendItems(
      from,
      this.#roster.items(new Set(buckets.filter((b) => Number.isInteger(b) && b < count)), count),
      false,
    );
  }

  /** Ask one neighbour that holds the roster for it, unless one was asked already. */
  #ask(now: number): void {
    if (this.#held || this.#asked !== undefined) return;
    const ready = this.#host.holders();
    if (ready.length === 0) return;
    const peer = ready[Math.floor(this.#random() * ready.length)];
    this.#asked = peer;
    this.#askedAt = now;
    this.#host.send(peer, { t: "want" });
  }

  #sendItems(to: PeerId, items: RosterItem[], snapshot: boolean): void {
    if (items.length === 0 && !snapshot) return;
    for (let i = 0; i < items.length || i === 0; i += ROSTER_CHUNK) {
      const entries = items.slice(i, i + ROSTER_CHUNK);
      this.#host.send(to, {
        t: "roster",
        entries,
        last: snapshot && i + ROSTER_CHUNK >= items.length,
      });
    }
  }
}
