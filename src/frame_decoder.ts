/**
 * Cutting a byte stream into frames of the meeting protocol, whatever the chunk boundaries
 * (see `frame.ts` for the layout; {@linkcode FrameDecoder} is re-exported there).
 *
 * @module
 */

import { InvalidFrameError } from "./errors.ts";
import {
  checkHeader,
  type Frame,
  FRAME_HEADER_SIZE,
  FRAME_OVERHEAD,
  type FrameOptions,
  readFrame,
  resolveMaxPayload,
} from "./frame_format.ts";

/** A decoder buffer larger than this is dropped once the frame it held is complete. */
const KEEP_BUFFER_BYTES = 64 * 1024;
const INITIAL_BUFFER_BYTES = 256;

/**
 * Cuts a byte stream into frames, whatever the chunk boundaries.
 *
 * Each header is checked as soon as its bytes arrive, so garbage and oversized declared
 * lengths are rejected before any payload is buffered. After any error the decoder is
 * poisoned: the stream has lost its framing and must be closed.
 *
 * Returned payloads are fresh copies: they never share memory with the pushed chunks or
 * with the decoder's internal buffer.
 *
 * @example Decode frames from a stream of chunks
 * ```ts
 * import { encodeFrame, FrameDecoder, FrameType } from "./frame.ts";
 * const bytes = encodeFrame({
 *   type: FrameType.Data,
 *   flags: 0,
 *   channel: 2,
 *   seq: 1,
 *   ref: 0,
 *   payload: new Uint8Array([1, 2, 3]),
 * });
 * const decoder = new FrameDecoder();
 * decoder.push(bytes.subarray(0, 10)); // [] (incomplete)
 * const frames = decoder.push(bytes.subarray(10)); // [one frame]
 * frames[0].channel; // 2
 * ```
 */
export class FrameDecoder {
  readonly #maxPayload: number;
  /** Holds the bytes of the one incomplete frame, at `[0, #filled)`. */
  #buffer: Uint8Array = new Uint8Array(INITIAL_BUFFER_BYTES);
  #filled = 0;
  /** Total size of the incomplete frame once its header is known, else 0. */
  #frameSize = 0;
  #failure: Error | undefined;

  /**
   * Create a decoder for one stream.
   *
   * @param options `maxPayload`, the largest declared payload accepted (default 1 MiB).
   * @throws {TypeError} If `maxPayload` is not an integer from 0 to 0xFFFFFFFF.
   */
  constructor(options?: FrameOptions) {
    this.#maxPayload = resolveMaxPayload(options, "Cannot create FrameDecoder");
  }

  /**
   * The number of bytes held for a frame that is not complete yet.
   *
   * @returns 0 when the stream is between frames.
   *
   * @example Watch a frame come in
   * ```ts
   * import { FrameDecoder } from "./frame.ts";
   * const decoder = new FrameDecoder();
   * decoder.push(new Uint8Array([0x4d, 0x4d, 1]));
   * decoder.bufferedBytes; // 3
   * ```
   */
  get bufferedBytes(): number {
    return this.#filled;
  }

  /**
   * Add the next chunk of the stream and return the frames it completes.
   *
   * @param chunk The next bytes of the stream, any length; it is not kept after the call.
   * @returns The frames completed by this chunk, in stream order (often none).
   * @throws {InvalidFrameError} If a frame is malformed (bad magic, version, type, reserved
   * bytes or checksum), or the decoder is poisoned by an earlier error.
   * @throws {FrameTooLargeError} If a header declares a payload larger than `maxPayload`.
   * @throws {TypeError} If `chunk` is not a `Uint8Array` (the decoder stays usable).
   *
   * @example Feed a frame one byte at a time
   * ```ts
   * import { encodeFrame, FrameDecoder, FrameType } from "./frame.ts";
   * const payload = new Uint8Array(0);
   * const bytes = encodeFrame({ type: FrameType.Pong, flags: 0, channel: 0, seq: 1, ref: 1, payload });
   * const decoder = new FrameDecoder();
   * const frames = [];
   * for (const byte of bytes) frames.push(...decoder.push(new Uint8Array([byte])));
   * frames.length; // 1
   * ```
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failure !== undefined) {
      throw new InvalidFrameError(
        `Invalid frame stream: the decoder failed earlier ("${this.#failure.message}"); ` +
          `the stream must be closed`,
        { cause: this.#failure },
      );
    }
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot push chunk: expected a Uint8Array, got "${Object.prototype.toString.call(chunk)}"`,
      );
    }
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      this.#filled = 0;
      this.#frameSize = 0;
      this.#buffer = new Uint8Array(0);
      throw error;
    }
  }

  #push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#filled === 0) {
        // Between frames: decode straight from the chunk, buffer only an incomplete tail.
        const available = chunk.length - pos;
        const length = checkHeader(chunk, pos, available, this.#maxPayload);
        if (length !== undefined && available >= length + FRAME_OVERHEAD) {
          frames.push(readFrame(chunk, pos, length, true));
          pos += length + FRAME_OVERHEAD;
          continue;
        }
        this.#frameSize = length === undefined ? 0 : length + FRAME_OVERHEAD;
        this.#append(chunk.subarray(pos));
        break;
      }
      if (this.#frameSize === 0) {
        // Complete the header first, then learn the frame's size.
        const take = Math.min(FRAME_HEADER_SIZE - this.#filled, chunk.length - pos);
        this.#append(chunk.subarray(pos, pos + take));
        pos += take;
        const length = checkHeader(this.#buffer, 0, this.#filled, this.#maxPayload);
        if (length === undefined) continue;
        this.#frameSize = length + FRAME_OVERHEAD;
      }
      const take = Math.min(this.#frameSize - this.#filled, chunk.length - pos);
      this.#append(chunk.subarray(pos, pos + take));
      pos += take;
      if (this.#filled === this.#frameSize) {
        const length = this.#frameSize - FRAME_OVERHEAD;
        // A buffer grown past KEEP_BUFFER_BYTES was made for this frame and is dropped
        // now, so its payload can be handed out as a view: nothing else will write to it.
        // This saves a copy of every large message (a 256 KiB message arrives in 4 or more
        // data channel messages and is always reassembled here).
        const dropBuffer = this.#buffer.length > KEEP_BUFFER_BYTES;
        frames.push(readFrame(this.#buffer, 0, length, !dropBuffer));
        this.#filled = 0;
        this.#frameSize = 0;
        if (dropBuffer) this.#buffer = new Uint8Array(INITIAL_BUFFER_BYTES);
      }
    }
    return frames;
  }

  /** Copy `bytes` after the buffered ones, growing the buffer when needed. */
  #append(bytes: Uint8Array): void {
    const needed = this.#filled + bytes.length;
    if (needed > this.#buffer.length) {
      // Grow straight to the frame's size once the header is known, else double.
      const size = this.#frameSize > 0
        ? this.#frameSize
        : Math.max(needed, this.#buffer.length * 2);
      const grown = new Uint8Array(size);
      grown.set(this.#buffer.subarray(0, this.#filled));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#filled);
    this.#filled = needed;
  }
}
