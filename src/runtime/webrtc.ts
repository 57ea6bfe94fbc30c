/**
 * WebRTC for Deno and Node: node-datachannel (libdatachannel) behind the W3C API.
 *
 * The browser variant of this file is `webrtc.browser.ts`, with the same exports.
 *
 * ## The candidate-ordering fix (one place, here)
 * Under Deno, node-datachannel's N-API callbacks can fire `icecandidate` before
 * `createOffer()` / `createAnswer()` has resolved. `@libp2p/webrtc` writes each candidate
 * to the signaling stream as soon as it is fired, so the remote side receives
 * ICE_CANDIDATE before SDP_OFFER and aborts ("expected message type SDP_OFFER, received:
 * ICE_CANDIDATE"): private-to-private WebRTC failed on every Deno dial. Browsers never do
 * this: the spec only gathers candidates after `setLocalDescription()`. We give
 * node-datachannel's `RTCPeerConnection` exactly that behaviour by holding `icecandidate`
 * events per connection until `setLocalDescription()` has resolved, then releasing them in
 * order. `@libp2p/webrtc` constructs its peer connections from the same class object, so
 * patching its prototype once fixes every connection without touching `node_modules`.
 * The same race explains part of the ~10 % first-dial failures measured on Node
 * ("Got a remote candidate without ICE transport"). Upstream: node-datachannel's polyfill
 * `RTCPeerConnection` dispatches `onLocalCandidate` immediately (no issue found upstream;
 * see LAB.md).
 *
 * @module
 */
import nodeDataChannel from "node-datachannel";
import { RTCPeerConnection as NdcPeerConnection } from "node-datachannel/polyfill";

/** Which WebRTC implementation this runtime uses. */
export const webRtcImplementation = "node-datachannel";

const RELEASED = Symbol.for("meshmeet.candidatesReleased");
const HELD = Symbol.for("meshmeet.heldCandidates");
const PATCHED = Symbol.for("meshmeet.candidateOrderFix");

type Patchable = {
  prototype: {
    dispatchEvent(event: Event): boolean;
    setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void>;
  } & Record<symbol, unknown>;
} & Record<symbol, unknown>;

/**
 * Make an `RTCPeerConnection` class hold `icecandidate` events until
 * `setLocalDescription()` has resolved (browser behaviour). Idempotent.
 *
 * @param PeerConnection The class to patch.
 * @returns Whether the class was patched by this call (false when it already was).
 *
 * @example
 * ```ts ignore
 * holdCandidatesUntilLocalDescription(RTCPeerConnection);
 * ```
 */
export function holdCandidatesUntilLocalDescription(PeerConnection: unknown): boolean {
  const cls = PeerConnection as Patchable;
  if (cls[PATCHED] === true) return false;
  const proto = cls.prototype;
  const dispatch = proto.dispatchEvent;
  const setLocal = proto.setLocalDescription;
  proto.dispatchEvent = function (this: Record<symbol, unknown>, event: Event): boolean {
    if (event.type === "icecandidate" && this[RELEASED] !== true) {
      ((this[HELD] ??= []) as Event[]).push(event);
      return true;
    }
    return dispatch.call(this, event);
  };
  proto.setLocalDescription = async function (
    this: Record<symbol, unknown>,
    description?: RTCLocalSessionDescriptionInit,
  ): Promise<void> {
    await setLocal.call(this, description);
    if (this[RELEASED] === true) return;
    this[RELEASED] = true;
    const held = (this[HELD] ?? []) as Event[];
    delete this[HELD];
    // Release them as a task, as browsers do: after the caller's continuation.
    if (held.length > 0) {
      setTimeout(() => {
        for (const event of held) dispatch.call(this, event);
      }, 0);
    }
  };
  cls[PATCHED] = true;
  return true;
}

holdCandidatesUntilLocalDescription(NdcPeerConnection);

// Shutting down under Deno: libdatachannel's threads can still call into JavaScript while
// V8 disposes the isolate at exit, which crashes the process ("attempt to access Handle
// hosted by disposed Isolate", SIGSEGV; seen at the end of test files and scripts that
// end without Deno.exit()). Stopping libdatachannel first, on "unload", avoids it; on Node
// the event never fires and nothing changes.
globalThis.addEventListener?.("unload", () => {
  try {
    nodeDataChannel.cleanup();
  } catch {
    // already cleaned up
  }
});

/** The `RTCPeerConnection` class of this runtime (patched as described above). */
export const RTCPeerConnection: typeof globalThis.RTCPeerConnection =
  NdcPeerConnection as unknown as typeof globalThis.RTCPeerConnection;

/**
 * Extra RTCConfiguration fields this runtime understands. node-datachannel accepts
 * `bindAddress` to keep ICE on one interface (tests use `127.0.0.1`).
 */
export interface RuntimeRtcConfiguration extends RTCConfiguration {
  /** Local address to bind ICE sockets to (node-datachannel only). */
  bindAddress?: string;
  /** Lowest local UDP port (node-datachannel only). */
  portRangeBegin?: number;
  /** Highest local UDP port (node-datachannel only). */
  portRangeEnd?: number;
}

/**
 * Adapt ICE servers to what this runtime's WebRTC accepts. libdatachannel cannot parse
 * IPv6 literals in ICE URLs (`stun:[2001:db8::1]:3478` fails with "Invalid ICE server
 * port in URL", which makes the whole connection attempt throw), so such URLs are left
 * out; servers with a host name or an IPv4 address are kept.
 *
 * @param iceServers The configured servers.
 * @returns The servers this runtime can use.
 */
export function iceServersForRuntime(iceServers: readonly RTCIceServer[]): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const server of iceServers) {
    const urls = (Array.isArray(server.urls) ? server.urls : [server.urls])
      .filter((url) => !/^[a-z]+:\[/i.test(url));
    if (urls.length > 0) out.push({ ...server, urls });
  }
  return out;
}
