/**
 * Assembling libp2p nodes: one for each meeting a participant joins, and one for each
 * bootstrap/relay server.
 *
 * Settings that differ from libp2p's defaults, and why (see LAB.md):
 * - kad-dht speaks our own protocol id ({@linkcode DHT_PROTOCOL}), so a meshmeet DHT never
 *   mixes with the public IPFS DHT, and validates `meshmeet` records.
 * - `peerInfoMapper` keeps private and loopback addresses (a meeting may run on a LAN) but
 *   drops relay-circuit and WebRTC addresses: otherwise kad-dht pings every provider it
 *   learns, so every client would dial every other client in both directions (glare,
 *   limited relayed connections, 138 % idle CPU with 50 nodes).
 * - `initialQuerySelfInterval: 0`, else every first query waits about a second.
 * - Per-IP inbound connection limits are raised on servers: many peers may share one
 *   address (NAT, loopback).
 * - `ping` allows 8 outbound streams; the default of 1 collides with kad-dht's own pings.
 *
 * @module
 */
import { createLibp2p, type Libp2p } from "libp2p";
import type { PeerInfo, PrivateKey } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { type Identify, identify } from "@libp2p/identify";
import { type Ping, ping } from "@libp2p/ping";
import {
  circuitRelayServer,
  type CircuitRelayService,
  circuitRelayTransport,
} from "@libp2p/circuit-relay-v2";
import { webRTC } from "@libp2p/webrtc";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Datastore } from "interface-datastore";
import { selectDhtRecord, validateDhtRecord } from "./record.ts";
import type { RuntimeRtcConfiguration } from "./runtime/webrtc.ts";
import { iceServersForRuntime, webRtcImplementation } from "./runtime/webrtc.ts";
import { listenTransports, serverDialTransports } from "./runtime/transports.ts";

/** The kad-dht protocol id of meshmeet networks. */
export const DHT_PROTOCOL = "/meshmeet/kad/1.0.0";

/** Services of a participant's node. */
export type ParticipantServices = {
  /** libp2p identify. */
  identify: Identify;
  /** libp2p ping. */
  ping: Ping;
  /** The DHT (client mode). */
  dht: KadDHT;
};

/** Services of a bootstrap node. */
export type BootstrapServices = ParticipantServices & {
  /** The circuit relay server. */
  relay: CircuitRelayService;
};

/** A participant's libp2p node. */
export type ParticipantLibp2p = Libp2p<ParticipantServices>;
/** A bootstrap node's libp2p node. */
export type BootstrapLibp2p = Libp2p<BootstrapServices>;

function _isRelayedOrWebRtc(address: string): boolean {
  return address.includes("/p2p-circuit") || address.includes("/webrtc");
}

/**
 * kad-dht peer-info mapper: keep only addresses a DHT client can dial directly.
 *
 * @param peer What the DHT learned.
 * @returns The same peer without relay-circuit and WebRTC addresses.
 *
 * @example
 * ```ts ignore
 * kadDHT({ peerInfoMapper: dialableDhtAddresses });
 * ```
 */
export function dialableDhtAddresses(peer: PeerInfo): PeerInfo {
  return {
    ...peer,
    multiaddrs: peer.multiaddrs.filter((ma) => !_isRelayedOrWebRtc(ma.toString())),
  };
}

function _dht(clientMode: boolean) {
  return kadDHT({
    protocol: DHT_PROTOCOL,
    clientMode,
    initialQuerySelfInterval: 0,
    // Servers must hand out providers with their relay addresses (a server that strips
    // them drops the provider from GET_PROVIDERS answers); clients must not dial them.
    peerInfoMapper: clientMode ? dialableDhtAddresses : passthroughMapper,
    validators: { meshmeet: validateDhtRecord },
    selectors: { meshmeet: selectDhtRecord },
    // Providers of a meeting are its participants: keep them an hour, not 48 h.
    providers: { provideValidity: 60 * 60 },
  });
}

/** Init of {@linkcode createParticipantLibp2p}. */
export interface ParticipantLibp2pInit {
  /** Identity; a fresh Ed25519 key when omitted. */
  privateKey?: PrivateKey;
  /** ICE servers and runtime extras for WebRTC (a function is asked before every dial). */
  rtcConfiguration?: RuntimeRtcConfiguration | (() => RuntimeRtcConfiguration);
  /**
   * The ladder rung of the next WebRTC dial to a peer: `direct` offers host and
   * server-reflexive candidates only, `turn` adds TURN relay candidates. Answering peers
   * never gather relay candidates (one relayed end is enough).
   * @default {() => "turn"}
   */
  iceRungFor?: (peerId: string) => IceRung;
  /**
   * Relay reservations to hold at once (each on a different relay; see
   * `relay_reservations.ts`). libp2p reserves again elsewhere when one is lost.
   * @default {1}
   */
  relayReservations?: number;
}

/** A rung of the WebRTC part of the connection ladder. */
export type IceRung = "direct" | "turn";

/**
 * The ICE servers of one rung: STUN only for `direct` (TURN servers also answer STUN
 * binding requests, so a TURN-only list becomes their `stun:` form), everything for `turn`.
 *
 * @param iceServers The configured servers.
 * @param rung Which rung.
 * @returns The servers to give the peer connection.
 */
export function iceServersForRung(
  iceServers: readonly RTCIceServer[],
  rung: IceRung,
): RTCIceServer[] {
  if (rung === "turn") return [...iceServers];
  const urlsOf = (s: RTCIceServer) => (Array.isArray(s.urls) ? s.urls : [s.urls]);
  const stun = iceServers.flatMap(urlsOf).filter((u) => /^stuns?:/.test(u));
  const fromTurn = iceServers.flatMap(urlsOf).filter((u) => /^turn:/.test(u))
    .map((u) => u.replace(/^turn:/, "stun:").replace(/\?.*$/, ""));
  const urls = [...new Set(stun.length > 0 ? stun : fromTurn)];
  return urls.length > 0 ? [{ urls }] : [];
}

