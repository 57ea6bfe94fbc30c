/**
 * WebRTC for browsers: the browser's own `RTCPeerConnection`. Same exports as
 * `webrtc.ts` (swapped in by the npm build's `browser` field and by the browser bundle).
 *
 * @module
 */

/** Which WebRTC implementation this runtime uses by default. */
export const webRtcImplementation = "browser";

/** The `RTCPeerConnection` class of this runtime: the browser's. */
export const RTCPeerConnection: typeof globalThis.RTCPeerConnection = globalThis.RTCPeerConnection;

/**
 * Keeps the runtime's WebRTC resources alive between peer connections (see `webrtc.ts`);
 * browsers manage their own, so this does nothing here.
 *
 * @returns A function that releases the hold (does nothing).
 */
export function holdWebRtc(): () => void {
  return () => {};
}

/**
 * Extra RTCConfiguration fields meshmeet understands on every runtime.
 */
export interface RuntimeRtcConfiguration extends RTCConfiguration {
  /**
   * Only signal local candidates on this address (plus server-reflexive and relay ones).
   * Browsers usually hide host addresses behind mDNS names, so it is best left unset here.
   */
  bindAddress?: string;
  /** Accepted for compatibility with earlier versions; ignored. */
  portRangeBegin?: number;
  /** Accepted for compatibility with earlier versions; ignored. */
  portRangeEnd?: number;
}
