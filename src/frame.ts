/**
 * Wire framing of the meeting protocol (requirement M2): framed, versioned, typed
 * messages with sequence numbers and an integrity check. Malformed frames are rejected.
 *
 * Layout, all integers big-endian:
 *
 * | Offset | Size | Field                                                   |
 * | -----: | ---: | ------------------------------------------------------- |
 * |      0 |    2 | magic `0x4D 0x4D` ("MM")                                |
 * |      2 |    1 | version ({@linkcode FRAME_VERSION})                     |
 * |      3 |    1 | type ({@linkcode FrameType})                            |
 * |      4 |    1 | flags ({@linkcode FrameFlags})                          |
 * |      5 |    1 | channel (0 to 255, an application sub-stream id)        |
 * |      6 |    2 | reserved, must be 0                                     |
 * |      8 |    4 | seq                                                     |
 * |     12 |    4 | ref (the seq being acked, or a request id)              |
 * |     16 |    4 | payload length N                                        |
 * |     20 |    N | payload                                                 |
 * |   20+N |    4 | CRC-32 (IEEE) of bytes `[0, 20+N)`                      |
 *
 * Use {@linkcode encodeFrame} and {@linkcode decodeFrame} for one frame at a time and
 * {@linkcode FrameDecoder} to cut a byte stream with arbitrary chunk boundaries into
 * frames.
 *
 * @module
 */

import { crc32 } from "./_crc32.ts";
import { FrameTooLargeError, InvalidFrameError } from "./errors.ts";

/** The protocol version this node speaks and writes into every frame. */
export const FRAME_VERSION = 1;

/** Size in bytes of the fixed header that precedes the payload. */
export const FRAME_HEADER_SIZE = 20;

/** Size in bytes of the CRC-32 trailer that follows the payload. */
export const FRAME_TRAILER_SIZE = 4;

/** The default limit on a frame's payload: 1 MiB (1048576 bytes). */
export const DEFAULT_MAX_PAYLOAD = 1_048_576;

/** The message types of the meeting protocol and their codes on the wire. */
export const FrameType = {
  /** Opens a session. */
  Hello: 1,
  /** Membership proof of the handshake. */
  Proof: 2,
  /** Application data. */
  Data: 3,
  /** Acknowledges the frame whose seq is in `ref`. */
  Ack: 4,
  /** Liveness probe. */
  Ping: 5,
  /** Answer to a {@linkcode FrameType.Ping}. */
  Pong: 6,
  /** Participant presence update. */
  Presence: 7,
  /** A request; its id is in `ref`. */
  Request: 8,
  /** The response to the request whose id is in `ref`. */
  Response: 9,
  /** The sender leaves the meeting. */
  Leave: 10,
  /** Negative acknowledgement of the frame whose seq is in `ref`. */
  Nack: 11,
  /** WebRTC signaling (offer, answer, ICE candidates) on a signaling stream. */
  Signal: 12,
  /** A message of the meeting overlay (mesh, roster, relayed broadcast; `src/overlay/`). */
  Overlay: 13,
} as const;

/** The name of a frame type, e.g. `"Data"`. */
export type FrameTypeName = keyof typeof FrameType;

/** The code of a frame type on the wire, e.g. `3` for `"Data"`. */
export type FrameTypeCode = typeof FrameType[FrameTypeName];

/**
 * Bits of a frame's `flags` byte. Other bits are reserved: they are carried unchanged
 * and ignored by this version.
 */
export const FrameFlags = {
  /** The sender wants an {@linkcode FrameType.Ack} for this frame. */
  AckRequested: 1,
  /**
   * On an {@linkcode FrameType.Ack}: it acknowledges every reliable frame up to and
   * including `ref` (frames are delivered in order, so one ack can cover a burst).
   */
  Cumulative: 4,
} as const;

/** One decoded frame of the meeting protocol. */
export interface Frame {
  /** The message type. */
  type: FrameTypeCode;
  /** Bit set of {@linkcode FrameFlags} (0 to 255). */
  flags: number;
  /** Application sub-stream id (0 to 255). */
  channel: number;
  /** Sequence number of this frame (unsigned 32-bit). */
  seq: number;
  /** The seq being acked, or a request id (unsigned 32-bit); 0 when unused. */
  ref: number;
  /** The message body. */
  payload: Uint8Array;
}

