/**
 * The libp2p transports a node uses to reach servers (bootstrap/relay nodes) and to listen
 * as a server, for Deno and Node: WebSockets and TCP.
 *
 * The browser variant (`transports.browser.ts`, swapped in by the npm build's `browser`
 * field and by the browser bundle) exports the same names: browsers cannot open TCP
 * sockets, so they reach servers over WebSockets, WebRTC-Direct and WebTransport, and
 * cannot listen as servers. Circuit relay and private-to-private WebRTC are the same in
 * every runtime and stay in `node.ts`.
 *
 * @module
 */
import type { Libp2pOptions } from "libp2p";
import { webSockets } from "@libp2p/websockets";
import { tcp } from "@libp2p/tcp";
import { wholeWrites } from "./_whole_writes.ts";
import type { RuntimeRtcConfiguration } from "./webrtc.ts";
import type { WebRtcDirectStore } from "../bootstrap_state.ts";
import { withComponents } from "../_components.ts";

/** A libp2p transport factory, as `createLibp2p({ transports })` takes it. */
export type TransportFactory = NonNullable<Libp2pOptions["transports"]>[number];

/** Init of {@linkcode serverDialTransports}. */
export interface ServerDialTransportsInit {
  /** WebRTC configuration (used by WebRTC-Direct where the runtime dials it). */
  rtcConfiguration?: RuntimeRtcConfiguration | (() => RuntimeRtcConfiguration);
}

/** Which transports this runtime dials servers with (for status output and tests). */
export const serverTransportNames: readonly string[] = Object.freeze(["websockets", "tcp"]);

/**
 * Transports a meeting participant dials bootstrap/relay nodes with: WebSockets and TCP.
 *
 * @param _init WebRTC configuration (not needed on Deno/Node).
 * @returns Transport factories for `createLibp2p()`.
 *
 * @example
 * ```ts ignore
 * createLibp2p({ transports: [...serverDialTransports(), circuitRelayTransport()] });
 * ```
 */
export function serverDialTransports(_init: ServerDialTransportsInit = {}): TransportFactory[] {
  return [wholeWrites(webSockets()), wholeWrites(tcp())];
}

/**
 * Transports a bootstrap/relay node listens with: WebSockets (for browsers) and TCP.
 *
 * @returns Transport factories for `createLibp2p()`.
 *
 * @example
 * ```ts ignore
 * createLibp2p({ addresses: { listen: ["/ip4/0.0.0.0/tcp/4001/ws"] }, transports: listenTransports() });
 * ```
 */
export function listenTransports(): TransportFactory[] {
  return [wholeWrites(webSockets()), wholeWrites(tcp())];
}

/**
 * The WebRTC-Direct listener (`/udp/<port>/webrtc-direct`) of a bootstrap node, which
 * browsers on https pages dial without a certificate authority: the listener's self-signed
 * certificate is pinned by the `/certhash/…` in its address. (A page served over https
 * cannot open `ws://` to anything but loopback; `wss://` needs a CA-signed certificate,
 * e.g. a TLS-terminating proxy.) The certificate, and so the certhash, is new at every
 * start unless a store keeps it (`bootstrap_state.ts`).
 *
 * Loaded only when a node listens on WebRTC-Direct: @libp2p/webrtc's listener runs on
 * node-datachannel (its ICE-lite server), which nothing else on Deno/Node loads.
 *
 * @param store Where the listener keeps its key and certificate (else they are new at
 *   every start).
 * @returns The transport factory for `createLibp2p()`.
 *
 * @example
 * ```ts ignore
 * createLibp2p({ transports: [...listenTransports(), await webRtcDirectListenTransport()] });
 * ```
 */
export async function webRtcDirectListenTransport(
  store?: WebRtcDirectStore,
): Promise<TransportFactory> {
  const { webRTCDirect } = await import("@libp2p/webrtc");
  const factory = webRTCDirect();
  if (!store) return factory;
  // The transport keeps its key and certificate through `components.keychain` and
  // `components.datastore` when they exist; it alone gets the store's.
  return ((components: Parameters<typeof factory>[0]) =>
    factory(
      withComponents(components, { keychain: store.keychain, datastore: store.datastore }),
    )) as TransportFactory;
}
