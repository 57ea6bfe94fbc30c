/**
 * A libp2p stream that carries meeting frames: encodes outgoing frames with backpressure,
 * decodes incoming bytes (any chunking) and hands frames out one at a time.
 *
 * A malformed or oversized frame poisons the stream: it is aborted, and every reader
 * gets the named error ({@linkcode InvalidFrameError} / {@linkcode FrameTooLargeError}).
 * The node itself is never affected.
 *
 * @module
 */
import type { Stream } from "@libp2p/interface";
import { DEFAULT_MAX_PAYLOAD, encodeFrame, type Frame, FrameDecoder } from "./frame.ts";
import { MeetingClosedError } from "./errors.ts";
import { QueuedFrameChannel } from "./connect/_frame_queue.ts";
import type { FrameChannelCounters } from "./connect/frame_channel.ts";

/** Byte counters of a framed stream. */
export type FramedStreamCounters = FrameChannelCounters;

/** Frames over a libp2p stream. */
export class FramedStream extends QueuedFrameChannel {
  /** The underlying stream. */
  readonly stream: Stream;
  #decoder: FrameDecoder;
  #maxPayload: number;

  /**
   * @param stream A libp2p stream.
   * @param options Largest payload accepted.
   */
  constructor(stream: Stream, options: { maxPayload?: number } = {}) {
    super();
    this.stream = stream;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#decoder = new FrameDecoder({ maxPayload: this.#maxPayload });
    stream.addEventListener("message", (event) => {
      const data = event.data;
      const chunk = data instanceof Uint8Array ? data : data.subarray();
      this.counters.bytesIn += chunk.length;
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
        stream.abort(err as Error);
        return;
      }
      for (const frame of frames) {
        this.counters.framesIn++;
        this.frames.push(frame);
      }
    });
    stream.addEventListener("close", (event) => {
      this.#fail(event.error ?? new MeetingClosedError("The stream was closed by the other side"));
    });
    stream.addEventListener("remoteCloseWrite", () => {
      this.#fail(new MeetingClosedError("The other side closed the stream"));
      void stream.close().catch(() => {});
    });
  }

  #fail(err: Error): void {
    this.frames.fail(err);
  }

  /**
   * Write one frame, waiting for the stream to drain when its buffer is full.
   *
   * @param frame The frame.
   * @param options Abort signal.
   * @throws {FrameTooLargeError} When the payload is over the limit (nothing is written).
   * @throws {MeetingClosedError} When the stream has ended.
   */
  override async write(frame: Frame, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.open) throw this.frames.error ?? new MeetingClosedError("The stream is closed");
    const bytes = encodeFrame(frame, { maxPayload: this.#maxPayload });
    this.counters.framesOut++;
    this.counters.bytesOut += bytes.length;
    if (!this.stream.send(bytes)) await this.stream.onDrain({ signal: options.signal });
  }

  /** Close the stream gracefully (buffered frames are still sent). Idempotent. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.#fail(new MeetingClosedError("The stream was closed"));
    await this.stream.close().catch((err: Error) => this.stream.abort(err));
  }

  /**
   * Abort the stream at once.
   *
   * @param err Why.
   */
  override abort(err: Error): void {
    this.closed = true;
    this.#fail(err);
    this.stream.abort(err);
  }
}
