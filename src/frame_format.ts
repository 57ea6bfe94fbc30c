/**
 * The layout of a frame of the meeting protocol (requirement M2): its version, sizes, types
 * and flags, the {@linkcode Frame} shape, and the header checks and frame reads that
 * `decodeFrame` (`frame.ts`) and `FrameDecoder` (`frame_decoder.ts`) share. Import from
 * `frame.ts`, which re-exports the public part and documents the layout.
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

/** Options of `encodeFrame`, `decodeFrame` and `FrameDecoder` (all exported by `frame.ts`). */
export interface FrameOptions {
  /**
   * The largest payload in bytes that is written or accepted. Both sides of a stream
   * should use the same limit.
   * @default {1048576}
   */
  maxPayload?: number;
}

/** The first two bytes of every frame ("MM"). */
export const MAGIC_0 = 0x4d;
/** See {@linkcode MAGIC_0}. */
export const MAGIC_1 = 0x4d;
/** The largest unsigned 32-bit integer (seq, ref, payload length). */
export const U32_MAX = 0xffff_ffff;
/** Header and trailer: a frame's size is this plus its payload's. */
export const FRAME_OVERHEAD = FRAME_HEADER_SIZE + FRAME_TRAILER_SIZE;
/** The codes of {@linkcode FrameType}. */
export const TYPE_CODES: ReadonlySet<number> = new Set(Object.values(FrameType));
/** The lowest type code. */
export const MIN_TYPE = Math.min(...TYPE_CODES);
/** The highest type code. */
export const MAX_TYPE = Math.max(...TYPE_CODES);

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

/** Read the big-endian unsigned 32-bit integer at `offset`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

/** The `maxPayload` of `options`, checked (`caller` starts the error message). */
export function resolveMaxPayload(options: FrameOptions | undefined, caller: string): number {
  const maxPayload = options?.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!Number.isInteger(maxPayload) || maxPayload < 0 || maxPayload > U32_MAX) {
    throw new TypeError(
      `${caller}: maxPayload "${maxPayload}" is invalid (expected an integer from 0 to ${U32_MAX})`,
    );
  }
  return maxPayload;
}

/**
 * Validate the header fields of the frame at `offset` that lie within `available`
 * bytes, and return the declared payload length once all 20 header bytes are there.
 */
export function checkHeader(
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
export function readFrame(bytes: Uint8Array, offset: number, length: number, copy: boolean): Frame {
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
