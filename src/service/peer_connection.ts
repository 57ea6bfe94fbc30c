/**
 * The WebRTC peer connection under a participant's meeting link, for ICE and signaling
 * states and transport byte counters (read by the control API's views and metrics).
 *
 * @module
 */
import type { Meeting } from "../meeting.ts";

/**
 * The direct WebRTC peer connection of a participant in a meeting, if there is one.
 *
 * @param meeting The meeting.
 * @param peerId The participant.
 * @returns Its `RTCPeerConnection`, for ICE and signaling states.
 */
export function peerConnectionOf(meeting: Meeting, peerId: string): RTCPeerConnection | undefined {
  if (meeting.left) return undefined;
  // Optional call: stand-ins for a Meeting (tests, embedders) may not have it.
  return (meeting as Partial<Pick<Meeting, "peerConnectionOf">>).peerConnectionOf?.(peerId);
}