/** Options of {@linkcode encodeFrame}, {@linkcode decodeFrame} and {@linkcode FrameDecoder}. */
export interface FrameOptions {
  /**
   * The largest payload in bytes that is written or accepted. Both sides of a stream
   * should use the same limit.
   * @default {1048576}
   */
  maxPayload?: number;
}

const MAGIC_0 = 0x4d;
const MAGIC_1 = 0x4d;
const U32_MAX = 0xffff_ffff;
const FRAME_OVERHEAD = FRAME_HEADER_SIZE + FRAME_TRAILER_SIZE;
const TYPE_CODES: ReadonlySet<number> = new Set(Object.values(FrameType));
const MIN_TYPE = Math.min(...TYPE_CODES);
const MAX_TYPE = Math.max(...TYPE_CODES);
/** A decoder buffer larger than this is dropped once the frame it held is complete. */
const KEEP_BUFFER_BYTES = 64 * 1024;
const INITIAL_BUFFER_BYTES = 256;

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function resolveMaxPayload(options: FrameOptions | undefined, caller: string): number {
  const maxPayload = options?.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!Number.isInteger(maxPayload) || maxPayload < 0 || maxPayload > U32_MAX) {
    throw new TypeError(
      `${caller}: maxPayload "${maxPayload}" is invalid (expected an integer from 0 to ${U32_MAX})`,
    );
  }
  return maxPayload;
}

function checkUint(name: string, value: unknown, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new TypeError(
      `Cannot encode frame: ${name} "${String(value)}" is out of range ` +
        `(expected an integer from 0 to ${max})`,
    );
  }
}

/**
 * Validate the header fields of the frame at `offset` that lie within `available`
 * bytes, and return the declared payload length once all 20 header bytes are there.
 */
