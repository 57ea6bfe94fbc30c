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
 * Keep `@roamhq/wrtc`'s shared peer-connection factory (its libwebrtc threads, sockets and
 * audio module) alive until the returned function is called.
 *
 * Why: the binding builds one factory when the first `RTCPeerConnection` of the process is
 * made and lets go of it (`Unref()`) when the last one is closed
 * (`src/interfaces/rtc_peer_connection/peer_connection_factory.cc` in @roamhq/wrtc's source,
 * WonderInventions/node-webrtc). On Node the garbage collector then destroys it; on Deno
 * 2.9.6 it never does, nor any closed peer connection or data channel of the binding (0 of
 * 200 finalised, against 400 of 400 on Node 22; `tests/faults/_wrtc_pairs.ts`). So every
 * time the number of open peer connections fell to zero and rose again, a whole factory was
 * left behind: 4 threads, 8 file descriptors and about 0.6 MB of RSS (issue 12: a process
 * joining and leaving a meeting 30 times grew by about 100 threads). One idle peer connection held
 * open keeps the count above zero, so the factory is built once. It gathers nothing (no
 * description is ever set).
 *
 * The cause (found in both sources): every object of the binding is an `AsyncObjectWrap`
 * (`src/node/async_object_wrap.hh`) that makes its Node-API async context with the wrapped
 * JavaScript object itself as the async resource, and destroys that context only in its C++
 * destructor, which runs when the object is collected. Node 22 and 24 do not keep the async
 * resource alive (Node-API docs of `napi_async_init`: "napi_async_contexts are not
 * maintaining the strong reference to the async_resource"); Deno's `napi_async_init`
 * (`ext/napi/node_api.rs`, in 2.9.5 and on main as of 2026-08) keeps a strong `v8::Global`
 * to it until `napi_async_destroy`. The object holds itself, so no `RTCPeerConnection`,
 * `RTCDataChannel` or `MediaStream` of the binding is ever collected on Deno (one script:
 * 0 of 20 of each finalised on Deno 2.9.6, 19–20 of 20 on Node 20 and 24;
 * `tests/faults/_wrtc_finalised.mjs`), and the factory's threads and sockets stay with
 * them. Node-API's documentation for Node 25 says the reference is held strongly there as
 * well, so the binding should leak the same way on Node 25. The fix belongs in the binding
 * (another object as the resource, or the context destroyed on close); UPSTREAM.md #1, #2, not reported
 * upstream yet (this machine has no network).
 *
 * An open peer connection keeps the process alive, so every hold must be released: each
 * meeting holds one while it is open (released by `leave()`); a program that joins meetings
 * one after another can hold one across them and release it before it ends.
 *
 * @returns A function that releases this hold (calling it again does nothing).
 *
 * @example
 * ```ts ignore
 * const release = holdWebRtc();
 * try {
 *   for (const code of codes) await (await joinMeeting(code)).leave();
 * } finally {
 *   release();
 * }
 * ```
 */
export function holdWebRtc(): () => void {
  if (holds++ === 0) {
    try {
      keeper = new RTCPeerConnection({ iceServers: [] });
    } catch {
      // No usable binding here: dials will report that themselves; a hold changes nothing.
      keeper = undefined;
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0) {
      keeper?.close();
      keeper = undefined;
    }
  };
}
let keeper: RTCPeerConnection | undefined;
let holds = 0;

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
