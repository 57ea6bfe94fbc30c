/**
 * The libp2p transports a node uses to reach servers, for browsers. Same exports as
 * `transports.ts`.
 *
 * Browsers cannot open TCP sockets, so a browser participant reaches bootstrap/relay nodes
 * over:
 * - WebSockets (`/ws`, and `/wss` with a certificate): what the tests use on loopback.
 *   libp2p's browser build refuses `ws://` and private addresses by default; `node.ts`
 *   opens its connection gater for that.
 * - WebRTC-Direct (`/udp/…/webrtc-direct/certhash/…`): no certificate authority needed.
 * - WebTransport (`/udp/…/quic-v1/webtransport/certhash/…`): dials servers that listen on
 *   it (go-libp2p, rust-libp2p); js-libp2p on Deno/Node cannot listen on WebTransport.
 *
 * A browser cannot be a bootstrap node: {@linkcode listenTransports} throws.
 *
 * @module
 */
import type { Libp2pOptions } from "libp2p";
import { webSockets } from "@libp2p/websockets";
import { webRTCDirect } from "@libp2p/webrtc";
import { webTransport } from "@libp2p/webtransport";
import type { RuntimeRtcConfiguration } from "./webrtc.browser.ts";
import { wholeWrites } from "./_whole_writes.ts";

/** A libp2p transport factory, as `createLibp2p({ transports })` takes it. */
export type TransportFactory = NonNullable<Libp2pOptions["transports"]>[number];

/** Init of {@linkcode serverDialTransports}. */
export interface ServerDialTransportsInit {
  /** WebRTC configuration (used by WebRTC-Direct). */
  rtcConfiguration?: RuntimeRtcConfiguration | (() => RuntimeRtcConfiguration);
}

/** Which transports this runtime dials servers with (for status output and tests). */
export const serverTransportNames: readonly string[] = Object.freeze([
  "websockets",
  "webrtc-direct",
  "webtransport",
]);

/**
 * Transports a meeting participant dials bootstrap/relay nodes with: WebSockets,
 * WebRTC-Direct and WebTransport.
 *
 * @param init WebRTC configuration for WebRTC-Direct.
 * @returns Transport factories for `createLibp2p()`.
 *
 * @example
 * ```ts ignore
 * createLibp2p({ transports: [...serverDialTransports(), circuitRelayTransport()] });
 * ```
 */
export function serverDialTransports(init: ServerDialTransportsInit = {}): TransportFactory[] {
  return [
    wholeWrites(webSockets()),
    webRTCDirect({ rtcConfiguration: init.rtcConfiguration ?? {} }),
    webTransport(),
  ] as TransportFactory[];
}

/**
 * Browsers cannot listen for connections, so they cannot run a bootstrap/relay node.
 *
 * @returns Never.
 * @throws {TypeError} Always.
 *
 * @example
 * ```ts ignore
 * listenTransports(); // throws in a browser
 * ```
 */
export function listenTransports(): TransportFactory[] {
  throw new TypeError(
    "Cannot start a bootstrap node in a browser: browsers cannot listen for connections; " +
      "run `meshmeet serve` (Deno or Node) and pass its addresses as `bootstrap`",
  );
}

/**
 * Not available in browsers: they cannot listen for connections.
 *
 * @param _store Ignored.
 * @returns Never.
 * @throws {TypeError} Always.
 *
 * @example
 * ```ts ignore
 * await webRtcDirectListenTransport(); // rejects in a browser
 * ```
 */
export function webRtcDirectListenTransport(_store?: unknown): Promise<TransportFactory> {
  return Promise.reject(
    new TypeError("Cannot listen on WebRTC-Direct in a browser: run `meshmeet serve` instead"),
  );
}
