/**
 * Find a participant of a meeting by name or peer id, with the addresses its node is
 * reachable at right now (requirement D9, inside a meeting).
 *
 * @module
 */
import { peerIdFromString } from "@libp2p/peer-id";
import { PeerNotFoundError } from "./errors.ts";
import type { Meeting, Participant } from "./meeting.ts";

/** What {@linkcode findParticipant} returns. */
export interface FoundParticipant {
  /**
   * The participant as the meeting sees it (state, path, RTT, and the selected ICE candidate
   * pair: the address its WebRTC link uses right now).
   */
  participant: Participant;
  /**
   * Its addresses: the remote address of each open connection first (what is in use), then
   * what its node announced (libp2p identify), without duplicates.
   */
  addresses: string[];
}

/**
 * Find a participant by display name or peer id.
 *
 * @param meeting The meeting.
 * @param who A display name or a peer id. Names are not unique: the first participant to
 * have joined with that name is returned.
 * @returns The participant and its current addresses.
 * @throws {PeerNotFoundError} When no participant has that name or id.
 *
 * @example Where is Bob?
 * ```ts ignore
 * const { participant, addresses } = await findParticipant(meeting, "Bob");
 * ```
 */
export async function findParticipant(meeting: Meeting, who: string): Promise<FoundParticipant> {
  const participants = meeting.participants;
  const participant = participants.find((p) => p.peerId === who) ??
    participants.filter((p) => p.name === who).sort((a, b) => a.joinedAt - b.joinedAt)[0];
  if (!participant) {
    throw new PeerNotFoundError(
      `No participant named or with peer id ${JSON.stringify(who)} in meeting ${
        meeting.topicId.slice(0, 12)
      }… (participants: ${participants.map((p) => p.name || p.peerId).join(", ") || "none"})`,
    );
  }
  const libp2p = meeting.libp2p;
  const connections = libp2p.getConnections().filter((c) =>
    c.remotePeer.toString() === participant.peerId && c.status === "open"
  );
  const addresses = connections.map((c) => c.remoteAddr.toString());
  try {
    const peer = await libp2p.peerStore.get(peerIdFromString(participant.peerId));
    addresses.push(...peer.addresses.map((a) => a.multiaddr.toString()));
  } catch {
    // not in the peer store (no identify yet): the connection addresses are all we know
  }
  return { participant, addresses: [...new Set(addresses)] };
}
