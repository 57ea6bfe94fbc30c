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
 * - Servers keep their DHT state in a {@linkcode RendezvousDatastore}, which bounds what
 *   they keep and answer per key (64 random fresh providers per answer, 256 kept per key,
 *   512 presence records per meeting); kad-dht itself keeps and answers every provider.
 *
 * @module
 */
import { createLibp2p, type Libp2p } from "libp2p";
import type { PeerInfo, PrivateKey } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { quietNoise } from "./_noise.ts";
import { safeYamux } from "./_yamux.ts";
import { libp2pLogger } from "./_libp2p_logger.ts";
import { type Identify, identify } from "@libp2p/identify";
import { type Ping, ping } from "@libp2p/ping";
import type { CircuitRelayService } from "@libp2p/circuit-relay-v2";
import { relayServer } from "./_relay_server.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Datastore } from "interface-datastore";
import { MemoryDatastore } from "datastore-core";
import { pacedRelayTransport } from "./relay_walk.ts";
import type { WebRtcDirectStore } from "./bootstrap_state.ts";
import { RendezvousDatastore } from "./rendezvous/rendezvous_datastore.ts";
import { PROVIDER_TTL_MS, type RendezvousLimits } from "./rendezvous/limits.ts";
import { selectDhtRecord, validateDhtRecord } from "./record.ts";
import type { RuntimeRtcConfiguration } from "./runtime/webrtc.ts";
import {
  listenTransports,
  serverDialTransports,
  webRtcDirectListenTransport,
} from "./runtime/transports.ts";
import "./runtime/event_loop.ts"; // Deno programs end once their nodes stop (see there)

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

function _dht(clientMode: boolean, providerTtlMs = PROVIDER_TTL_MS) {
  return kadDHT({
    protocol: DHT_PROTOCOL,
    clientMode,
    initialQuerySelfInterval: 0,
    // Servers must hand out providers with their relay addresses (a server that strips
    // them drops the provider from GET_PROVIDERS answers); clients must not dial them.
    peerInfoMapper: clientMode ? dialableDhtAddresses : passthroughMapper,
    validators: { meshmeet: validateDhtRecord },
    selectors: { meshmeet: selectDhtRecord },
    // Servers: kad-dht's sweep deletes provider entries past this age (default 48 h, once an
    // hour), so a topic nobody announces any more is forgotten. Its `providers.provideValidity`
    // option, set here before, is read by nothing in kad-dht 16.4.5; answers leave expired
    // entries out through RendezvousDatastore, which also deletes them on the way.
    // The sweep's interval is a setTimeout delay: above 2^31 - 1 ms it would fire at once, and
    // again and again (a sweep over every provider entry each time): at most an hour.
    ...(clientMode ? {} : {
      reprovide: { validity: providerTtlMs, interval: Math.min(providerTtlMs, 3_600_000) },
    }),
  });
}

/** Init of {@linkcode createParticipantLibp2p}. */
export interface ParticipantLibp2pInit {
  /** Identity; a fresh Ed25519 key when omitted. */
  privateKey?: PrivateKey;
  /** ICE servers and runtime extras for WebRTC (a function is asked before every dial). */
  rtcConfiguration?: RuntimeRtcConfiguration | (() => RuntimeRtcConfiguration);
  /**
   * Extra listen addresses (local discovery adds TCP on the LAN).
   * @default {[]}
   */
  listen?: readonly string[];
  /**
   * Which of the node's addresses to tell other peers (identify, and through it the DHT).
   * Local discovery hides its LAN listener: DHT servers would otherwise hand it out with
   * provider records, and kad-dht dials every provider it learns.
   * @default {all of them}
   */
  announceFilter?: (multiaddrs: Multiaddr[]) => Multiaddr[];
  /**
   * Relay reservations to hold at once (each on a different relay; see
   * `relay_reservations.ts`). libp2p reserves again elsewhere when one is lost.
   * @default {1}
   */
  relayReservations?: number;
}

