/**
 * The overlay's vocabulary: what a member says about itself (signed entries), the messages
 * neighbours exchange, and the actions the sans-I/O {@linkcode OverlayNode} asks its driver
 * to perform. The same types flow over real WebRTC links (`src/meeting.ts` drives the node)
 * and through the simulator (`bench/sim/`), which is why nothing here touches I/O.
 *
 * @module
 */

/** A member's peer id (libp2p, base58). */
export type PeerId = string;

/**
 * What a member says about itself, signed by its own key so that no relay can forge a
 * join or an address. A newer `incarnation` replaces an older entry (a changed address,
 * or a refuted suspicion).
 */
export interface MemberEntry {
  /** The member's peer id; the signature must verify with its key. */
  peerId: PeerId;
  /** Display name (up to 64 characters). */
  name: string;
  /** When it joined (ms since the epoch, its own clock). */
  joinedAt: number;
  /** Starts at 0; the member raises it to refute a suspicion or change its contact. */
  incarnation: number;
  /** How to reach it (signaling multiaddrs); opaque to the overlay. */
  contact: string[];
  /** Signature by `peerId` over {@linkcode entryBytes} of the other fields. */
  sig: Uint8Array;
}

/** A member's state in a roster. */
export type MemberStatus = "alive" | "suspect" | "dead" | "left";

/**
 * A rumor: something every member should learn, spread through the mesh by the broadcast
 * tree (Plumtree). `id` is unique per rumor (origin and its sequence number).
 */
export type Rumor =
  /** A join, or a member's newer entry (refutation, new contact). */
  | { k: "alive"; entry: MemberEntry }
  /** `by` (a neighbour of `peer`) lost its link to `peer` at incarnation `inc`. */
  | { k: "suspect"; peer: PeerId; inc: number; by: PeerId; sig: Uint8Array }
  /** `by`'s suspicion of `peer` was not refuted in time. */
  | { k: "dead"; peer: PeerId; inc: number; by: PeerId; sig: Uint8Array }
  /** `peer` leaves (signed by itself). */
  | { k: "left"; peer: PeerId; inc: number; sig: Uint8Array }
  /** An application broadcast, signed by its origin. */
  | {
    k: "app";
    origin: PeerId;
    seq: number;
    channel: number;
    payload: Uint8Array;
    sig: Uint8Array;
  };

/** Messages between two linked neighbours. */
export type OverlayMessage =
  /**
   * First message on every new link, both ways: our entry, how many neighbours we have,
   * whether we need the whole roster (a newcomer does), and whether we hold it (`ready`;
   * absent means yes): a newcomer asks only a member that holds it. `extra` marks a link
   * opened on demand (a direct message to a member that is not a neighbour): it is not part
   * of the mesh and counts against nobody's degree. `digestBuckets`: the most digest
   * buckets we read (absent: 32, members from before digests grew with the roster).
   */
  | {
    t: "hello";
    entry: MemberEntry;
    degree: number;
    wantRoster: boolean;
    ready?: boolean;
    extra?: boolean;
    digestBuckets?: number;
  }
  /** "Send me the whole roster" (a newcomer, to one neighbour whose hello said `ready`). */
  | { t: "want" }
  /** Part of a roster (a snapshot for a newcomer, or the answer to a digest pull). */
  | { t: "roster"; entries: RosterItem[]; last: boolean }
  /** "I am full / I drop you: try these members instead" (peer exchange). */
  | { t: "prune"; peers: MemberEntry[] }
  /** Plumtree eager push: a rumor and how many hops it has travelled. */
  | { t: "gossip"; id: string; hops: number; rumor: Rumor }
  /** Plumtree lazy push: ids of rumors we have. */
  | { t: "ihave"; ids: string[] }
  /** Plumtree: send me these rumors, and make our link eager. */
  | { t: "graft"; ids: string[] }
  /** Plumtree: I got that rumor twice; make our link lazy. */
  | { t: "lazy" }
  /** Anti-entropy: a hash per roster bucket (as many buckets as the array is long). */
  | { t: "digest"; buckets: number[] }
  /**
   * Anti-entropy: send me your entries of these buckets, numbered among `count` (absent:
   * 32, the digest of a member from before digests grew).
   */
  | { t: "pull"; buckets: number[]; count?: number };

