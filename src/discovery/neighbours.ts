/**
 * Which LAN neighbours to challenge, and when (local discovery, requirement D8). No I/O:
 * it takes sightings, results and the time, and answers what to do, so the rules are
 * tested with a fake clock (`tests/discovery/neighbours_test.ts`).
 *
 * - The lower peer id challenges at once; the higher one waits `fallbackMs` first, and
 *   challenges only if the lower did not (mDNS may have shown only one side the other).
 *   One exchange per pair is enough: both sides learn each other's presence from it.
 * - A member is not challenged again for `refreshMs` (its addresses may change).
 * - A neighbour in another meeting (or not a meeting at all) is left alone for
 *   `foreignMs`: its node belongs to one meeting for its whole life.
 * - A failed exchange (timeout, refused stream) is retried after `retryMs`, doubling up
 *   to `foreignMs`.
 *
 * @module
 */

/** Timers of {@linkcode NeighbourTable}. */
export interface NeighbourTimers {
  /**
   * How long the higher peer id waits for the lower one to challenge.
   * @default {1500}
   */
  fallbackMs?: number;
  /**
   * How long a verified member is not challenged again.
   * @default {60_000}
   */
  refreshMs?: number;
  /**
   * How long a neighbour of another meeting is left alone.
   * @default {600_000}
   */
  foreignMs?: number;
  /**
   * First pause after a failed exchange.
   * @default {2000}
   */
  retryMs?: number;
}

/** What to do about a neighbour just seen. */
export type NeighbourDecision =
  | { action: "challenge" }
  | { action: "wait"; ms: number }
  | { action: "ignore" };

/** How an exchange with a neighbour ended. */
export type NeighbourResult = "member" | "foreign" | "failed";

interface Entry {
  state: "pending" | NeighbourResult | "seen";
  firstSeen: number;
  until: number;
  failures: number;
}

/** The state of every LAN neighbour seen. */
export class NeighbourTable {
  readonly #self: string;
  readonly #fallback: number;
  readonly #refresh: number;
  readonly #foreign: number;
  readonly #retry: number;
  readonly #entries = new Map<string, Entry>();

  /**
   * @param selfId Our peer id.
   * @param timers Timers (defaults above).
   */
  constructor(selfId: string, timers: NeighbourTimers = {}) {
    this.#self = selfId;
    this.#fallback = timers.fallbackMs ?? 1500;
    this.#refresh = timers.refreshMs ?? 60_000;
    this.#foreign = timers.foreignMs ?? 600_000;
    this.#retry = timers.retryMs ?? 2000;
  }

  /** Number of neighbours known. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A neighbour was seen (an mDNS answer, or a timer set by a `wait` decision fired).
   *
   * @param peerId The neighbour.
   * @param now The time (ms).
   * @returns Challenge it now (it is then pending), wait and ask again, or ignore it.
   */
  seen(peerId: string, now: number): NeighbourDecision {
    if (peerId === this.#self) return { action: "ignore" };
    let entry = this.#entries.get(peerId);
    if (!entry) {
      entry = { state: "seen", firstSeen: now, until: 0, failures: 0 };
      this.#entries.set(peerId, entry);
    }
    if (entry.state === "pending") return { action: "ignore" };
    if (entry.state !== "seen" && now < entry.until) return { action: "ignore" };
    if (entry.state === "seen" && this.#self > peerId) {
      const waited = now - entry.firstSeen;
      if (waited < this.#fallback) return { action: "wait", ms: this.#fallback - waited };
    }
    entry.state = "pending";
    return { action: "challenge" };
  }

  /**
   * An exchange with a neighbour ended (ours or one it started).
   *
   * @param peerId The neighbour.
   * @param result Member of our meeting, foreign, or failed.
   * @param now The time (ms).
   */
  done(peerId: string, result: NeighbourResult, now: number): void {
    const entry = this.#entries.get(peerId) ??
      { state: "seen" as const, firstSeen: now, until: 0, failures: 0 };
    entry.state = result;
    if (result === "failed") {
      entry.failures++;
      entry.until = now + Math.min(this.#foreign, this.#retry * 2 ** (entry.failures - 1));
    } else {
      entry.failures = 0;
      entry.until = now + (result === "member" ? this.#refresh : this.#foreign);
    }
    this.#entries.set(peerId, entry);
  }

  /**
   * Whether a neighbour is a verified member of our meeting.
   *
   * @param peerId The neighbour.
   * @returns True once an exchange proved it.
   */
  isMember(peerId: string): boolean {
    return this.#entries.get(peerId)?.state === "member";
  }

  /**
   * Forget a neighbour (it left the meeting): the next sighting challenges it again.
   *
   * @param peerId The neighbour.
   */
  forget(peerId: string): void {
    this.#entries.delete(peerId);
  }
}