/**
 * What both kinds of node share: meshmeet's logger for libp2p (`_libp2p_logger.ts`), Noise,
 * the yamux whose aborts cannot throw (`_yamux.ts`), and a gater that lets meetings dial
 * private addresses and ws:// (LAN and loopback).
 */
function _sharedOptions() {
  return {
    logger: libp2pLogger,
    connectionEncrypters: [quietNoise()],
    streamMuxers: [safeYamux()],
    connectionGater: { denyDialMultiaddr: () => false },
  };
}

/**
 * Create (and start) the libp2p node of one meeting participant: WebSockets and TCP to
 * reach servers, circuit relay transport for signaling (meeting links are meshmeet's own
 * WebRTC sessions, see `src/connect/`), kad-dht in client mode.
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
  const privateKey = init.privateKey ?? await generateKeyPair("Ed25519");
  return await createLibp2p({
    ..._sharedOptions(),
    privateKey,
    // Only relay addresses: meeting links are WebRTC sessions of meshmeet's own
    // (src/connect/), signaled over streams on these relayed connections.
    addresses: {
      // One "/p2p-circuit" per relay reservation wanted: libp2p's reservation store makes
      // one reservation, each on a distinct relay, per such listen address.
      listen: [
        ...Array.from({ length: Math.max(1, init.relayReservations ?? 1) }, () => "/p2p-circuit"),
        ...(init.listen ?? []),
      ],
      ...(init.announceFilter ? { announceFilter: init.announceFilter } : {}),
    },
    transports: [
      // WebSockets + TCP on Deno/Node; WebSockets, WebRTC-Direct, WebTransport in browsers.
      ...serverDialTransports({ rtcConfiguration: init.rtcConfiguration }),
      // libp2p's, with a paced random walk for relay discovery (see relay_walk.ts).
      pacedRelayTransport({ reservationCompletionTimeout: 10_000 }),
    ],
    connectionManager: { inboundConnectionThreshold: 100, maxConnections: 400 },
    services: {
      // Not on relayed (limited) connections: those are to other members, whose addresses
      // and keys come from their presence records and the membership handshake, so an
      // identify exchange there (a stream each way through the relay, a signed peer record
      // to verify, peer-store writes) only competed with the first link of a join: the
      // timeline probe's join -> ack p50 fell 6-12 % (e.g. 156.0 -> 143.9 ms), CPU by
      // 20-27 ms a round. Direct connections (bootstrap nodes: relay and DHT protocols)
      // still identify.
      identify: identify({ runOnLimitedConnection: false }),
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
  /**
   * Where DHT records and provider records are kept (in memory when omitted). It is wrapped
   * in a {@linkcode RendezvousDatastore} with `rendezvousLimits` unless it is one already.
   */
  datastore?: Datastore;
  /**
   * What the DHT server keeps and answers per key (see `rendezvous/limits.ts`).
   * @default {{ providersAnswered: 64, providersKept: 256, providerTtlMs: 300_000, recordsKeptPerScope: 512 }}
   */
  rendezvousLimits?: RendezvousLimits;
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
  /**
   * Where a WebRTC-Direct listener keeps its key and certificate (so its certhash survives
   * restarts); new ones at every start when omitted.
   */
  webRtcDirectStore?: WebRtcDirectStore;
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
  const datastore = init.datastore instanceof RendezvousDatastore
    ? init.datastore
    : new RendezvousDatastore(init.datastore ?? new MemoryDatastore(), init.rendezvousLimits);
  return await createLibp2p({
    ..._sharedOptions(),
    privateKey,
    addresses: { listen: init.listen, announce: init.announce },
    datastore,
    transports: [
      ...listenTransports(),
      // For browsers on https pages (see webRtcDirectListenTransport), when asked for.
      ...(init.listen.some((a) => a.includes("/webrtc-direct"))
        ? [await webRtcDirectListenTransport(init.webRtcDirectStore)]
        : []),
    ],
    connectionManager: {
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 1000,
      maxConnections: 5000,
    },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: 8, maxInboundStreams: 64 }),
      dht: _dht(false, datastore.limits.providerTtlMs),
      relay: relayServer({
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