/**
 * @libp2p/webrtc asks for its RTCConfiguration without saying for which peer. The ladder
 * needs a per-dial choice, so the transport is wrapped: `dial()` records its target for
 * the synchronous part of the call, during which @libp2p/webrtc calls the configuration
 * function (util.js `getRtcConfiguration`, first statement of `dial`). Answers (no target)
 * get the `direct` servers.
 */
function _webRtcWithLadder(init: ParticipantLibp2pInit) {
  let target: string | undefined;
  const factory = webRTC({
    rtcConfiguration: () => {
      const given = init.rtcConfiguration;
      const config = (typeof given === "function" ? given() : given) ?? {};
      const rung = target === undefined ? "direct" : (init.iceRungFor?.(target) ?? "turn");
      const servers = iceServersForRung(config.iceServers ?? [], rung);
      return { ...config, iceServers: iceServersForRuntime(servers) };
    },
  });
  return (components: Parameters<typeof factory>[0]) => {
    const transport = factory(components);
    const dial = transport.dial.bind(transport);
    transport.dial = (ma, options) => {
      target = ma.getComponents().findLast((c) => c.name === "p2p")?.value;
      try {
        return dial(ma, options);
      } finally {
        target = undefined;
      }
    };
    return transport;
  };
}

/**
 * Create (and start) the libp2p node of one meeting participant: WebSockets and TCP to
 * reach servers, circuit relay transport for signaling, private-to-private WebRTC for
 * meeting traffic, kad-dht in client mode.
 *
 * @param init Identity and WebRTC configuration.
 * @returns The started node.
 *
 * @example
 * ```ts ignore
 * const node = await createParticipantLibp2p({ rtcConfiguration: { iceServers: [] } });
 * ```
 */
export async function createParticipantLibp2p(
  init: ParticipantLibp2pInit = {},
): Promise<ParticipantLibp2p> {
  void webRtcImplementation; // loads the runtime's WebRTC (and its fixes) before libp2p dials
  const privateKey = init.privateKey ?? await generateKeyPair("Ed25519");
  return await createLibp2p({
    privateKey,
    // One "/p2p-circuit" listen address per relay reservation wanted (libp2p's reservation
    // store makes one reservation, on a distinct relay, for each).
    addresses: {
      listen: [
        ...Array.from({ length: Math.max(1, init.relayReservations ?? 1) }, () => "/p2p-circuit"),
        "/webrtc",
      ],
    },
    transports: [
      // WebSockets + TCP on Deno/Node; WebSockets, WebRTC-Direct, WebTransport in browsers.
      ...serverDialTransports({ rtcConfiguration: init.rtcConfiguration }),
      circuitRelayTransport({ reservationCompletionTimeout: 10_000 }),
      _webRtcWithLadder(init),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Meetings may run on a LAN or loopback: allow dialing private addresses and ws://.
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { inboundConnectionThreshold: 100, maxConnections: 400 },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: 8, maxInboundStreams: 8 }),
      dht: _dht(true),
    },
  });
}

/** Init of {@linkcode createBootstrapLibp2p}. */
export interface BootstrapLibp2pInit {
  /** Identity; a fresh Ed25519 key when omitted. */
  privateKey?: PrivateKey;
  /** Listen multiaddrs (TCP and/or WebSockets). */
  listen: string[];
  /** Multiaddrs to announce instead of the listen addresses (e.g. behind a load balancer). */
  announce?: string[];
  /** Other bootstrap nodes to join (so several servers form one DHT). */
  peers?: string[];
  /** Where DHT records and provider records are kept (in memory when omitted). */
  datastore?: Datastore;
  /**
   * Most relay reservations held at once.
   * @default {1024}
   */
  maxReservations?: number;
  /**
   * Limits of one relayed connection. Relayed connections carry signaling for direct
   * connections and, as the last rung of the ladder, whole meetings; libp2p's defaults
   * (2 min, 128 KiB) are too small for the latter.
   * @default {{ durationMs: 1_800_000, dataBytes: 67_108_864 }}
   */
  relayLimits?: { durationMs?: number; dataBytes?: number };
}

/**
 * Create (and start) a bootstrap node: DHT server, circuit relay server, TCP/WebSocket
 * listeners.
 *
 * @param init Listen addresses and relay settings.
 * @returns The started node.
 *
 * @example
 * ```ts ignore
 * const node = await createBootstrapLibp2p({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
 * ```
 */
export async function createBootstrapLibp2p(init: BootstrapLibp2pInit): Promise<BootstrapLibp2p> {
  const privateKey = init.privateKey ?? await generateKeyPair("Ed25519");
  const limits = init.relayLimits ?? {};
  return await createLibp2p({
    privateKey,
    addresses: { listen: init.listen, announce: init.announce },
    datastore: init.datastore,
    transports: listenTransports(),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: {
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 1000,
      maxConnections: 5000,
    },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: 8, maxInboundStreams: 64 }),
      dht: _dht(false),
      relay: circuitRelayServer({
        maxInboundHopStreams: 1024,
        maxOutboundStopStreams: 1024,
        reservations: {
          maxReservations: init.maxReservations ?? 1024,
          // Keep limits (connections stay "limited", so libp2p still dials direct WebRTC
          // past them), but large enough for a relayed meeting.
          applyDefaultLimit: true,
          defaultDurationLimit: limits.durationMs ?? 30 * 60 * 1000,
          defaultDataLimit: BigInt(limits.dataBytes ?? 64 * 1024 * 1024),
        },
      }),
    },
  });
}
