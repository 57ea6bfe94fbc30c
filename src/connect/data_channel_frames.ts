/**
 * Meeting frames straight on an ordered, reliable `RTCDataChannel`: no second muxer and
 * no second encryption layer above DTLS.
 *
 * The channel is used as a byte stream. Frames are encoded straight into chunk buffers of
 * {@linkcode CHUNK_BYTES} (header, payload and checksum copied in; no buffer per frame),
 * and what a turn of the event loop wrote is sent at its end, the full chunks one after
 * the other: many small frames share one SCTP message (the per-message cost dominates
 * small messages), and a frame larger than a data-channel message (libwebrtc and Chromium
 * allow 256 KiB, meeting messages go up to 1 MiB) is split over several. The receiver's
 * `FrameDecoder` reassembles frames from any chunking, and SCTP keeps the order.
 *
 * Sent chunks are reused when the implementation's `send()` copies (`reuseChunks`): on
 * these VMs the first write to freshly allocated memory costs about 18 µs per 4 KiB page
 * (filling a new 256 KiB buffer took 1.2 ms, filling it again 0.01 ms), so each copy into
 * a new buffer cost about as much as moving the bytes over the channel. Before, a message
 * was copied into a frame buffer of its own and then into a new chunk: two such copies.
 *
 * Backpressure: writers wait while the channel's `bufferedAmount` plus what is not sent
 * yet is above {@linkcode HIGH_WATER_BYTES}.
 *
 * @module
 */
import { DEFAULT_MAX_PAYLOAD, encodeFrameEnds, type Frame, FrameDecoder } from "../frame.ts";
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
/** Chunk buffers kept for reuse, shared by every channel of the process (see #flush()). */
const spareChunks: Uint8Array<ArrayBuffer>[] = [];
/** At most this many spare chunks are kept (1 MiB). */
const MAX_SPARE_CHUNKS = 16;

function takeChunk(): Uint8Array<ArrayBuffer> {
  return spareChunks.pop() ?? new Uint8Array(CHUNK_BYTES);
}

/** Frames over a data channel. */
export class DataChannelFrames extends QueuedFrameChannel {
  /** The data channel. */
  readonly channel: RTCDataChannel;
  #decoder: FrameDecoder;
  #maxPayload: number;
  /** The message being filled, `[0, #used)`. */
  #chunk: Uint8Array<ArrayBuffer> | undefined;
  #used = 0;
  /** Full chunks not sent yet: sent together at the end of the turn (or on open). */
  #full: Uint8Array<ArrayBuffer>[] = [];
  #fullBytes = 0;
  #reuseChunks: boolean;
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
   *   the channel; `reuseChunks`: the implementation's `send()` is known to copy what it is
   *   given before it returns (libwebrtc's binding and browsers do), so sent buffers may be
   *   written again. Off by default: an injected implementation may keep a reference.
   */
  constructor(
    channel: RTCDataChannel,
    options: { maxPayload?: number; owner?: { close(): void }; reuseChunks?: boolean } = {},
  ) {
    super();
    this.channel = channel;
    this.#reuseChunks = options.reuseChunks ?? false;
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
   * Write one frame (sent with the others of the same turn), waiting while the channel's
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
    let ends: { header: Uint8Array; trailer: Uint8Array };
    try {
      ends = encodeFrameEnds(frame, { maxPayload: this.#maxPayload });
    } catch (err) {
      return Promise.reject(err);
    }
    this.counters.framesOut++;
    this.counters.bytesOut += ends.header.length + frame.payload.length + ends.trailer.length;
    this.#append(ends.header);
    this.#append(frame.payload);
    this.#append(ends.trailer);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#buffered() > HIGH_WATER_BYTES) return this.#drained(options.signal);
    return WRITTEN;
  }

  /** Copy bytes into the current chunk, starting a new one each time it is full. */
  #append(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      const chunk = this.#chunk ??= takeChunk();
      const n = Math.min(bytes.length - offset, CHUNK_BYTES - this.#used);
      chunk.set(n === bytes.length ? bytes : bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === CHUNK_BYTES) {
        this.#full.push(chunk);
        this.#fullBytes += CHUNK_BYTES;
        this.#chunk = undefined;
        this.#used = 0;
      }
    }
  }

  #buffered(): number {
    if (this.#sentUnchecked > HIGH_WATER_BYTES / 2) {
      this.#sentUnchecked = this.channel.bufferedAmount;
    }
    return this.#sentUnchecked + this.#fullBytes + this.#used;
  }

  /**
   * Send what this turn wrote, all at once. With `reuseChunks` (`send()` copies its
   * argument) the chunks go back to the spare list. Sending them together, not each as
   * soon as it is full, is what lets libwebrtc queue them: @roamhq/wrtc's `send()` is a
   * blocking call into libwebrtc's network thread, which hands a message to SCTP at once
   * (packetised and encrypted before `send()` returns, 1–3 ms for 64 KiB here) while
   * nothing is queued, and only appends it to its queue (0.05 ms) while something is.
   * With the encoding of the next frame between two sends the queue was always empty again
   * (bench part 4, 1 MiB: 50 ms against 31 ms for the raw channel fed in one loop).
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.channel.readyState !== "open") return;
    try {
      const full = this.#full;
      this.#full = [];
      this.#fullBytes = 0;
      for (const chunk of full) {
        this.channel.send(chunk);
        this.#sentUnchecked += CHUNK_BYTES;
        if (this.#reuseChunks && spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(chunk);
      }
      if (this.#used > 0) {
        this.channel.send(this.#chunk!.subarray(0, this.#used));
        this.#sentUnchecked += this.#used;
        this.#used = 0;
        if (!this.#reuseChunks) this.#chunk = undefined;
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
    // What is not sent yet still goes out first (the acknowledgement of the other side's Leave).
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
    this.#full = [];
    this.#fullBytes = 0;
    this.#chunk = undefined;
    this.#used = 0;
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
