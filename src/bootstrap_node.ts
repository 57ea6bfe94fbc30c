/**
 * Bootstrap/relay nodes: the servers a meeting needs to find its way (DHT server, circuit
 * relay for signaling, WebSocket/TCP listeners). They never learn invitation codes and
 * cannot read presence records.
 *
 * @module
 */
import { privateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { loadOrCreateIdentity, webRtcDirectStore } from "./bootstrap_state.ts";
import type { Datastore } from "interface-datastore";
import { multiaddr } from "@multiformats/multiaddr";
import { BootstrapError } from "./errors.ts";
import { advertiseIceServers } from "./ice_servers.ts";
import { type BootstrapLibp2p, createBootstrapLibp2p } from "./node.ts";
import { type ComponentLogger, silentLogger } from "./logger.ts";
import type { RendezvousLimits } from "./rendezvous/limits.ts";
import {
  RendezvousDatastore,
  type RendezvousDatastoreStats,
} from "./rendezvous/rendezvous_datastore.ts";
import { MemoryDatastore } from "datastore-core";
import { sweepPeerStore } from "./rendezvous/peer_sweep.ts";
import { serveEntryPoints } from "./rendezvous/entry_points.ts";

/** Options of {@linkcode startBootstrapNode}. */
export interface BootstrapNodeOptions {
  /**
   * Listen multiaddrs.
   * @default {["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"]}
   */
  listen?: string[];
  /** Addresses to announce instead of the listen addresses. */
  announce?: string[];
  /** Other bootstrap nodes to connect to, so that several servers form one DHT. */
  peers?: string[];
  /**
   * Identity: a protobuf-encoded Ed25519 private key (keep it so the peer id, and with it
   * the bootstrap address, stays the same across restarts).
   * @default {a new Ed25519 key}
   */
  privateKey?: Uint8Array;
  /**
   * A directory for what should survive restarts (created when missing): the node's
   * identity, unless `privateKey` is given (so its peer id, and with it every address and
   * `/dnsaddr` record, stays the same), and its WebRTC-Direct certificate (so the certhash
   * does too, until the certificate is renewed, every 13 days). See `bootstrap_state.ts`.
   * @default {nothing kept: a new identity and certificate at every start}
   */
  stateDir?: string;
  /**
   * Where DHT and provider records are kept (an `interface-datastore` Datastore). It is used
   * through meshmeet's per-key limits (`rendezvousLimits`).
   * @default {in memory}
   */
  datastore?: unknown;
  /**
   * What the DHT server keeps and answers per key: at most `providersAnswered` providers
   * per answer (a fresh random subset), `providersKept` per key (the oldest go),
   * providers younger than `providerTtlMs`, and `recordsKeptPerScope` presence records
   * per meeting. kad-dht alone keeps and answers every provider (see
   * `rendezvous/rendezvous_datastore.ts`).
   * @default {{ providersAnswered: 64, providersKept: 256, providerTtlMs: 300_000, recordsKeptPerScope: 512 }}
   */
  rendezvousLimits?: RendezvousLimits;
  /**
   * Limits of one relayed connection (relayed meetings are the last resort).
   * @default {{ durationMs: 1_800_000, dataBytes: 67_108_864 }}
   */
  relayLimits?: { durationMs?: number; dataBytes?: number };
  /**
   * STUN/TURN servers to advertise to participants (they use them unless told otherwise).
   * @default {[]}
   */
  iceServers?: RTCIceServer[];
  /**
   * Logger.
   * @default {silentLogger}
   */
  logger?: ComponentLogger;
  /** Aborts start-up. */
  signal?: AbortSignal;
}

/** A running bootstrap/relay node. */
export interface BootstrapNode extends AsyncDisposable {
  /** Its peer id. */
  readonly peerId: string;
  /** Multiaddrs (with `/p2p/<peer id>`) to give to participants as their bootstrap list. */
  readonly addresses: string[];
  /**
   * The libp2p node underneath (DHT server + relay), for diagnostics.
   * @ignore
   */
  readonly libp2p: BootstrapLibp2p;
  /** When it started (ms since the epoch). */
  readonly startedAt: number;
  /** What the DHT server's limits did so far (answers made, entries left out or dropped). */
  readonly rendezvousStats: RendezvousDatastoreStats;
  /** Stop listening and close every connection. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start a bootstrap/relay node.
 *
 * @param options Listen addresses, peers, identity.
 * @returns The running node; give `addresses` to participants.
 * @throws {BootstrapError} When none of `peers` can be reached.
 * @throws {BootstrapStateError} When a file in `stateDir` cannot be read, written or used.
 *
 * @example Run a local bootstrap node
 * ```ts
 * import { startBootstrapNode } from "@meshmeet/core";
 * await using boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
 * console.log(boot.addresses);
 * ```
 */
export async function startBootstrapNode(
  options: BootstrapNodeOptions = {},
): Promise<BootstrapNode> {
  options.signal?.throwIfAborted();
  const log = (options.logger ?? silentLogger).forComponent("meshmeet:bootstrap");
  const given = options.datastore as Datastore | undefined;
  const datastore = given instanceof RendezvousDatastore
    ? given
    : new RendezvousDatastore(given ?? new MemoryDatastore(), options.rendezvousLimits);
  const { stateDir } = options;
  const privateKey = options.privateKey
    ? privateKeyFromProtobuf(options.privateKey)
    : stateDir !== undefined
    ? (await loadOrCreateIdentity(stateDir)).privateKey
    : undefined;
  const libp2p = await createBootstrapLibp2p({
    privateKey,
    webRtcDirectStore: stateDir !== undefined ? webRtcDirectStore(stateDir) : undefined,
    listen: options.listen ?? ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
    announce: options.announce,
    datastore,
    relayLimits: options.relayLimits,
  });
  // Newcomers of large meetings ask for a few presence records in one round trip.
  await serveEntryPoints(libp2p, datastore);
  if (options.iceServers && options.iceServers.length > 0) {
    await advertiseIceServers(libp2p, options.iceServers);
  }
  const peers = options.peers ?? [];
  if (peers.length > 0) {
    const results = await Promise.allSettled(
      peers.map((p) => libp2p.dial(multiaddr(p), { signal: options.signal })),
    );
    if (results.every((r) => r.status === "rejected")) {
      await libp2p.stop();
      throw new BootstrapError(
        `Cannot start bootstrap node: none of the ${peers.length} peer(s) could be reached`,
        { cause: (results[0] as PromiseRejectedResult).reason },
      );
    }
  }
  // Once per provider TTL: participants that left are forgotten once their provider records
  // can no longer be answered (see rendezvous/peer_sweep.ts), and expired presence records
  // are deleted (kad-dht keeps every record it was given).
  const departed = sweepPeerStore(libp2p, 2 * datastore.limits.providerTtlMs);
  const housekeeping = setInterval(() => {
    void departed.sweep();
    void datastore.sweepExpired().catch((err) => log.error("record sweep: %e", err));
  }, datastore.limits.providerTtlMs);
  // However the node stops (also through `libp2p.stop()`), the sweeps stop with it.
  libp2p.addEventListener("stop", () => {
    departed.stop();
    clearInterval(housekeeping);
  }, { once: true });
  const peerId = libp2p.peerId.toString();
  const addresses = libp2p.getMultiaddrs().map((ma) => ma.toString());
  log("started %s listening on %s", peerId, addresses.join(" "));
  let stopped: Promise<void> | undefined;
  const stop = () => stopped ??= Promise.resolve(libp2p.stop());
  return {
    peerId,
    addresses,
    libp2p,
    startedAt: Date.now(),
    rendezvousStats: datastore.stats,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
