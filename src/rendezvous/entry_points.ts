/**
 * Entry points straight from a DHT server (issue 11, part 4): a newcomer of a large
 * meeting asks the bootstrap nodes it is connected to for a few presence records of its
 * meeting, in one round trip each, instead of a provider query followed by one DHT GET per
 * record (each GET a query of its own to up to 20 servers: with 10,000 records on 20
 * servers, 8 such GETs did not fit in 2 s on the development machine; BENCHMARKS.md 6c).
 *
 * A server answers from the presence records it holds for the meeting (those PUT to it by
 * kad-dht, indexed per meeting by `RendezvousDatastore`): a random subset, unexpired ones
 * first, at most {@linkcode ENTRY_POINTS_ANSWERED}. It learns nothing new: the topic id is
 * in every record key it stores. The newcomer verifies every record exactly like one from a
 * DHT GET (signature by the peer id in the key, expiry, decryption with the meeting key), so
 * a lying server can only withhold records, and the DHT path remains as the fallback.
 *
 * Wire: one Data frame each way. Request: JSON `{ "topic": <topic id>, "max": n }`.
 * Answer: a sequence of `u16 peer id length | peer id (UTF-8) | u32 record length | record`.
 *
 * @module
 */
import type { Libp2p, PeerId } from "@libp2p/interface";
import { FrameType } from "../frame.ts";
import { FramedStream } from "../framed_stream.ts";
import { MAX_RECORD_SIZE } from "../record.ts";
import { isTopicId } from "../topic.ts";

/** The libp2p protocol on which meshmeet DHT servers hand out entry points. */
export const ENTRY_POINTS_PROTOCOL = "/meshmeet/entry-points/1.0.0";
/** Most records in one answer. */
export const ENTRY_POINTS_ANSWERED = 16;

const MAX_ANSWER_BYTES = ENTRY_POINTS_ANSWERED * (MAX_RECORD_SIZE + 2 + 128 + 4);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One record handed out: whose it claims to be, and the record bytes (unverified). */
export interface EntryPointRecord {
  /** The peer id in the record's key. */
  peerId: string;
  /** The signed, encrypted presence record. */
  record: Uint8Array;
}

/** Where a server finds the records it hands out. */
export interface EntryPointSource {
  /**
   * Up to `max` records of one scope (a meeting's topic id), in random order.
   *
   * @param scope The topic id.
   * @param max How many at most.
   */
  sampleRecords(scope: string, max: number): Promise<EntryPointRecord[]>;
}

/**
 * Encode an answer.
 *
 * @param records The records.
 * @returns The payload.
 */
export function encodeEntryPoints(records: readonly EntryPointRecord[]): Uint8Array {
  const parts = records.map((r) => ({ id: encoder.encode(r.peerId), record: r.record }));
  const size = parts.reduce((n, p) => n + 2 + p.id.length + 4 + p.record.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const { id, record } of parts) {
    view.setUint16(at, id.length);
    out.set(id, at + 2);
    at += 2 + id.length;
    view.setUint32(at, record.length);
    out.set(record, at + 4);
    at += 4 + record.length;
  }
  return out;
}

/**
 * Decode an answer; stops at the first malformed entry (what came before it is kept).
 *
 * @param payload The payload.
 * @returns The records, at most {@linkcode ENTRY_POINTS_ANSWERED}.
 */
export function decodeEntryPoints(payload: Uint8Array): EntryPointRecord[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: EntryPointRecord[] = [];
  let at = 0;
  while (at < payload.length && out.length < ENTRY_POINTS_ANSWERED) {
    if (at + 2 > payload.length) break;
    const idLength = view.getUint16(at);
    if (at + 2 + idLength + 4 > payload.length) break;
    let peerId: string;
    try {
      peerId = decoder.decode(payload.subarray(at + 2, at + 2 + idLength));
    } catch {
      break;
    }
    at += 2 + idLength;
    const length = view.getUint32(at);
    if (length > MAX_RECORD_SIZE || at + 4 + length > payload.length) break;
    out.push({ peerId, record: payload.slice(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return out;
}

/**
 * Answer entry-point requests on a DHT server.
 *
 * @param libp2p The server's node.
 * @param source Its records (its `RendezvousDatastore`).
 * @returns Resolves once the handler is registered.
 */
export async function serveEntryPoints(libp2p: Libp2p, source: EntryPointSource): Promise<void> {
  await libp2p.handle(ENTRY_POINTS_PROTOCOL, async (stream) => {
    // The limit applies to writes too: the answer is the large frame.
    const framed = new FramedStream(stream, { maxPayload: MAX_ANSWER_BYTES });
    try {
      const request = await framed.read({ signal: AbortSignal.timeout(10_000) });
      if (request.payload.length > 1024) throw new RangeError("entry-point request too large");
      const body = JSON.parse(decoder.decode(request.payload));
      const max = Math.min(ENTRY_POINTS_ANSWERED, Math.max(0, Math.floor(Number(body?.max))));
      const records = isTopicId(body?.topic) && max > 0
        ? await source.sampleRecords(body.topic, max)
        : [];
      await framed.write({
        type: FrameType.Data,
        flags: 0,
        channel: 0,
        seq: 0,
        ref: 0,
        payload: encodeEntryPoints(records),
      });
    } catch {
      // A malformed or abandoned request gets no answer.
    } finally {
      await framed.close().catch(() => {});
    }
  }, { runOnLimitedConnection: true });
}

/**
 * Ask one server for up to `max` records of a meeting. Never throws: a server that does not
 * speak the protocol, fails or times out contributes nothing.
 *
 * @param libp2p The participant's node.
 * @param server The server (already connected, usually).
 * @param topicId The meeting's topic id.
 * @param max How many records to ask for (at most {@linkcode ENTRY_POINTS_ANSWERED}).
 * @param signal Deadline.
 * @returns The records, unverified.
 */
export async function fetchEntryPoints(
  libp2p: Libp2p,
  server: PeerId,
  topicId: string,
  max: number,
  signal: AbortSignal,
): Promise<EntryPointRecord[]> {
  try {
    const stream = await libp2p.dialProtocol(server, ENTRY_POINTS_PROTOCOL, {
      signal,
      runOnLimitedConnection: true,
    });
    const framed = new FramedStream(stream, { maxPayload: MAX_ANSWER_BYTES });
    try {
      await framed.write({
        type: FrameType.Data,
        flags: 0,
        channel: 0,
        seq: 0,
        ref: 0,
        payload: encoder.encode(JSON.stringify({ topic: topicId, max })),
      });
      const answer = await framed.read({ signal });
      return decodeEntryPoints(answer.payload);
    } finally {
      await framed.close().catch(() => {});
    }
  } catch {
    return [];
  }
}

/**
 * The peers this node is connected to that hand out entry points (identify told us).
 *
 * @param libp2p The participant's node.
 * @returns Their peer ids.
 */
export async function entryPointServers(libp2p: Libp2p): Promise<PeerId[]> {
  const out: PeerId[] = [];
  for (const peer of libp2p.getPeers()) {
    try {
      const info = await libp2p.peerStore.get(peer);
      if (info.protocols.includes(ENTRY_POINTS_PROTOCOL)) out.push(peer);
    } catch {
      // not in the peer store: not a server we know
    }
  }
  return out;
}
