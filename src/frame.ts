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
import {
  checkHeader,
  type Frame,
  FRAME_HEADER_SIZE,
  FRAME_OVERHEAD,
  FRAME_TRAILER_SIZE,
  FRAME_VERSION,
  type FrameOptions,
  MAGIC_0,
  MAGIC_1,
  MAX_TYPE,
  MIN_TYPE,
  readFrame,
  resolveMaxPayload,
  TYPE_CODES,
  U32_MAX,
} from "./frame_format.ts";

export {
  DEFAULT_MAX_PAYLOAD,
  type Frame,
  FRAME_HEADER_SIZE,
  FRAME_TRAILER_SIZE,
  FRAME_VERSION,
  FrameFlags,
  type FrameOptions,
  FrameType,
  type FrameTypeCode,
  type FrameTypeName,
} from "./frame_format.ts";
export { FrameDecoder } from "./frame_decoder.ts";

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
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