function checkHeader(
  bytes: Uint8Array,
  offset: number,
  available: number,
  maxPayload: number,
): number | undefined {
  if (
    (available >= 1 && bytes[offset] !== MAGIC_0) ||
    (available >= 2 && bytes[offset + 1] !== MAGIC_1)
  ) {
    const got = Array.from(bytes.subarray(offset, offset + Math.min(available, 2)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    throw new InvalidFrameError(
      `Invalid frame: bad magic (expected 0x4d4d "MM", got 0x${got}); ` +
        `the peer does not speak the meshmeet protocol, close the stream`,
    );
  }
  if (available < 3) return undefined;
  const version = bytes[offset + 2];
  if (version !== FRAME_VERSION) {
    const upgrade = version > FRAME_VERSION ? "this node" : "the peer";
    throw new InvalidFrameError(
      `Invalid frame: unsupported version "${version}" ` +
        `(this node speaks version ${FRAME_VERSION}; upgrade ${upgrade})`,
    );
  }
  if (available < 4) return undefined;
  const type = bytes[offset + 3];
  if (!TYPE_CODES.has(type)) {
    throw new InvalidFrameError(
      `Invalid frame: unknown type "${type}" (expected ${MIN_TYPE} to ${MAX_TYPE}); ` +
        `the stream is corrupt or the peer is incompatible, close it`,
    );
  }
  if (available < 8) return undefined;
  const reserved = (bytes[offset + 6] << 8) | bytes[offset + 7];
  if (reserved !== 0) {
    throw new InvalidFrameError(
      `Invalid frame: reserved bytes are ${hex(reserved, 4)} (expected 0x0000); ` +
        `the stream is corrupt or the peer is incompatible, close it`,
    );
  }
  if (available < FRAME_HEADER_SIZE) return undefined;
  const length = readU32(bytes, offset + 16);
  if (length > maxPayload) {
    throw new FrameTooLargeError(
      `Frame too large: declared payload length "${length}" bytes exceeds the limit of ` +
        `${maxPayload} bytes; close the stream, or raise maxPayload on both sides`,
    );
  }
  return length;
}

/**
 * Check the CRC of the complete frame `bytes[offset, offset + 24 + length)` and build the
 * frame. The payload is a copy when `copy` is set, else a view into `bytes`.
 */
function readFrame(bytes: Uint8Array, offset: number, length: number, copy: boolean): Frame {
  const end = offset + FRAME_HEADER_SIZE + length;
  const expected = readU32(bytes, end);
  const actual = crc32(bytes.subarray(offset, end));
  if (actual !== expected) {
    throw new InvalidFrameError(
      `Invalid frame: checksum mismatch (expected ${hex(expected, 8)}, got ${hex(actual, 8)}); ` +
        `the stream is corrupt, close it`,
    );
  }
  const payload = copy
    ? bytes.slice(offset + FRAME_HEADER_SIZE, end)
    : bytes.subarray(offset + FRAME_HEADER_SIZE, end);
  return {
    type: bytes[offset + 3] as FrameTypeCode,
    flags: bytes[offset + 4],
    channel: bytes[offset + 5],
    seq: readU32(bytes, offset + 8),
    ref: readU32(bytes, offset + 12),
    payload,
  };
}

/**
 * Encode one frame into its wire bytes (header, payload, CRC-32 trailer).
 *
 * @param frame The frame to encode; its payload is copied.
 * @param options `maxPayload`, the largest payload accepted (default 1 MiB).
 * @returns A new buffer of `FRAME_HEADER_SIZE + payload.length + FRAME_TRAILER_SIZE` bytes.
 * @throws {TypeError} If `type` is not a {@linkcode FrameType} code, `flags` or `channel`
 * is not an integer from 0 to 255, `seq` or `ref` is not an integer from 0 to 0xFFFFFFFF,
 * `payload` is not a `Uint8Array`, or `maxPayload` is invalid.
 * @throws {FrameTooLargeError} If the payload is larger than `maxPayload`.
 *
 * @example Encode a data frame that asks for an acknowledgement
 * ```ts
 * import { encodeFrame, FrameFlags, FrameType } from "./frame.ts";
 * const bytes = encodeFrame({
 *   type: FrameType.Data,
 *   flags: FrameFlags.AckRequested,
 *   channel: 0,
 *   seq: 1,
 *   ref: 0,
 *   payload: new TextEncoder().encode("hello"),
 * });
 * bytes.length; // 20 + 5 + 4 = 29
 * ```
 */
export function encodeFrame(frame: Frame, options?: FrameOptions): Uint8Array {
  const header = encodeFrameHeader(frame, options);
  const { payload } = frame;
  const end = FRAME_HEADER_SIZE + payload.length;
  const bytes = new Uint8Array(end + FRAME_TRAILER_SIZE);
  bytes.set(header);
  bytes.set(payload, FRAME_HEADER_SIZE);
  writeU32(bytes, end, crc32(payload, crc32(header)));
  return bytes;
}

/**
 * Encode a frame's header and checksum trailer, not its payload: a writer that copies
 * the payload straight into its own buffer (see `DataChannelFrames`) writes `header`,
 * then `frame.payload`, then `trailer`, and the bytes equal those of
 * {@linkcode encodeFrame}.
 *
 * @param frame The frame (checked as by {@linkcode encodeFrame}).
 * @param options `maxPayload`, the largest payload accepted (default 1 MiB).
 * @returns The 20-byte header and the 4-byte trailer.
 * @throws {TypeError} As {@linkcode encodeFrame}.
 * @throws {FrameTooLargeError} If the payload is larger than `maxPayload`.
 *
 * @example The pieces make the frame
 * ```ts
 * import { encodeFrame, encodeFrameEnds, FrameType } from "./frame.ts";
 * const frame = { type: FrameType.Data, flags: 0, channel: 0, seq: 1, ref: 0, payload: new Uint8Array([1, 2]) };
 * const { header, trailer } = encodeFrameEnds(frame);
 * header.length + frame.payload.length + trailer.length === encodeFrame(frame).length; // true
 * ```
 */
export function encodeFrameEnds(
  frame: Frame,
  options?: FrameOptions,
): { header: Uint8Array; trailer: Uint8Array } {
  const header = encodeFrameHeader(frame, options);
  const trailer = new Uint8Array(FRAME_TRAILER_SIZE);
  writeU32(trailer, 0, crc32(frame.payload, crc32(header)));
  return { header, trailer };
}

/** Check a frame and encode its 20-byte header. */
function encodeFrameHeader(frame: Frame, options: FrameOptions | undefined): Uint8Array {
  const maxPayload = resolveMaxPayload(options, "Cannot encode frame");
  if (typeof frame !== "object" || frame === null) {
    throw new TypeError(`Cannot encode frame: expected a frame object, got "${String(frame)}"`);
  }
  const { type, flags, channel, seq, ref, payload } = frame;
  if (typeof type !== "number" || !TYPE_CODES.has(type)) {
    throw new TypeError(
      `Cannot encode frame: unknown type "${String(type)}" ` +
        `(expected a FrameType code from ${MIN_TYPE} to ${MAX_TYPE})`,
    );
  }
  checkUint("flags", flags, 0xff);
  checkUint("channel", channel, 0xff);
  checkUint("seq", seq, U32_MAX);
  checkUint("ref", ref, U32_MAX);
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot encode frame: payload must be a Uint8Array, got "${
        Object.prototype.toString.call(payload)
      }"`,
    );
  }
  if (payload.length > maxPayload) {
    throw new FrameTooLargeError(
      `Cannot encode frame: payload of ${payload.length} bytes exceeds the limit of ` +
        `${maxPayload} bytes (maxPayload); split the message, or raise maxPayload on both sides`,
    );
  }
  // 20 bytes: small enough for V8 to keep on its own heap (no backing store to allocate).
  const header = new Uint8Array(FRAME_HEADER_SIZE);
  header[0] = MAGIC_0;
  header[1] = MAGIC_1;
  header[2] = FRAME_VERSION;
  header[3] = type;
  header[4] = flags;
  header[5] = channel;
  // bytes 6 and 7 (reserved) stay 0
  writeU32(header, 8, seq);
  writeU32(header, 12, ref);
  writeU32(header, 16, payload.length);
  return header;
}