/** A roster entry with its state, as sent in snapshots. */
export interface RosterItem {
  /** The member's signed entry. */
  entry: MemberEntry;
  /** Its state. */
  status: MemberStatus;
}

/** What the overlay asks its driver to do, or tells the application. */
export type OverlayAction =
  /** Send a message to a linked neighbour. */
  | { type: "send"; to: PeerId; msg: OverlayMessage }
  /** Open a link to a member (report `linkUp` or `connectFailed`). */
  | { type: "connect"; peer: PeerId; contact: string[] }
  /** Close the link to a neighbour (after a `prune` was sent, or on leave). */
  | { type: "disconnect"; peer: PeerId }
  /** A member entered the roster. */
  | { type: "member:join"; entry: MemberEntry }
  /** A member's entry changed (new incarnation: contact or refutation). */
  | { type: "member:update"; entry: MemberEntry }
  /** A member left the roster. */
  | { type: "member:leave"; peerId: PeerId; name: string; reason: "left" | "failed" }
  /** An application broadcast arrived (delivered once per member). */
  | {
    type: "deliver";
    origin: PeerId;
    seq: number;
    channel: number;
    payload: Uint8Array;
    hops: number;
  };

/** Signs our own statements and checks others'. Real: Ed25519; simulator: a cheap stand-in. */
export interface OverlayCrypto {
  /**
   * Sign bytes with our key.
   * @param bytes What to sign.
   * @returns The signature.
   */
  sign(bytes: Uint8Array): Uint8Array;
  /**
   * Whether `sig` is `peerId`'s signature over `bytes`.
   * @param peerId The claimed signer.
   * @param bytes What was signed.
   * @param sig The signature.
   * @returns True when valid.
   */
  verify(peerId: PeerId, bytes: Uint8Array, sig: Uint8Array): boolean;
}

/** Limits and timers of the overlay; every field has a documented default. */
export interface OverlayOptions {
  /**
   * Below this many neighbours a member looks for more.
   * @default {6}
   */
  lowDegree?: number;
  /**
   * The number of neighbours a member aims for when it looks for more.
   * @default {8}
   */
  targetDegree?: number;
  /**
   * Above this many neighbours a member drops some (with peer exchange).
   * @default {12}
   */
  highDegree?: number;
  /**
   * Hard cap on links, inbound included: a member at the cap refuses with peer exchange.
   * Meetings of at most `maxDegree + 1` members stay a full mesh.
   * @default {16}
   */
  maxDegree?: number;
  /**
   * How often the mesh is maintained (degree checks, replacement, digests).
   * @default {1_000}
   */
  heartbeatMs?: number;
  /**
   * How often a member in a large meeting links to one random member beyond its
   * neighbours (the surplus link is dropped again at the next heartbeat over
   * `highDegree`). This keeps the mesh a random graph, heals partitions and lets members
   * trade slow neighbours for faster ones.
   * @default {30_000}
   */
  rewireIntervalMs?: number;
  /**
   * How long a suspicion may stand before the member is declared dead.
   * @default {6_000}
   */
  suspicionMs?: number;
  /**
   * How long a missing rumor (announced by `ihave`) is waited for before grafting.
   * @default {400}
   */
  graftTimeoutMs?: number;
  /**
   * How often lazy `ihave` announcements are flushed.
   * @default {100}
   */
  lazyFlushMs?: number;
  /**
   * How often a member compares roster digests with one random neighbour.
   * @default {10_000}
   */
  digestIntervalMs?: number;
  /**
   * How long dead and left members are remembered (so stale gossip cannot revive them).
   * @default {120_000}
   */
  tombstoneMs?: number;
  /**
   * How long delivered rumor ids are remembered for deduplication.
   * @default {120_000}
   */
  seenMs?: number;
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
