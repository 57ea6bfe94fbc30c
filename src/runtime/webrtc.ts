/**
 * WebRTC for Deno and Node: Google's libwebrtc through `@roamhq/wrtc` (Node-API; the Linux
 * binary ships inside the registry package `@roamhq/wrtc-linux-x64`, no install script).
 *
 * The browser variant of this file is `webrtc.browser.ts`, with the same exports.
 *
 * Why libwebrtc and not node-datachannel (libdatachannel), which meshmeet used before:
 * measured on the 2-core development machine (LAB.md, BENCHMARKS.md section 3), two peer
 * connections in one Deno process reach their first echoed message in 8.4 ms p50 (max
 * 29 ms, 0 of 30 rounds over 800 ms) against 1,002 ms p50 (24 of 30 over 800 ms) with
 * node-datachannel, whose answering side sends its DTLS ClientHello before the offerer's
 * DTLS transport exists and then waits out a 1 s retransmit timer (libdatachannel #1635).
 * node-datachannel also needed a candidate-ordering patch under Deno, `cleanup()` at unload
 * and one test process per file (SIGSEGV at isolate disposal), and kept Node processes
 * alive after `leave()`; none of that applies here: a process using this module exits by
 * itself once its peer connections are closed.
 *
 * Anything W3C-shaped can be used instead: `joinMeeting(code, { rtcPeerConnection })`.
 *
 * @module
 */
import wrtc from "@roamhq/wrtc";

/** Which WebRTC implementation this runtime uses by default. */
export const webRtcImplementation = "libwebrtc (@roamhq/wrtc)";

/** The `RTCPeerConnection` class of this runtime. */
export const RTCPeerConnection: typeof globalThis.RTCPeerConnection =
  (wrtc as unknown as { RTCPeerConnection: typeof globalThis.RTCPeerConnection })
    .RTCPeerConnection;

/**
 * Extra RTCConfiguration fields meshmeet understands on every runtime.
 */
export interface RuntimeRtcConfiguration extends RTCConfiguration {
  /**
   * Only signal local candidates on this address (plus server-reflexive and relay ones),
   * e.g. `127.0.0.1` to keep tests on loopback. libwebrtc still gathers every interface;
   * the filter is applied by meshmeet's signaling, so the other side only learns (and
   * checks) this address.
   */
  bindAddress?: string;
  /** Accepted for compatibility with earlier versions; libwebrtc ignores it. */
  portRangeBegin?: number;
  /** Accepted for compatibility with earlier versions; libwebrtc ignores it. */
  portRangeEnd?: number;
}
