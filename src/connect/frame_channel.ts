/**
 * What a meeting link carries frames over: a WebRTC data channel
 * ({@linkcode DataChannelFrames}) or a libp2p stream (`FramedStream`, used for the
 * membership handshake, signaling and the circuit-relay rung of the ladder).
 *
 * @module
 */
import type { Frame } from "../frame.ts";

/** Byte counters of a frame channel. */
export interface FrameChannelCounters {
  /** Frames written. */
  framesOut: number;
  /** Frames read. */
  framesIn: number;
  /** Bytes written. */
  bytesOut: number;
  /** Bytes read. */
  bytesIn: number;
}

/** Ordered, reliable frames in both directions. */
export interface FrameChannel {
  /** Traffic counters. */
  readonly counters: FrameChannelCounters;
  /** Whether the channel can still be used. */
  readonly open: boolean;
  /** The error that ended the channel, if any. */
  readonly error: Error | undefined;
  /**
   * Register a callback for when the channel ends (with the error, if any).
   *
   * @param callback Called once.
   */
  onClose(callback: (err?: Error) => void): void;
  /**
   * Write one frame, waiting while the channel's send buffer is full.
   *
   * @param frame The frame.
   * @param options Abort signal.
   */
  write(frame: Frame, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Read the next frame.
   *
   * @param options Abort signal.
   * @returns The frame.
   */
  read(options?: { signal?: AbortSignal }): Promise<Frame>;
  /**
   * Take the next frame if one has arrived, without waiting (a reader drains a burst with
   * this after each `read()`, with no promise per frame).
   *
   * @returns The frame, or undefined when none is waiting.
   */
  readNow(): Frame | undefined;
  /** Close gracefully (buffered frames are still sent). Idempotent. */
  close(): Promise<void>;
  /**
   * Abort at once.
   *
   * @param err Why.
   */
  abort(err: Error): void;
}
