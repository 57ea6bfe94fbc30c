/**
 * Meeting frames straight on an ordered, reliable `RTCDataChannel`: no second muxer and
 * no second encryption layer above DTLS.
 *
 * The channel is used as a byte stream. Encoded frames are appended to a batch that is
 * flushed once per turn of the event loop as messages of at most {@linkcode CHUNK_BYTES}:
 * many small frames share one SCTP message (the per-message cost dominates small
 * messages), and a frame larger than a data-channel message (libwebrtc and Chromium allow
 * 256 KiB, meeting messages go up to 1 MiB) is split over several. The receiver's
 * `FrameDecoder` reassembles frames from any chunking, and SCTP keeps the order.
 *
 * Backpressure: writers wait while the channel's `bufferedAmount` plus the batch is above
 * {@linkcode HIGH_WATER_BYTES}.
 *
 * @module
 */
import { DEFAULT_MAX_PAYLOAD, encodeFrame, type Frame, FrameDecoder } from "../frame.ts";
import { MeetingClosedError } from "../errors.ts";
import { QueuedFrameChannel } from "./_frame_queue.ts";

/** Largest data-channel message we send: safe for every WebRTC implementation. */
export const CHUNK_BYTES = 64 * 1024;
/** Writers wait while more than this is buffered. */
export const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** How often a waiting writer looks at `bufferedAmount` (libwebrtc's Node binding fires no `bufferedamountlow`). */
const DRAIN_POLL_MS = 2;
/** What a write that neither waits nor fails returns. */
const WRITTEN: Promise<void> = Promise.resolve();

/** Frames over a data channel. */
export class DataChannelFrames extends QueuedFrameChannel {
  /** The data channel. */
  readonly channel: RTCDataChannel;
  #decoder: FrameDecoder;
  #maxPayload: number;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #flushScheduled = false;
  /**
   * Bytes handed to the channel since `bufferedAmount` was last read (an upper bound of
   * what it still buffers). Reading `bufferedAmount` crosses into libwebrtc's signaling
   * thread in `@roamhq/wrtc` and took 45 % of the CPU time of a 100-byte message flood
   * when read on every write, so it is read only when this estimate passes half the
   * high-water mark.
   */
  #sentUnchecked = 0;
  #owner: { close(): void } | undefined;
  /** Listeners on the channel, removed at shutdown (see #shutdown()). */
  #listeners: [string, (event: Event) => void][] = [];

  /**
   * @param channel An ordered, reliable data channel (open or opening).
   * @param options Largest payload accepted; `owner` (the peer connection) is closed with
   *   the channel.
   */
  constructor(
    channel: RTCDataChannel,
    options: { maxPayload?: number; owner?: { close(): void } } = {},
  ) {
    super();
    this.channel = channel;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#owner = options.owner;
    this.#decoder = new FrameDecoder({ maxPayload: this.#maxPayload });
    channel.binaryType = "arraybuffer";
    this.#listen("message", (event) => this.#onMessage((event as MessageEvent).data));
    this.#listen("close", () => {
      this.#end(new MeetingClosedError("The data channel was closed"));
    });
    this.#listen("error", (event) => {
      const error = (event as RTCErrorEvent).error;
      this.#end(
        new MeetingClosedError(`The data channel failed: ${error?.message ?? "unknown error"}`),
      );
    });
    this.#listen("open", () => this.#flush());
  }

  #listen(type: string, listener: (event: Event) => void): void {
    this.channel.addEventListener(type, listener);
    this.#listeners.push([type, listener]);
  }

  #onMessage(data: unknown): void {
    if (!this.open) return;
    const chunk = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : typeof data === "string"
      ? new TextEncoder().encode(data)
      : new Uint8Array(0);
    this.counters.bytesIn += chunk.length;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.abort(err as Error); // a malformed frame poisons this channel only
      return;
    }
    for (const frame of frames) {
      this.counters.framesIn++;
      this.frames.push(frame);
    }
  }

  /**
   * Write one frame (batched with others of the same turn), waiting while the channel's
   * buffer is full.
   *
   * @param frame The frame.
   * @param options Abort signal.
   * @throws {FrameTooLargeError} When the payload is over the limit (nothing is written).
   * @throws {MeetingClosedError} When the channel has ended.
   */
  override write(frame: Frame, options: { signal?: AbortSignal } = {}): Promise<void> {
    // Not an async function: most writes neither wait nor fail, and share one settled promise.
    if (!this.open) {
      return Promise.reject(this.frames.error ?? new MeetingClosedError("The channel is closed"));
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame, { maxPayload: this.#maxPayload });
    } catch (err) {
      return Promise.reject(err);
    }
    this.counters.framesOut++;
    this.counters.bytesOut += bytes.length;
    this.#batch.push(bytes);
    this.#batchBytes += bytes.length;
    if (this.#batchBytes >= CHUNK_BYTES) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#buffered() > HIGH_WATER_BYTES) return this.#drained(options.signal);
    return WRITTEN;
  }

  #buffered(): number {
    if (this.#sentUnchecked > HIGH_WATER_BYTES / 2) {
      this.#sentUnchecked = this.channel.bufferedAmount;
    }
    return this.#sentUnchecked + this.#batchBytes;
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#batchBytes === 0 || this.channel.readyState !== "open") return;
    const pieces = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    try {
      let out = new Uint8Array(Math.min(CHUNK_BYTES, _total(pieces)));
      let used = 0;
      let remaining = _total(pieces);
      for (const piece of pieces) {
        let offset = 0;
        while (offset < piece.length) {
          const n = Math.min(piece.length - offset, out.length - used);
          out.set(piece.subarray(offset, offset + n), used);
          used += n;
          offset += n;
          if (used === out.length) {
            this.channel.send(out);
            this.#sentUnchecked += used;
            remaining -= used;
            out = new Uint8Array(Math.min(CHUNK_BYTES, remaining));
            used = 0;
          }
        }
      }
    } catch (err) {
      this.abort(
        new MeetingClosedError(`Cannot write to the data channel: ${(err as Error).message}`),
      );
    }
  }

  async #drained(signal?: AbortSignal): Promise<void> {
    while (this.open && this.#buffered() > HIGH_WATER_BYTES / 2) {
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    if (!this.open) throw this.frames.error ?? new MeetingClosedError("The channel is closed");
  }

  /** Close gracefully: what is buffered is sent first (for at most a second). Idempotent. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.#flush();
    this.closed = true;
    this.frames.fail(new MeetingClosedError("The channel was closed"));
    const deadline = Date.now() + 1000;
    while (
      this.channel.readyState === "open" && this.channel.bufferedAmount > 0 && Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#shutdown();
  }

  /**
   * Abort at once.
   *
   * @param err Why.
   */
  override abort(err: Error): void {
    // What is batched still goes out first (the acknowledgement of the other side's Leave).
    if (!this.closed) this.#flush();
    this.closed = true;
    this.frames.fail(err);
    this.#shutdown();
  }

  #end(err: Error): void {
    this.frames.fail(err);
    this.#shutdown();
  }

  #shutdown(): void {
    this.#batch = [];
    this.#batchBytes = 0;
    // The peer connection closes its channels itself, on the binding's signaling thread; a
    // `channel.close()` from here could meet the other side's close there (see `#quiet` in
    // src/peer_link.ts).
    try {
      if (this.#owner) this.#owner.close();
      else this.channel.close();
    } catch {
      // already closed
    }
    this.#owner = undefined;
    // @roamhq/wrtc on Deno never lets go of a data channel, closed or not (see
    // holdWebRtc() in src/runtime/webrtc.ts). A heap snapshot after 20 join/leave rounds
    // (issue 12) showed every left meeting kept alive by Global handles → RTCDataChannel →
    // this "message" listener → this object → the MeetingClosedError it ended with, whose
    // unformatted stack trace still references the Meeting (and its libp2p node).
    for (const [type, listener] of this.#listeners.splice(0)) {
      this.channel.removeEventListener(type, listener);
    }
  }
}

function _total(pieces: Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}
