/**
 * The WebRTC peer connection under a participant's meeting link, for ICE and signaling
 * states (read by the control API's views and metrics).
 *
 * @module
 */
import type { Connection } from "@libp2p/interface";
import type { Meeting } from "../meeting.ts";

/** The RTCPeerConnection under one libp2p connection, when it is a WebRTC one. */
export function connectionPeerConnection(connection: Connection): RTCPeerConnection | undefined {
  // libp2p keeps the transport's connection as `maConn`; @libp2p/webrtc's has `peerConnection`.
  const maConn = (connection as unknown as { maConn?: { peerConnection?: RTCPeerConnection } })
    .maConn;
  return maConn?.peerConnection;
}

/**
 * The direct WebRTC peer connection of a participant in a meeting, if there is one.
 *
 * @param meeting The meeting.
 * @param peerId The participant.
 * @returns Its `RTCPeerConnection`, for ICE and signaling states.
 */
export function peerConnectionOf(meeting: Meeting, peerId: string): RTCPeerConnection | undefined {
  if (meeting.left) return undefined;
  for (const connection of meeting.libp2p.getConnections()) {
    if (connection.remotePeer.toString() !== peerId || connection.status !== "open") continue;
    const pc = connectionPeerConnection(connection);
    if (pc) return pc;
  }
  return undefined;
}
