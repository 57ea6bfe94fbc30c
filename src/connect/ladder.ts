/**
 * The connection ladder of one dial, as a small state machine: it is told how each
 * attempt ended and says what to try next (which rung, after which pause), so the rules
 * run the same over real links and in unit tests, with no clock of their own.
 *
 * Rungs, each with its own time budget:
 * - `direct`: WebRTC with host and server-reflexive candidates only;
 * - `turn`: WebRTC with our TURN relay candidates added (when TURN is configured);
 * - `relay`: the meeting over the bootstrap node's circuit relay (unless disabled).
 *
 * Rules: two timeouts mean a rung does not work here (before TURN one is enough: a
 * stalled direct dial still ends on a working path, and relayed or TURN paths are
 * upgraded later); quick failures get up to `triesPerRung` tries with a growing pause;
 * `maxAttempts` bounds the whole dial.
 *
 * @module
 */

/** A rung of the ladder. */
export type Rung = "direct" | "turn" | "relay";

/** Settings of a ladder. */
export interface LadderInit {
  /** Whether a TURN server is configured. */
  turn: boolean;
  /** Whether the circuit-relay rung is allowed. */
  relay: boolean;
  /** Attempts over all rungs. */
  maxAttempts: number;
  /** Quick failures tolerated on one rung before the next. */
  triesPerRung: number;
}

/** What to do next. */
export type LadderStep =
  | { action: "try"; rung: Rung; attempt: number; delayMs: number }
  | { action: "give-up"; tried: Rung[] };

/** The decisions of one dial. */
export class DialLadder {
  /** The rungs this dial may use, in order. */
  readonly rungs: readonly Rung[];
  #init: LadderInit;
  #rung = 0;
  #tries = 0;
  #timeouts = 0;
  #attempt = 0;
  #delay = 0;

  /** @param init Which rungs exist and how many attempts are allowed. */
  constructor(init: LadderInit) {
    this.#init = init;
    const rungs: Rung[] = ["direct"];
    if (init.turn) rungs.push("turn");
    if (init.relay) rungs.push("relay");
    this.rungs = rungs;
  }

  /**
   * The next attempt (or the end of the dial).
   *
   * @returns What to try now.
   */
  next(): LadderStep {
    if (this.#attempt >= this.#init.maxAttempts) {
      return { action: "give-up", tried: [...this.rungs] };
    }
    this.#attempt++;
    const delayMs = this.#delay;
    this.#delay = 0;
    return { action: "try", rung: this.rungs[this.#rung], attempt: this.#attempt, delayMs };
  }

  /**
   * Report a failed attempt.
   *
   * @param timedOut Whether it used up its time budget (rather than failing quickly).
   */
  failed(timedOut: boolean): void {
    this.#tries++;
    if (timedOut) this.#timeouts++;
    const last = this.#rung >= this.rungs.length - 1;
    const timeoutsAllowed = this.rungs[this.#rung + 1] === "turn" ? 1 : 2;
    if (!last && (this.#timeouts >= timeoutsAllowed || this.#tries >= this.#init.triesPerRung)) {
      this.#rung++;
      this.#tries = 0;
      this.#timeouts = 0;
      this.#delay = 0;
    } else {
      this.#delay = 250 * 2 ** Math.min(this.#tries, 4);
    }
  }
}
