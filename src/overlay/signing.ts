/**
 * What exactly a member signs. Every statement carries the meeting's topic id as its
 * domain, so an entry signed for one meeting cannot be replayed into another, and a kind
 * prefix, so an entry's signature cannot pass for a rumor's.
 *
 * @module
 */
import type { MemberEntry, OverlayCrypto, PeerId, Rumor } from "./types.ts";

const text = new TextEncoder();

function statement(topic: string, parts: unknown[]): Uint8Array {
  return text.encode(JSON.stringify(["meshmeet/overlay/1", topic, ...parts]));
}

/**
 * The bytes a member signs for its entry.
 *
 * @param topic The meeting's topic id (signing domain).
 * @param entry The entry (its `sig` is ignored).
 * @returns The bytes to sign or verify.
 */
export function entryBytes(topic: string, entry: Omit<MemberEntry, "sig">): Uint8Array {
  return statement(topic, [
    "entry",
    entry.peerId,
    entry.name,
    entry.joinedAt,
    entry.incarnation,
    entry.contact,
  ]);
}

/**
 * The bytes signed for a suspicion, a death or a leave.
 *
 * @param topic The meeting's topic id.
 * @param kind `suspect`, `dead` or `left`.
 * @param peer The member the statement is about.
 * @param inc Its incarnation the statement refers to.
 * @param by Who says it (the member itself for `left`).
 * @returns The bytes to sign or verify.
 */
export function verdictBytes(
  topic: string,
  kind: "suspect" | "dead" | "left",
  peer: PeerId,
  inc: number,
  by: PeerId,
): Uint8Array {
  return statement(topic, [kind, peer, inc, by]);
}

/**
 * The bytes an origin signs for an application broadcast (the payload is hashed into them
 * by length and content: the signer sees the payload itself).
 *
 * @param topic The meeting's topic id.
 * @param origin The sender.
 * @param seq Its sequence number.
 * @param channel The application channel.
 * @param payload The payload.
 * @returns The bytes to sign or verify.
 */
export function appBytes(
  topic: string,
  origin: PeerId,
  seq: number,
  channel: number,
  payload: Uint8Array,
): Uint8Array {
  const head = statement(topic, ["app", origin, seq, channel, payload.length]);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/**
 * Sign an entry.
 *
 * @param topic The meeting's topic id.
 * @param crypto Our signer.
 * @param entry The entry without signature.
 * @returns The signed entry.
 */
export function signEntry(
  topic: string,
  crypto: OverlayCrypto,
  entry: Omit<MemberEntry, "sig">,
): MemberEntry {
  return { ...entry, sig: crypto.sign(entryBytes(topic, entry)) };
}

/**
 * Whether an entry's signature is its member's.
 *
 * @param topic The meeting's topic id.
 * @param crypto The verifier.
 * @param entry The entry.
 * @returns True when valid.
 */
export function verifyEntry(topic: string, crypto: OverlayCrypto, entry: MemberEntry): boolean {
  return crypto.verify(entry.peerId, entryBytes(topic, entry), entry.sig);
}

/**
 * Whether a rumor is signed by whom it claims.
 *
 * @param topic The meeting's topic id.
 * @param crypto The verifier.
 * @param rumor The rumor.
 * @returns True when valid.
 */
export function verifyRumor(topic: string, crypto: OverlayCrypto, rumor: Rumor): boolean {
  switch (rumor.k) {
    case "alive":
      return verifyEntry(topic, crypto, rumor.entry);
    case "suspect":
    case "dead":
      return crypto.verify(
        rumor.by,
        verdictBytes(topic, rumor.k, rumor.peer, rumor.inc, rumor.by),
        rumor.sig,
      );
    case "left":
      return crypto.verify(
        rumor.peer,
        verdictBytes(topic, "left", rumor.peer, rumor.inc, rumor.peer),
        rumor.sig,
      );
    case "app":
      return crypto.verify(
        rumor.origin,
        appBytes(topic, rumor.origin, rumor.seq, rumor.channel, rumor.payload),
        rumor.sig,
      );
  }
}

/**
 * A rumor's id. Roster rumors are named by what they say (so a member can tell from its
 * roster alone whether it has one: no per-rumor memory for 10,000 members); application
 * broadcasts by origin and sequence number.
 *
 * @param rumor The rumor.
 * @returns Its id.
 */
export function rumorId(rumor: Rumor): string {
  switch (rumor.k) {
    case "alive":
      return `a/${rumor.entry.peerId}/${rumor.entry.incarnation}`;
    case "suspect":
      return `s/${rumor.peer}/${rumor.inc}/${rumor.by}`;
    case "dead":
      return `d/${rumor.peer}/${rumor.inc}`;
    case "left":
      return `l/${rumor.peer}/${rumor.inc}`;
    case "app":
      return `m/${rumor.origin}/${rumor.seq}`;
  }
}
