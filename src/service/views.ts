/**
 * Plain-data views of meetings and participants, shared by the control API (`src/http/`),
 * the CLI (`src/cli/`) and the MCP tools (`src/mcp/agent.ts`), so all three describe a
 * participant the same way. JSON-ready: no `undefined` where a reader expects a field.
 *
 * @module
 */
import type { Meeting, MessageDetail, Participant, SelfInfo } from "../meeting.ts";
import type { MessageData } from "../message_codec.ts";
import { peerConnectionOf } from "./peer_connection.ts";

/** The URLs of ICE servers (never their credentials). */
export function iceUrls(servers: readonly RTCIceServer[] | undefined): string[] {
  const urls: string[] = [];
  for (const s of servers ?? []) {
    for (const u of Array.isArray(s.urls) ? s.urls : [s.urls]) urls.push(String(u));
  }
  return urls;
}

/** Our own participant info, JSON-ready (ICE server URLs only). */
export function selfView(self: SelfInfo) {
  const stun = self.stun;
  return {
    peerId: self.peerId,
    name: self.name,
    joinedAt: self.joinedAt,
    addresses: self.addresses,
    publicAddress: self.publicAddress ?? null,
    stun: stun
      ? {
        status: stun.status,
        ...(stun.address ? { address: stun.address } : {}),
        ...(stun.server ? { server: stun.server } : {}),
        ...(stun.error ? { error: stun.error } : {}),
      }
      : null,
    iceServers: iceUrls(self.iceServers),
  };
}

/** A participant in full: the control API's view (with ICE states, when WebRTC). */
export function participantView(meeting: Meeting, p: Participant) {
  const pc = peerConnectionOf(meeting, p.peerId);
  return {
    peerId: p.peerId,
    name: p.name,
    joinedAt: p.joinedAt,
    state: p.state,
    path: p.path ?? null,
    selectedCandidatePair: p.selectedCandidatePair ?? null,
    ice: pc
      ? {
        connectionState: String(pc.connectionState),
        iceConnectionState: String(pc.iceConnectionState),
        iceGatheringState: String(pc.iceGatheringState),
        signalingState: String(pc.signalingState),
      }
      : null,
    direction: p.direction,
    rtt: p.rtt ?? null,
    lastSeen: p.lastSeen,
    discoveredAt: p.discoveredAt,
    connectedAt: p.connectedAt,
    unacknowledged: p.unacknowledged,
  };
}

/** A participant in brief (the CLI's `/peers --json` and the MCP `participants` tool). */
export function participantBrief(p: Participant) {
  return {
    peerId: p.peerId,
    name: p.name,
    state: p.state,
    path: p.path ?? null,
    pair: p.selectedCandidatePair ?? null,
    direction: p.direction,
    rtt: p.rtt ?? null,
    discoveredAt: p.discoveredAt,
    connectedAt: p.connectedAt,
  };
}

/** Why {@linkcode findParticipant} found nobody. */
export type FindParticipantResult =
  | { participant: Participant }
  | { error: "not_found" | "ambiguous_name"; message: string };

/**
 * A participant by peer id, or else by display name (which must then be unique).
 *
 * @param meeting The meeting.
 * @param who A peer id or a name.
 * @returns The participant, or why there is none.
 */
export function findParticipant(meeting: Meeting, who: string): FindParticipantResult {
  const participants = meeting.participants;
  const byId = participants.find((p) => p.peerId === who);
  if (byId) return { participant: byId };
  const named = participants.filter((p) => p.name === who);
  if (named.length === 1) return { participant: named[0] };
  if (named.length > 1) {
    return {
      error: "ambiguous_name",
      message: `${named.length} participants are named ${JSON.stringify(who)}; use a peer id`,
    };
  }
  return {
    error: "not_found",
    message: `No participant with peer id or name ${JSON.stringify(who)} in meeting ` +
      `${meeting.topicId.slice(0, 12)}…`,
  };
}

/** Bytes as base64. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Base64 as bytes (throws a `DOMException` for invalid base64). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Message content as JSON: `{ text }`, `{ json }` or `{ base64 }`. */
export function dataView(data: MessageData): { text: string } | { json: unknown } | {
  base64: string;
} {
  return typeof data === "string"
    ? { text: data }
    : data instanceof Uint8Array
    ? { base64: toBase64(data) }
    : { json: data };
}

/** The reverse of {@linkcode dataView}: `text`, else `base64`, else `json`. */
export function dataFromBody(
  body: { text?: string; json?: unknown; base64?: string },
): MessageData {
  if (body.text !== undefined) return body.text;
  if (body.base64 !== undefined) return fromBase64(body.base64);
  return body.json as MessageData;
}

/** A received message, JSON-ready. */
export function messageView(d: MessageDetail) {
  return { from: d.from, name: d.name, channel: d.channel, ...dataView(d.data) };
}