/**
 * Decode exactly one complete frame.
 *
 * The returned payload is a view into `bytes`, not a copy: copy it with `.slice()` if
 * `bytes` will be overwritten. To read frames from a stream, use {@linkcode FrameDecoder}.
 *
 * @param bytes The wire bytes of one frame, nothing before or after it.
 * @param options `maxPayload`, the largest declared payload accepted (default 1 MiB).
 * @returns The decoded frame.
 * @throws {InvalidFrameError} If the bytes are truncated or followed by trailing bytes, or
 * the magic, version, type, reserved bytes or checksum are wrong.
 * @throws {FrameTooLargeError} If the declared payload length exceeds `maxPayload`.
 * @throws {TypeError} If `bytes` is not a `Uint8Array` or `maxPayload` is invalid.
 *
 * @example Round trip a ping
 * ```ts
 * import { decodeFrame, encodeFrame, FrameType } from "./frame.ts";
 * const payload = new Uint8Array(0);
 * const frame = decodeFrame(
 *   encodeFrame({ type: FrameType.Ping, flags: 0, channel: 0, seq: 7, ref: 0, payload }),
 * );
 * frame.seq; // 7
 * ```
 */
export function decodeFrame(bytes: Uint8Array, options?: FrameOptions): Frame {
  const maxPayload = resolveMaxPayload(options, "Cannot decode frame");
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode frame: expected a Uint8Array, got "${Object.prototype.toString.call(bytes)}"`,
    );
  }
  const length = checkHeader(bytes, 0, bytes.length, maxPayload);
  if (length === undefined) {
    throw new InvalidFrameError(
      `Invalid frame: truncated header (got ${bytes.length} of ${FRAME_HEADER_SIZE} bytes); ` +
        `pass one complete frame, or use FrameDecoder for a stream`,
    );
  }
  const total = length + FRAME_OVERHEAD;
  if (bytes.length < total) {
    throw new InvalidFrameError(
      `Invalid frame: truncated (got ${bytes.length} of ${total} bytes); ` +
        `pass one complete frame, or use FrameDecoder for a stream`,
    );
  }
  if (bytes.length > total) {
    throw new InvalidFrameError(
      `Invalid frame: ${bytes.length - total} trailing bytes after a frame of ${total} bytes; ` +
        `pass exactly one frame, or use FrameDecoder for a stream`,
    );
  }
  return readFrame(bytes, 0, length, false);
}

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
