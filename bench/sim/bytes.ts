/**
 * A cheap estimate of a message's size on the wire, for the simulator's uplink model and
 * byte counters, assuming a compact binary encoding: a peer id is 38 bytes (an Ed25519
 * multihash), a signature 64, a number 8, a string its UTF-8 length plus 2.
 *
 * @module
 */
import type { MemberEntry, OverlayMessage, Rumor } from "../../src/overlay/types.ts";

const PEER = 38;
const SIG = 64;
const NUM = 8;
const str = (s: string) => s.length + 2;
/** A rumor id names a kind, a peer id and a number ("a/<peer>/<inc>"); binary: 1 + 38 + 8. */
const ID = 1 + PEER + NUM;

function entryBytes(e: MemberEntry): number {
  let n = PEER + str(e.name) + NUM + NUM + SIG + 2;
  for (const c of e.contact) n += str(c);
  return n;
}

function rumorBytes(r: Rumor): number {
  switch (r.k) {
    case "alive":
      return 1 + entryBytes(r.entry);
    case "suspect":
    case "dead":
      return 1 + PEER + NUM + PEER + SIG;
    case "left":
      return 1 + PEER + NUM + SIG;
    case "app":
      return 1 + PEER + NUM + 2 + r.payload.byteLength + 4 + SIG;
  }
}

/**
 * Estimated encoded size of an overlay message (bytes, framing included).
 *
 * @param msg The message.
 * @returns Bytes.
 */
export function estimateBytes(msg: OverlayMessage): number {
  const frame = 4;
  switch (msg.t) {
    case "hello":
      return frame + 1 + entryBytes(msg.entry) + 2 + 1 + (msg.digestBuckets ? 2 : 0);
    case "roster": {
      let n = frame + 1 + 4 + 1;
      for (const item of msg.entries) n += entryBytes(item.entry) + 1;
      return n;
    }
    case "prune": {
      let n = frame + 1 + 2;
      for (const e of msg.peers) n += entryBytes(e);
      return n;
    }
    case "gossip":
      return frame + 1 + ID + 1 + rumorBytes(msg.rumor);
    case "ihave":
    case "graft": {
      return frame + 1 + 2 + msg.ids.length * ID;
    }
    case "lazy":
    case "want":
      return frame + 1;
    case "digest":
      return frame + 1 + 2 + msg.buckets.length * 4;
    case "pull":
      return frame + 1 + 2 + msg.buckets.length * 2 + (msg.count ? 2 : 0);
    default:
      return frame + 64;
  }
}
