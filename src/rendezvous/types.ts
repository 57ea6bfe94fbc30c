/**
 * Options, inputs and counters of the rendezvous (`../rendezvous.ts`, which re-exports the
 * public ones).
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import type { ParticipantLibp2p } from "../node.ts";
import type { Presence, PresenceInfo } from "../presence.ts";
import type { TopicKeys } from "../topic.ts";
import type { Logger } from "../logger.ts";

/** How many verified entry points a newcomer of a large meeting needs from the DHT. */
export const ENOUGH_ENTRY_POINTS = 8;

/** Timers of the rendezvous. */
export interface RendezvousOptions {
  /**
   * Lifetime of our presence record.
   * @default {60_000}
   */
  ttlMs?: number;
  /**
   * First lookup interval.
   * @default {500}
   */
  minIntervalMs?: number;
  /**
   * Longest lookup interval.
   * @default {30_000}
   */
  maxIntervalMs?: number;
  /**
   * Members that announce in one epoch of a meeting larger than this (see
   * `rendezvous/announcers.ts`); everyone announces in a smaller meeting.
   * @default {32}
   */
  announcers?: number;
  /**
   * Length of one announcer epoch in ms (a newcomer announces throughout its first).
   * @default {60_000}
   */
  announceEpochMs?: number;
  /**
   * Stop a lookup once this many new participants are verified (lookups that are not given
   * their own `enough`); `undefined` fetches the record of every provider answered.
   * @default {undefined}
   */
  lookupEnough?: number;
}

/** Options of one `Rendezvous.lookup()`. */
export interface LookupOptions {
  /**
   * Stop once this many new participants are verified (e.g. {@linkcode ENOUGH_ENTRY_POINTS}
   * for a newcomer of a large meeting, whose roster then comes through the mesh).
   * @default {the rendezvous' `lookupEnough`: every provider answered}
   */
  enough?: number;
}

/** Counters of the rendezvous. */
export interface RendezvousStats {
  /** Lookups run. */
  lookups: number;
  /** Records fetched and accepted. */
  recordsAccepted: number;
  /** Records rejected (forged, stale, replayed, undecryptable). */
  recordsRejected: number;
  /** Announcements made. */
  announcements: number;
  /** Announcement rounds skipped because this member was not an announcer of the epoch. */
  announcementsSkipped: number;
  /** Duration of the last lookup in ms. */
  lastLookupMs: number;
  /** Presence records the last lookup started to fetch (DHT GETs). */
  lastLookupFetches: number;
  /** New participants the last lookup verified from servers' entry-point answers. */
  lastLookupServed: number;
}

/**
 * Counters of a rendezvous that has done nothing yet.
 *
 * @returns Every counter at 0.
 */
export function newRendezvousStats(): RendezvousStats {
  return {
    lookups: 0,
    recordsAccepted: 0,
    recordsRejected: 0,
    announcements: 0,
    announcementsSkipped: 0,
    lastLookupMs: 0,
    lastLookupFetches: 0,
    lastLookupServed: 0,
  };
}

/** Everything the rendezvous needs. */
export interface RendezvousInit extends RendezvousOptions {
  /** The participant's node. */
  libp2p: ParticipantLibp2p;
  /** The meeting's keys. */
  keys: TopicKeys;
  /** The participant's key (signs the presence record). */
  privateKey: PrivateKey;
  /** What to announce (called before each announcement). */
  selfInfo: () => PresenceInfo;
  /** A verified presence of another participant. */
  onPresence: (presence: Presence) => void;
  /** Whether the meeting wants more peers (false slows the lookups down). */
  wantMore: () => boolean;
  /** Whether a peer is already handled (its record need not be fetched). */
  isKnown: (peerId: string) => boolean;
  /**
   * How many members the meeting has, itself included (decides whether this member is an
   * announcer; see `rendezvous/announcers.ts`).
   * @default {() => 1 (everyone announces, as in a small meeting)}
   */
  rosterSize?: () => number;
  /**
   * The clock of the announcer choice (ms).
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * When this member joined (ms, same clock): it announces throughout its first epoch.
   * @default {when start() is called}
   */
  joinedAt?: number;
  /** Logger. */
  log: Logger;
}
