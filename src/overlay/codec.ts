/**
 * Overlay messages on the wire: JSON, with byte fields as base64 strings, checked field by
 * field on the way in so that a neighbour's malformed message is one named error and never
 * reaches the protocol code. It rides in `Overlay` frames on a meeting link.
 *
 * @module
 */
import { InvalidFrameError } from "../errors.ts";
import { MAX_DIGEST_BUCKETS } from "./roster_digest.ts";
import type { MemberEntry, OverlayMessage, RosterItem, Rumor } from "./types.ts";

/** The largest overlay message accepted (a roster chunk of 200 entries is about 60 KiB). */
export const MAX_OVERLAY_MESSAGE = 256 * 1024;

const text = new TextEncoder();
const untext = new TextDecoder("utf-8", { fatal: true });

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function unb64(s: unknown, what: string): Uint8Array {
  if (typeof s !== "string") throw bad(`${what} is not a base64 string`);
  let raw: string;
  try {
    raw = atob(s);
  } catch {
    throw bad(`${what} is not valid base64`);
  }
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function bad(what: string): InvalidFrameError {
  return new InvalidFrameError(`Malformed overlay message: ${what}`);
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? b64(value) : value;
}

/**
 * Encode an overlay message.
 * @param msg The message.
 * @returns Its bytes.
 */
export function encodeOverlayMessage(msg: OverlayMessage): Uint8Array {
  return text.encode(JSON.stringify(msg, replacer));
}

/**
 * Decode and check an overlay message.
 * @param bytes The bytes from a neighbour.
 * @returns The message.
 * @throws {InvalidFrameError} When it is too large, not JSON, or any field is wrong.
 */
export function decodeOverlayMessage(bytes: Uint8Array): OverlayMessage {
  if (bytes.length > MAX_OVERLAY_MESSAGE) {
    throw bad(`${bytes.length} bytes is over the limit of ${MAX_OVERLAY_MESSAGE}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(untext.decode(bytes));
  } catch {
    throw bad("not UTF-8 JSON");
  }
  const o = obj(v, "message");
  switch (o.t) {
    case "hello":
      return {
        t: "hello",
        entry: entry(o.entry),
        degree: int(o.degree, "degree", 0, 1 << 16),
        wantRoster: bool(o.wantRoster, "wantRoster"),
        ...(o.ready === undefined ? {} : { ready: bool(o.ready, "ready") }),
        ...(o.extra === undefined ? {} : { extra: bool(o.extra, "extra") }),
        ...(o.digestBuckets === undefined
          ? {}
          : { digestBuckets: int(o.digestBuckets, "digestBuckets", 1, 1 << 16) }),
      };
    case "roster":
      return {
        t: "roster",
        entries: arr(o.entries, "entries", 1000).map(item),
        last: bool(o.last, "last"),
      };
    case "prune":
      return { t: "prune", peers: arr(o.peers, "peers", 64).map(entry) };
    case "gossip":
      return {
        t: "gossip",
        id: str(o.id, "id", 200),
        hops: int(o.hops, "hops", 0, 1 << 16),
        rumor: rumor(o.rumor),
      };
    case "ihave":
    case "graft":
      return { t: o.t, ids: arr(o.ids, "ids", 1024).map((x) => str(x, "id", 200)) };
    case "lazy":
    case "want":
      return { t: o.t };
    case "digest":
      return {
        t: o.t,
        buckets: arr(o.buckets, "buckets", MAX_DIGEST_BUCKETS).map((x) =>
          int(x, "bucket", 0, 0xffffffff)
        ),
      };
    case "pull":
      return {
        t: o.t,
        buckets: arr(o.buckets, "buckets", MAX_DIGEST_BUCKETS).map((x) =>
          int(x, "bucket", 0, MAX_DIGEST_BUCKETS - 1)
        ),
        ...(o.count === undefined ? {} : { count: int(o.count, "count", 1, MAX_DIGEST_BUCKETS) }),
      };
    default:
      throw bad(`unknown type ${JSON.stringify(o.t)?.slice(0, 40)}`);
  }
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw bad(`${what} is not an object`);
  }
  return v as Record<string, unknown>;
}

function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw bad(`${what} is not an array`);
  if (v.length > max) throw bad(`${what} has ${v.length} items (at most ${max})`);
  return v;
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== "string" || v.length > max) {
    throw bad(`${what} is not a string of at most ${max} characters`);
  }
  return v;
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw bad(`${what} is not an integer from ${min} to ${max}`);
  }
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw bad(`${what} is not a boolean`);
  return v;
}

const PEER = 128;
const MAX_INC = Number.MAX_SAFE_INTEGER;

function entry(v: unknown): MemberEntry {
  const o = obj(v, "entry");
  return {
    peerId: str(o.peerId, "entry.peerId", PEER),
    name: str(o.name, "entry.name", 256),
    joinedAt: int(o.joinedAt, "entry.joinedAt", 0, MAX_INC),
    incarnation: int(o.incarnation, "entry.incarnation", 0, MAX_INC),
    contact: arr(o.contact, "entry.contact", 16).map((c) => str(c, "entry.contact[]", 512)),
    sig: unb64(o.sig, "entry.sig"),
  };
}

function item(v: unknown): RosterItem {
  const o = obj(v, "roster item");
  const status = o.status;
  if (status !== "alive" && status !== "suspect" && status !== "dead" && status !== "left") {
    throw bad("roster item status is not alive, suspect, dead or left");
  }
  return { entry: entry(o.entry), status };
}

function rumor(v: unknown): Rumor {
  const o = obj(v, "rumor");
  switch (o.k) {
    case "alive":
      return { k: "alive", entry: entry(o.entry) };
    case "suspect":
    case "dead":
      return {
        k: o.k,
        peer: str(o.peer, "rumor.peer", PEER),
        inc: int(o.inc, "rumor.inc", 0, MAX_INC),
        by: str(o.by, "rumor.by", PEER),
        sig: unb64(o.sig, "rumor.sig"),
      };
    case "left":
      return {
        k: "left",
        peer: str(o.peer, "rumor.peer", PEER),
        inc: int(o.inc, "rumor.inc", 0, MAX_INC),
        sig: unb64(o.sig, "rumor.sig"),
      };
    case "app":
      return {
        k: "app",
        origin: str(o.origin, "rumor.origin", PEER),
        seq: int(o.seq, "rumor.seq", 0, MAX_INC),
        channel: int(o.channel, "rumor.channel", 0, 255),
        payload: unb64(o.payload, "rumor.payload"),
        sig: unb64(o.sig, "rumor.sig"),
      };
    default:
      throw bad("unknown rumor kind");
  }
}

const ENTRY_BYTES = 120; // field names, numbers, a 64-byte signature in base64
const PEER_BYTES = 52;

function entrySize(e: MemberEntry): number {
  let n = ENTRY_BYTES + e.peerId.length + e.name.length;
  for (const c of e.contact) n += c.length + 3;
  return n;
}

function rumorSize(r: Rumor): number {
  switch (r.k) {
    case "alive":
      return 20 + entrySize(r.entry);
    case "suspect":
    case "dead":
      return 140 + 2 * PEER_BYTES;
    case "left":
      return 130 + PEER_BYTES;
    case "app":
      return 150 + PEER_BYTES + Math.ceil(r.payload.length / 3) * 4;
  }
}

/**
 * About how many bytes a message takes on the wire, without encoding it (the simulator
 * counts traffic of 10,000 members with this; within a few percent of
 * {@linkcode encodeOverlayMessage} for typical peer ids).
 * @param msg The message.
 * @returns Its approximate size in bytes.
 */
export function estimateMessageBytes(msg: OverlayMessage): number {
  switch (msg.t) {
    case "hello":
      return 50 + entrySize(msg.entry) + (msg.digestBuckets === undefined ? 0 : 21);
    case "roster": {
      let n = 30;
      for (const it of msg.entries) n += 30 + entrySize(it.entry);
      return n;
    }
    case "prune": {
      let n = 20;
      for (const e of msg.peers) n += entrySize(e);
      return n;
    }
    case "gossip":
      return 40 + msg.id.length + rumorSize(msg.rumor);
    case "ihave":
    case "graft": {
      let n = 20;
      for (const id of msg.ids) n += id.length + 3;
      return n;
    }
    case "lazy":
    case "want":
      return 10;
    case "digest":
      return 25 + msg.buckets.length * 11;
    case "pull":
      return 25 + msg.buckets.length * 5 + (msg.count === undefined ? 0 : 12);
  }
}
