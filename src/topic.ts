/**
 * From an invitation code to the keys of its meeting. This is the only module that ever
 * sees the code; only derived values leave it.
 *
 * 1. The code is normalized ({@linkcode normalizeInvitationCode}).
 * 2. It is stretched with PBKDF2-HMAC-SHA-256, {@linkcode TOPIC_KDF_ITERATIONS} rounds in
 *    all, with a fixed application salt, so that guessing codes from a topic id costs that
 *    many hash rounds per guess. The rounds are split over {@linkcode TOPIC_KDF_LANES}
 *    independent lanes (each its own salt, `TOPIC_KDF_SALT/<lane>`, and a quarter of the
 *    rounds), as Argon2 splits its work over lanes: a guess still costs every round of
 *    every lane, but a joining member with several cores runs the lanes at once. On the
 *    2-core development VM one 600,000-round PBKDF2 took 80 ms in Deno and 117 ms in Node,
 *    four lanes of 150,000 rounds 50–56 ms and 59–64 ms; the derivation is the first step
 *    of every join, and nothing can be looked up before it ends.
 * 3. HKDF-SHA-256 expands the lanes' outputs, concatenated, into independent keys, one per
 *    purpose:
 *    - `topicId`: public, what the DHT and the control API see (hex, 64 characters);
 *    - `recordKey`: AES-256-GCM, encrypts presence records;
 *    - `membershipKey`: HMAC-SHA-256, proves knowledge of the code in the handshake.
 *
 * @module
 */
import { normalizeInvitationCode } from "./invitation_code.ts";

/** PBKDF2 rounds applied to the invitation code, all lanes together (cost of one guess). */
export const TOPIC_KDF_ITERATIONS = 600_000;
/** Independent PBKDF2 lanes the rounds are split over (run at once where there are cores). */
export const TOPIC_KDF_LANES = 4;
/** The fixed application salt of the PBKDF2 step (domain separation from other apps). */
export const TOPIC_KDF_SALT = "meshmeet/v2/invitation-code";

/** The keys of one meeting, derived from its invitation code. */
export interface TopicKeys {
  /** Public id of the meeting's topic: 64 lower-case hex characters. Safe to log and show. */
  readonly topicId: string;
  /** The topic id as bytes (32). */
  readonly topicIdBytes: Uint8Array;
  /** AES-256-GCM key that encrypts and decrypts presence records (not extractable). */
  readonly recordKey: CryptoKey;
  /** HMAC-SHA-256 key for membership proofs (not extractable). */
  readonly membershipKey: CryptoKey;
}

const encoder = new TextEncoder();

/**
 * Derive the keys of the meeting that an invitation code opens.
 *
 * @param code The invitation code as typed (it is normalized first).
 * @returns The public topic id and the meeting's secret keys.
 * @throws {InvalidInvitationCodeError} When the code is empty, too short or malformed.
 *
 * @example Two spellings of one code give the same topic
 * ```ts
 * import { deriveTopicKeys } from "@meshmeet/core";
 * const a = await deriveTopicKeys("maple harbor sunset meadow pilot 4821");
 * const b = await deriveTopicKeys("Maple-Harbor-Sunset-Meadow-Pilot-4821");
 * console.log(a.topicId === b.topicId); // true
 * ```
 */
export async function deriveTopicKeys(code: string): Promise<TopicKeys> {
  const normalized = normalizeInvitationCode(code);
  const password = await crypto.subtle.importKey(
    "raw",
    encoder.encode(normalized),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const lanes = await Promise.all(
    Array.from({ length: TOPIC_KDF_LANES }, (_, lane) =>
      crypto.subtle.deriveBits(
        {
          name: "PBKDF2",
          hash: "SHA-256",
          salt: encoder.encode(`${TOPIC_KDF_SALT}/${lane}`),
          iterations: TOPIC_KDF_ITERATIONS / TOPIC_KDF_LANES,
        },
        password,
        256,
      )),
  );
  const stretched = new Uint8Array(32 * TOPIC_KDF_LANES);
  lanes.forEach((bits, lane) => stretched.set(new Uint8Array(bits), 32 * lane));
  const master = await crypto.subtle.importKey("raw", stretched, "HKDF", false, [
    "deriveBits",
    "deriveKey",
  ]);
  const hkdf = (info: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: new Uint8Array(0),
    info: encoder.encode(`meshmeet/v2/${info}`),
  });
  const [topicBits, recordKey, membershipKey] = await Promise.all([
    crypto.subtle.deriveBits(hkdf("topic-id"), master, 256),
    crypto.subtle.deriveKey(hkdf("record-key"), master, { name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]),
    crypto.subtle.deriveKey(
      hkdf("membership-key"),
      master,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    ),
  ]);
  const topicIdBytes = new Uint8Array(topicBits);
  return { topicId: toHex(topicIdBytes), topicIdBytes, recordKey, membershipKey };
}

/**
 * Check that a string is a well-formed topic id (64 lower-case hex characters).
 *
 * @param topicId The candidate.
 * @returns Whether it is a topic id.
 *
 * @example
 * ```ts
 * import { isTopicId } from "@meshmeet/core";
 * isTopicId("ab".repeat(32)); // true
 * ```
 */
export function isTopicId(topicId: string): boolean {
  return typeof topicId === "string" && /^[0-9a-f]{64}$/.test(topicId);
}

/**
 * Lower-case hex of some bytes.
 *
 * @param bytes The bytes.
 * @returns Their hex form.
 *
 * @example
 * ```ts
 * import { toHex } from "@meshmeet/core";
 * toHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Bytes of a lower-case hex string.
 *
 * @param hex An even-length hex string.
 * @returns The bytes.
 * @throws {TypeError} When the string is not hex of even length.
 *
 * @example
 * ```ts
 * import { fromHex } from "@meshmeet/core";
 * fromHex("01ff"); // Uint8Array [1, 255]
 * ```
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
    throw new TypeError(`Expected an even-length hex string, got ${JSON.stringify(hex)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
