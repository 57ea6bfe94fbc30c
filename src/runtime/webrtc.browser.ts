/**
 * WebRTC for browsers: the browser's own `RTCPeerConnection`. Same exports as
 * `webrtc.ts` (swapped in by the npm build's `browser` field and by the browser bundle).
 *
 * Browsers already gather ICE candidates only after `setLocalDescription()` (the spec), so
 * the candidate-ordering fix that `webrtc.ts` applies to node-datachannel is not needed.
 *
 * @module
 */

/** Which WebRTC implementation this runtime uses. */
export const webRtcImplementation = "browser";

/**
 * Make an `RTCPeerConnection` class hold `icecandidate` events until
 * `setLocalDescription()` has resolved. Browsers behave so already: nothing is patched.
 *
 * @param _PeerConnection The class (unused).
 * @returns Always false: the browser's class needs no patch.
 *
 * @example
 * ```ts ignore
 * holdCandidatesUntilLocalDescription(RTCPeerConnection); // false in a browser
 * ```
 */
export function holdCandidatesUntilLocalDescription(_PeerConnection: unknown): boolean {
  return false;
}

/** The `RTCPeerConnection` class of this runtime: the browser's. */
export const RTCPeerConnection: typeof globalThis.RTCPeerConnection = globalThis.RTCPeerConnection;

/**
 * Extra RTCConfiguration fields other runtimes understand. Browsers ignore them (ICE
 * binds to the interfaces the browser chooses), so configurations stay portable.
 */
export interface RuntimeRtcConfiguration extends RTCConfiguration {
  /** Local address to bind ICE sockets to (node-datachannel only; ignored here). */
  bindAddress?: string;
  /** Lowest local UDP port (node-datachannel only; ignored here). */
  portRangeBegin?: number;
  /** Highest local UDP port (node-datachannel only; ignored here). */
  portRangeEnd?: number;
}

/**
 * Adapt ICE servers to what this runtime's WebRTC accepts. Browsers parse every URL form
 * (IPv6 literals included), so the list is returned as it is (copied).
 *
 * @param iceServers The configured servers.
 * @returns The servers this runtime can use.
 *
 * @example
 * ```ts ignore
 * iceServersForRuntime([{ urls: "stun:[2001:db8::1]:3478" }]); // kept in browsers
 * ```
 */
export function iceServersForRuntime(iceServers: readonly RTCIceServer[]): RTCIceServer[] {
  return iceServers.map((server) => ({ ...server }));
}
