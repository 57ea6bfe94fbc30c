/**
 * Presence records: who is in a meeting and how to reach them (requirements D4, D6, S3).
 *
 * A presence record is a {@linkcode SignedRecord} under `/meshmeet/<topic id>/<peer id>`
 * whose payload is encrypted with the meeting's record key (AES-256-GCM, fresh 96-bit IV,
 * the DHT key and sequence number as additional data). DHT servers can check the
 * signature and the expiry, but only holders of the invitation code can read the name and
 * addresses inside.
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { InvalidRecordError } from "./errors.ts";
import {
  openRecord,
  RECORD_CLOCK_SKEW_MS,
  recordKey,
  type SignedRecord,
  signRecord,
} from "./record.ts";
import type { TopicKeys } from "./topic.ts";

/** Longest display name, in characters. */
export const MAX_NAME_LENGTH = 64;
/** Most addresses one presence record may list. */
export const MAX_PRESENCE_ADDRESSES = 16;

/** What a participant tells the others about itself. */
export interface PresenceInfo {
  /** The participant's peer id. */
  peerId: string;
  /** Display name. */
  name: string;
  /** When it joined (ms since the epoch). */
  joinedAt: number;
  /** Multiaddrs it can be reached at (relay circuit + WebRTC, and others). */
  addresses: string[];
  /** Its public address as learned through STUN (`ip:port`), when known. */
  publicAddress?: string;
  /**
   * Set in the record a member publishes as it leaves: it replaces the earlier ones (higher
   * sequence number), so that newcomers do not spend dials on a member that is gone.
   */
  left?: boolean;
}

/** A decrypted, verified presence record. */
export interface Presence {
  /** The contents. */
  info: PresenceInfo;
  /** The verified envelope (sequence number, expiry). */
  record: SignedRecord;
  /** The encoded record, as stored in the DHT (can be handed on as proof of membership). */
  bytes: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function _aad(key: string, seq: number): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${key}\0${seq}`);
}

/**
 * The DHT key of a participant's presence record in a meeting.
 *
 * @param keys The meeting's keys.
 * @param peerId The participant.
 * @returns `/meshmeet/<topic id>/<peer id>`.
 *
 * @example
 * ```ts ignore
 * presenceKey(keys, node.peerId.toString());
 * ```
 */
export function presenceKey(keys: TopicKeys, peerId: string): string {
  return recordKey(keys.topicId, peerId);
}

/**
 * Encrypt and sign a presence record.
 *
 * @param keys The meeting's keys.
 * @param privateKey The participant's key (its peer id must equal `info.peerId`).
 * @param info What to publish.
 * @param options Sequence number and lifetime.
 * @returns The DHT key and the record bytes.
 * @throws {TypeError} When the name or the address list is over the limits.
 *
 * @example
 * ```ts ignore
 * const { key, bytes } = await sealPresence(keys, privateKey, info, { seq: Date.now(), ttlMs: 60_000 });
 * ```
 */
export async function sealPresence(
  keys: TopicKeys,
  privateKey: PrivateKey,
  info: PresenceInfo,
  options: { seq: number; ttlMs: number; now?: number },
): Promise<{ key: string; bytes: Uint8Array }> {
  _checkInfo(info);
  const key = presenceKey(keys, info.peerId);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: _aad(key, options.seq) },
      keys.recordKey,
      encoder.encode(JSON.stringify(info)),
    ),
  );
  const payload = new Uint8Array(iv.length + ciphertext.length);
  payload.set(iv, 0);
  payload.set(ciphertext, iv.length);
  const bytes = await signRecord(privateKey, {
    key,
    seq: options.seq,
    ttlMs: options.ttlMs,
    payload,
    now: options.now,
  });
  return { key, bytes };
}

/**
 * Verify and decrypt a presence record.
 *
 * @param keys The meeting's keys.
 * @param peerId Whose record this is supposed to be.
 * @param bytes The record bytes.
 * @param options `now` for the expiry check; `minSeq` to reject replays of older records.
 * @returns The decrypted presence.
 * @throws {InvalidRecordError} When the record is forged, expired, replayed (seq below
 * `minSeq`), cannot be decrypted with this meeting's key, or its contents are malformed.
 *
 * @example
 * ```ts ignore
 * const { info } = await openPresence(keys, peerId, bytes, { minSeq: lastSeen + 1 });
 * ```
 */
export async function openPresence(
  keys: TopicKeys,
  peerId: string,
  bytes: Uint8Array,
  options: { now?: number; minSeq?: number } = {},
): Promise<Presence> {
  const key = presenceKey(keys, peerId);
  // Members' clocks may differ (issue 12: ±2 minutes); see RECORD_CLOCK_SKEW_MS.
  const record = await openRecord(key, bytes, {
    now: options.now,
    expiryGraceMs: RECORD_CLOCK_SKEW_MS,
  });
  if (options.minSeq !== undefined && record.seq < options.minSeq) {
    throw new InvalidRecordError(
      `Invalid record: sequence ${record.seq} is older than ${options.minSeq} (replayed)`,
    );
  }
  if (record.payload.length < 12 + 16) {
    throw new InvalidRecordError("Invalid record: payload too short to be encrypted");
  }
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: record.payload.slice(0, 12),
          additionalData: _aad(key, record.seq),
        },
        keys.recordKey,
        record.payload.slice(12),
      ),
    );
  } catch (cause) {
    throw new InvalidRecordError(
      "Invalid record: cannot be decrypted with this meeting's key (another meeting, or tampered)",
      { cause },
    );
  }
  let info: PresenceInfo;
  try {
    info = JSON.parse(decoder.decode(plaintext));
    _checkInfo(info);
  } catch (cause) {
    throw new InvalidRecordError("Invalid record: decrypted contents are malformed", { cause });
  }
  if (info.peerId !== record.signer) {
    throw new InvalidRecordError(
      `Invalid record: it names ${info.peerId} but was signed by ${record.signer}`,
    );
  }
  return { info, record, bytes };
}

function _checkInfo(info: PresenceInfo): void {
  if (info === null || typeof info !== "object") throw new TypeError("presence must be an object");
  if (typeof info.peerId !== "string" || info.peerId.length === 0) {
    throw new TypeError("presence.peerId must be a non-empty string");
  }
  if (typeof info.name !== "string" || info.name.length > MAX_NAME_LENGTH) {
    throw new TypeError(`presence.name must be a string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (!Number.isFinite(info.joinedAt)) throw new TypeError("presence.joinedAt must be a number");
  if (
    !Array.isArray(info.addresses) || info.addresses.length > MAX_PRESENCE_ADDRESSES ||
    info.addresses.some((a) => typeof a !== "string" || a.length > 512)
  ) {
    throw new TypeError(
      `presence.addresses must be at most ${MAX_PRESENCE_ADDRESSES} multiaddr strings`,
    );
  }
  if (info.publicAddress !== undefined && typeof info.publicAddress !== "string") {
    throw new TypeError("presence.publicAddress must be a string");
  }
  if (info.left !== undefined && typeof info.left !== "boolean") {
    throw new TypeError("presence.left must be a boolean");
  }
}
