/**
 * The keyed challenge of local discovery: two LAN neighbours find out whether they are in
 * the same meeting without telling an outsider anything (requirement D8).
 *
 * ```
 * initiator -> nI                                                 (32 random bytes)
 * responder -> nR | HMAC(k, "responder" | idI | idR | nI | nR)    (32 + 32 bytes)
 * initiator -> HMAC(k, "initiator" | …same…) | presence record     (after checking)
 * responder -> presence record                                    (after checking)
 * ```
 *
 * `k` is the meeting's membership key; the transcript starts with its own label, so a tag
 * is never valid in the meeting handshake (`membership.ts`) and the other way round. Both
 * peer ids are the ones libp2p's Noise handshake authenticated, and both nonces are fresh:
 * a tag cannot be replayed to another peer or session. Before a side has checked the
 * other's tag it sends only random bytes and a MAC under a key the other side may not
 * hold, which look the same whatever meeting the sender is in; the presence record (which
 * carries the topic id in its signed key) travels only to a verified member.
 *
 * @module
 */
import { toHex, type TopicKeys } from "../topic.ts";

/** Length of a nonce and of a tag, in bytes. */
export const LOCAL_PROOF_BYTES = 32;

/** Which side of the challenge. */
export type LocalRole = "initiator" | "responder";

const encoder = new TextEncoder();

function _transcript(
  role: LocalRole,
  ids: [string, string],
  nonces: [Uint8Array, Uint8Array],
): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    ["meshmeet-local/v1", role, ids[0], ids[1], toHex(nonces[0]), toHex(nonces[1])].join("\n"),
  );
}

/**
 * A fresh nonce for the challenge.
 *
 * @returns {@linkcode LOCAL_PROOF_BYTES} random bytes.
 *
 * @example
 * ```ts ignore
 * const nonce = localNonce();
 * ```
 */
export function localNonce(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(LOCAL_PROOF_BYTES));
}

/**
 * Compute one side's tag.
 *
 * @param keys The meeting's keys (only the membership key is used).
 * @param role Which side proves.
 * @param ids Initiator and responder peer ids.
 * @param nonces Initiator and responder nonces.
 * @returns The tag ({@linkcode LOCAL_PROOF_BYTES} bytes).
 *
 * @example
 * ```ts ignore
 * const tag = await localTag(keys, "responder", [idI, idR], [nI, nR]);
 * ```
 */
export async function localTag(
  keys: Pick<TopicKeys, "membershipKey">,
  role: LocalRole,
  ids: [string, string],
  nonces: [Uint8Array, Uint8Array],
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", keys.membershipKey, _transcript(role, ids, nonces)),
  );
}

/**
 * Check one side's tag in constant time.
 *
 * @param keys The meeting's keys.
 * @param role Which side proved.
 * @param ids Initiator and responder peer ids.
 * @param nonces Initiator and responder nonces.
 * @param tag The tag received.
 * @returns Whether the other side holds this meeting's key.
 *
 * @example
 * ```ts ignore
 * if (!await verifyLocalTag(keys, "responder", [idI, idR], [nI, nR], tag)) return;
 * ```
 */
export async function verifyLocalTag(
  keys: Pick<TopicKeys, "membershipKey">,
  role: LocalRole,
  ids: [string, string],
  nonces: [Uint8Array, Uint8Array],
  tag: Uint8Array,
): Promise<boolean> {
  if (tag.length !== LOCAL_PROOF_BYTES) return false;
  return await crypto.subtle.verify(
    "HMAC",
    keys.membershipKey,
    new Uint8Array(tag),
    _transcript(role, ids, nonces),
  );
}
