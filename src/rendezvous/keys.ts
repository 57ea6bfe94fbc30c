/**
 * Where a meeting lives in the DHT: the CID its members provide, and the key of each
 * member's presence record (`/meshmeet/<topic id>/<peer id>`, see `presence.ts`).
 *
 * @module
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { presenceKey } from "../presence.ts";
import type { TopicKeys } from "../topic.ts";

/**
 * The CID under which a topic's participants are providers.
 *
 * @param topicIdBytes The topic id.
 * @returns CIDv1, raw codec, SHA-256 of the topic id.
 *
 * @example
 * ```ts ignore
 * const cid = await topicCid(keys.topicIdBytes);
 * ```
 */
export async function topicCid(topicIdBytes: Uint8Array): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(topicIdBytes));
}

/**
 * The DHT key of a member's presence record, as bytes (`presenceKey()`).
 *
 * @param keys The meeting's keys.
 * @param peerId The member.
 * @returns The key's UTF-8 bytes.
 */
export function presenceDhtKey(keys: TopicKeys, peerId: string): Uint8Array {
  return new TextEncoder().encode(presenceKey(keys, peerId));
}
