/**
 * The roster's vocabulary: member state codes (kept in a `Uint8Array`), what a merge
 * changed, and Lifeguard's suspicion timeout.
 *
 * @module
 */
import type { MemberEntry, MemberStatus, PeerId, Rumor } from "./types.ts";

/** State codes: unknown (or forgotten), alive, suspect, dead, left. */
export const NONE = 0, ALIVE = 1, SUSPECT = 2, DEAD = 3, LEFT = 4;
/** The status of each state code. */
export const STATUS: MemberStatus[] = ["alive", "alive", "suspect", "dead", "left"];
/** The state code of each status. */
export const CODE: Record<MemberStatus, number> = {
  alive: ALIVE,
  suspect: SUSPECT,
  dead: DEAD,
  left: LEFT,
};

/** What a merge changed, for the overlay to turn into events and rumors. */
export type RosterChange =
  | { kind: "join"; entry: MemberEntry }
  | { kind: "update"; entry: MemberEntry; refuted: boolean }
  | { kind: "suspect"; peer: PeerId }
  | { kind: "leave"; entry: MemberEntry; reason: "left" | "failed" }
  /** A statement about ourselves that we must refute with a higher incarnation. */
  | { kind: "refute"; inc: number };
/** A suspicion this roster holds. */
export interface Suspicion {
  /** When it was raised here. */
  since: number;
  deadline: number;
  rumor: Rumor | undefined;
  /** Members that reported it independently (Lifeguard's confirmations). */
  by: Set<PeerId>;
}

/** Independent confirmations after which a suspicion runs for its shortest time. */
const CONFIRMATIONS = 3;

/**
 * Lifeguard's suspicion timeout: the full time with one accuser, shrinking with the log of
 * independent confirmations down to a quarter (a crash seen by several neighbours is
 * declared sooner; a lone accuser, maybe with a bad link of its own, waits longest).
 */
export function suspicionTimeout(suspicionMs: number, confirmations: number): number {
  const min = suspicionMs / 4;
  const c = Math.min(confirmations, CONFIRMATIONS);
  return Math.max(
    min,
    suspicionMs - (suspicionMs - min) * Math.log(c + 1) / Math.log(CONFIRMATIONS + 1),
  );
}
