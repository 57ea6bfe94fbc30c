/**
 * The read side shared by every frame channel: frames wait in a queue until read, readers
 * wait for frames, and the first error ends both (every waiting reader gets it).
 *
 * @module
 */
import type { Frame } from "../frame.ts";
import type { FrameChannel, FrameChannelCounters } from "./frame_channel.ts";

type Waiter = { resolve: (frame: Frame) => void; reject: (err: Error) => void };

/** Frames in, readers out; ends with one error. */
export class FrameQueue {
  #queue: Frame[] = [];
  #waiters: Waiter[] = [];
  #error: Error | undefined;
  #onEnd: Array<(err: Error) => void> = [];

  /** The error that ended the queue, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Hand a frame to the next reader (or keep it).
   *
   * @param frame The frame.
   */
  push(frame: Frame): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(frame);
    else this.#queue.push(frame);
  }

  /**
   * End the queue: waiting readers get `err`, and later reads too once the frames that
   * arrived before the end have been read. Only the first call counts.
   *
   * @param err Why.
   */
  fail(err: Error): void {
    if (this.#error !== undefined) return;
    this.#error = err;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
    for (const callback of this.#onEnd.splice(0)) callback(err);
  }

  /**
   * Call back once when the queue ends (at once if it has).
   *
   * @param callback Gets the error.
   */
  onEnd(callback: (err: Error) => void): void {
    if (this.#error !== undefined) callback(this.#error);
    else this.#onEnd.push(callback);
  }

  /**
   * Take the next frame if one is queued, without waiting.
   *
   * @returns The frame, or undefined when none is queued (or the queue has ended).
   */
  readNow(): Frame | undefined {
    return this.#queue.shift();
  }

  /**
   * Read the next frame.
   *
   * @param signal Aborts the wait.
   * @returns The frame.
   */
  read(signal?: AbortSignal): Promise<Frame> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#error) return Promise.reject(this.#error);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Frame>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: (f) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(f);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
}

/**
 * What every frame channel shares: counters, the read side ({@linkcode FrameQueue}) and
 * the open/closed state. Subclasses write and close.
 */
export abstract class QueuedFrameChannel implements FrameChannel {
  /** Traffic counters. */
  readonly counters: FrameChannelCounters = { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0 };
  /** Frames read and not yet taken, and the error that ended the channel. */
  protected readonly frames: FrameQueue = new FrameQueue();
  /** Set once closed or aborted by this side. */
  protected closed = false;

  /** Whether the channel can still be used. */
  get open(): boolean {
    return this.frames.error === undefined && !this.closed;
  }

  /** The error that ended the channel, if any. */
  get error(): Error | undefined {
    return this.frames.error;
  }

  /**
   * Register a callback for when the channel ends.
   *
   * @param callback Called once with the error.
   */
  onClose(callback: (err?: Error) => void): void {
    this.frames.onEnd(callback);
  }

  /**
   * Read the next frame.
   *
   * @param options Abort signal.
   * @returns The frame.
   * @throws The error that ended the channel, or the signal's reason.
   */
  read(options: { signal?: AbortSignal } = {}): Promise<Frame> {
    return this.frames.read(options.signal);
  }

  /**
   * Take the next frame if one has arrived, without waiting.
   *
   * @returns The frame, or undefined.
   */
  readNow(): Frame | undefined {
    return this.frames.readNow();
  }

  /**
   * Write one frame.
   *
   * @param frame The frame.
   * @param options Abort signal.
   */
  abstract write(frame: Frame, options?: { signal?: AbortSignal }): Promise<void>;
  /** Close gracefully. */
  abstract close(): Promise<void>;
  /**
   * Abort at once.
   *
   * @param err Why.
   */
  abstract abort(err: Error): void;
}
