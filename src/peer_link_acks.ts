/**
 * The frames one peer link has sent and not yet seen acknowledged (requirements M3, R1).
 *
 * They are kept in the order they were sent (increasing sequence number), so a cumulative
 * ack settles a prefix and the oldest frame has the earliest deadline: one timer per link,
 * armed for the oldest frame, replaces one timer per message, and it stops when nothing is
 * left waiting (an idle link holds no timer). The link writes them again, in order, when a
 * new stream replaces a broken one.
 *
 * @module
 */
import type { Frame } from "./frame.ts";

/** A reliable frame waiting for its acknowledgement. */
export interface PendingFrame {
  /** The frame (written again after a reconnect). */
  frame: Frame;
  /** Settles the sender's promise. */
  resolve: () => void;
  /** Fails the sender's promise. */
  reject: (err: Error) => void;
  /** When the acknowledgement is overdue (performance.now()). */
  deadline: number;
  /** Whether it was written on the current stream. */
  written: boolean;
}

/** The unacknowledged frames of one link, oldest first, and the timer of the oldest. */
export class PendingAcks {
  #pending = new Map<number, PendingFrame>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #overdue: () => Error;

  /**
   * @param overdue Makes the error a frame fails with when its acknowledgement is overdue
   *   (called when it is, so it can describe the link's state then).
   */
  constructor(overdue: () => Error) {
    this.#overdue = overdue;
  }

  /** How many frames wait for their acknowledgement. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Keep a frame until it is acknowledged or overdue.
   *
   * @param seq Its sequence number (higher than any kept).
   * @param pending The frame and its promise.
   */
  add(seq: number, pending: PendingFrame): void {
    this.#pending.set(seq, pending);
    this.#arm();
  }

  /**
   * Stop waiting for one frame (aborted or refused); its promise is left to the caller.
   *
   * @param seq Its sequence number.
   * @returns The frame, if it was still waiting.
   */
  take(seq: number): PendingFrame | undefined {
    const pending = this.#pending.get(seq);
    if (pending) this.#pending.delete(seq);
    this.#disarmIfIdle();
    return pending;
  }

  /**
   * The frame `seq` was acknowledged on its own.
   *
   * @param seq Its sequence number.
   */
  settle(seq: number): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    this.#disarmIfIdle();
    pending.resolve();
  }

  /**
   * Every frame up to and including `ref` was acknowledged (a cumulative ack).
   *
   * @param ref The highest sequence number acknowledged.
   */
  settleUpTo(ref: number): void {
    // Pending frames are kept in the order they were sent (increasing seq).
    for (const [seq, pending] of this.#pending) {
      if (seq > ref) break;
      this.#pending.delete(seq);
      pending.resolve();
    }
    this.#disarmIfIdle();
  }

  /**
   * The frames waiting, by increasing sequence number (to write them again).
   *
   * @returns A new array.
   */
  inOrder(): PendingFrame[] {
    return [...this.#pending.values()].sort((a, b) => a.frame.seq - b.frame.seq);
  }

  /**
   * Fail every frame waiting and stop the timer (the link closes).
   *
   * @param err What their promises reject with.
   */
  rejectAll(err: Error): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }

  /** Nothing waits any more: stop the timer (the next `add()` arms it again). */
  #disarmIfIdle(): void {
    if (this.#pending.size > 0 || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One timer per link: it fires for the oldest unacknowledged frame. */
  #arm(): void {
    if (this.#timer !== undefined || this.#pending.size === 0) return;
    const oldest = this.#pending.values().next().value!;
    const wait = Math.max(0, oldest.deadline - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      for (const [seq, pending] of this.#pending) {
        if (pending.deadline > now) break;
        this.#pending.delete(seq);
        pending.reject(this.#overdue());
      }
      this.#arm();
    }, wait);
  }
}
