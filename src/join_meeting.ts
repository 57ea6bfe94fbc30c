/**
 * `joinMeeting()`: the one verb of meshmeet.
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { generateKeyPair, privateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { groupBootstrapAddresses } from "./_bootstrap_addresses.ts";
import { Circuit } from "@multiformats/multiaddr-matcher";
import { BootstrapError, MeetingClosedError } from "./errors.ts";
import { type ComponentLogger, silentLogger } from "./logger.ts";
import { checkMeetingOptions, Meeting, type MeetingOptions } from "./meeting.ts";
import { createParticipantLibp2p, type ParticipantLibp2p } from "./node.ts";
import { MAX_NAME_LENGTH } from "./presence.ts";
import { holdWebRtc, RTCPeerConnection, type RuntimeRtcConfiguration } from "./runtime/webrtc.ts";
import { deriveTopicKeys } from "./topic.ts";
import { fetchIceServers } from "./ice_servers.ts";
import { discoverPublicAddress } from "./public_address.ts";
import { normalizeInvitationCode } from "./invitation_code.ts";
import { relayReservationCount } from "./relay_reservations.ts";
import { BootstrapKeeper } from "./bootstrap_keeper.ts";
import {
  hideLanAddresses,
  LOCAL_LISTEN,
  LocalDiscovery,
  type LocalDiscoveryOptions,
} from "./discovery/local.ts";
import { mdnsAvailable } from "./runtime/mdns.ts";
import { resolveBootstrapList } from "./bootstrap_list.ts";
import type { DnsOptions } from "./runtime/dns.ts";
import { PeerRecordPublisher } from "./peer_record.ts";

/**
 * The bootstrap list used when none is given. meshmeet runs no public servers yet, so it
 * is empty: pass `bootstrap` (addresses printed by `meshmeet serve` or
 * `startBootstrapNode()`).
 */
export const DEFAULT_BOOTSTRAP: readonly string[] = Object.freeze([]);

/** Options of {@linkcode joinMeeting}. */
export interface JoinMeetingOptions extends MeetingOptions {
  /**
   * Display name shown to the other participants (at most 64 characters).
   * @default {""}
   */
  name?: string;
  /**
   * Bootstrap/relay multiaddrs (with `/p2p/<peer id>`), or `/dnsaddr/<domain>` names whose
   * DNS TXT records list them. Empty: meet on the LAN only (local discovery).
   * @default {DEFAULT_BOOTSTRAP}
   */
  bootstrap?: readonly string[];
  /**
   * The node's identity: an Ed25519 private key in libp2p's protobuf encoding (what
   * `privateKeyToProtobuf()` of `@libp2p/crypto/keys` returns). Keep it to keep the same
   * peer id across meetings.
   * @default {a new Ed25519 key for every join}
   */
  privateKey?: Uint8Array;
  /**
   * WebRTC configuration: `iceServers` (STUN/TURN), other `RTCConfiguration` fields, and
   * `bindAddress` (signal host candidates on this address only, e.g. `127.0.0.1`).
   * @default {{ iceServers: [] }}
   */
  rtcConfiguration?: RuntimeRtcConfiguration;
  /**
   * The `RTCPeerConnection` class meeting links use: any W3C-shaped implementation
   * (trystero calls this `rtcPolyfill`). Tested: libwebrtc through `@roamhq/wrtc` (the
   * default on Deno and Node) and Chromium's own (the default in browsers).
   * @default {the runtime's: `@roamhq/wrtc` on Deno/Node, `globalThis.RTCPeerConnection` in browsers}
   */
  rtcPeerConnection?: typeof globalThis.RTCPeerConnection;
  /**
   * Also use the STUN/TURN servers that the bootstrap nodes advertise.
   * @default {true}
   */
  useBootstrapIceServers?: boolean;
  /**
   * How long to wait for a bootstrap connection and a relay reservation (ms).
   * @default {15_000}
   */
  bootstrapTimeoutMs?: number;
  /**
   * Scoped logger (`meshmeet:meeting`, `meshmeet:rendezvous`, `meshmeet:connect`, …).
   * @default {silentLogger}
   */
  logger?: ComponentLogger;
  /** Aborts the join; the promise rejects with `signal.reason` and nothing is left running. */
  signal?: AbortSignal;
  /**
   * Local discovery (multicast DNS on the LAN, Deno and Node only): participants on one
   * LAN meet without bootstrap nodes. `false` turns it off; an object sets its timers.
   * Nothing multicast names the meeting (see `discovery/local.ts`).
   * @default {true on Deno and Node (unless `rtcConfiguration.bindAddress` is a loopback
   * address), false in browsers}
   */
  localDiscovery?: boolean | LocalDiscoveryOptions;
  /**
   * Where `/dnsaddr/<domain>` bootstrap entries are resolved: a DNS server (Deno/Node) or a
   * DNS-over-HTTPS endpoint (browsers).
   * @default {the system's resolver; Cloudflare's DNS-over-HTTPS in browsers}
   */
  dns?: Omit<DnsOptions, "signal">;
  /**
   * Publish a signed record of this node's current addresses under its peer id in the DHT,
   * refreshed every third of `ttlMs`, so that `findPeer(peerId)` finds it (needs a
   * bootstrap list). Off by default: with a kept `privateKey` it makes the node traceable.
   * @default {false}
   */
  findable?: boolean | { ttlMs?: number };
}

function _importKey(bytes: Uint8Array): PrivateKey {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (cause) {
    throw new TypeError(
      "Cannot join meeting: privateKey is not a protobuf-encoded libp2p private key",
      { cause },
    );
  }
  if (key.type !== "Ed25519") {
    throw new TypeError(`Cannot join meeting: privateKey must be Ed25519, got ${key.type}`);
  }
  return key;
}

async function _bootstrap(
  libp2p: ParticipantLibp2p,
  bootstrap: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const groups = groupBootstrapAddresses(bootstrap);
  const results = await Promise.allSettled(
    groups.map((addresses) => libp2p.dial(addresses, { signal })),
  );
  if (results.every((r) => r.status === "rejected")) {
    signal.throwIfAborted();
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason?.message).join("; ");
    throw new BootstrapError(
      `Cannot join meeting: none of the ${groups.length} bootstrap node(s) could be reached ` +
        `(${reasons}); check the addresses and that the nodes are running`,
      { cause: (results[0] as PromiseRejectedResult).reason },
    );
  }
}

async function _reservation(libp2p: ParticipantLibp2p, signal: AbortSignal): Promise<void> {
  const has = () => libp2p.getMultiaddrs().some((ma) => Circuit.matches(ma));
  if (has()) return;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (has()) done(resolve);
    };
    const onAbort = () => done(() => reject(signal.reason));
    // libp2p debounces "self:peer:update" by a second (address-manager/index.js), but the
    // relay address is in getMultiaddrs() as soon as the reservation is made: poll too.
    const poll = setInterval(check, 10);
    const done = (fn: () => void) => {
      clearInterval(poll);
      libp2p.removeEventListener("self:peer:update", check);
      libp2p.removeEventListener("transport:listening", check);
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    libp2p.addEventListener("self:peer:update", check);
    libp2p.addEventListener("transport:listening", check);
    signal.addEventListener("abort", onAbort, { once: true });
    check();
  });
}

/**
 * Join a meeting with nothing but its invitation code (and a bootstrap list).
 *
 * Derives the meeting's keys (the code never leaves this process), starts a libp2p node,
 * connects to a bootstrap node, reserves a relay slot for signaling, announces itself in
 * the DHT and looks the other participants up. Direct WebRTC connections follow in the
 * background; watch `peer:join`.
 *
 * @param code The invitation code (see `generateInvitationCode()`).
 * @param options Name, bootstrap list, ICE servers, timers.
 * @returns The joined meeting. Leave it with `leave()` or `await using`.
 * @throws {InvalidInvitationCodeError} When the code is empty, too short or malformed.
 * @throws {BootstrapError} When no bootstrap node could be reached or no relay slot reserved.
 * @throws {TypeError} When an option is invalid (e.g. a name over 64 characters).
 *
 * @example Two participants on one machine
 * ```ts ignore
 * import { generateInvitationCode, joinMeeting, startBootstrapNode } from "@meshmeet/core";
 * await using boot = await startBootstrapNode();
 * const code = generateInvitationCode();
 * await using ada = await joinMeeting(code, { name: "Ada", bootstrap: boot.addresses });
 * await using bob = await joinMeeting(code, { name: "Bob", bootstrap: boot.addresses });
 * bob.addEventListener("message", (e) => console.log(e.detail.name, e.detail.text));
 * ada.addEventListener("peer:join", (e) => ada.send(e.detail.peerId, "hello Bob"));
 * ```
 */
export async function joinMeeting(
  code: string,
  options: JoinMeetingOptions = {},
): Promise<Meeting> {
  const joinStarted = performance.now();
  const outer = options.signal;
  outer?.throwIfAborted();
  normalizeInvitationCode(code); // fail fast on a bad code, before anything starts
  checkMeetingOptions(options);
  const name = options.name ?? "";
  if (typeof name !== "string" || name.length > MAX_NAME_LENGTH) {
    throw new TypeError(
      `Cannot join meeting: name must be a string of at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  const PeerConnection = options.rtcPeerConnection;
  if (
    PeerConnection !== undefined &&
    (typeof PeerConnection !== "function" ||
      typeof PeerConnection.prototype?.createDataChannel !== "function")
  ) {
    throw new TypeError(
      "Cannot join meeting: rtcPeerConnection must be an RTCPeerConnection class " +
        "(with createOffer, createDataChannel, …), e.g. the default export of @roamhq/wrtc",
    );
  }
  let bootstrap = options.bootstrap ?? DEFAULT_BOOTSTRAP;
  // A node whose WebRTC is kept on loopback (`bindAddress: "127.0.0.1"`, as tests and
  // benchmarks do) has no LAN to meet on: local discovery is off unless asked for.
  const bind = options.rtcConfiguration?.bindAddress;
  const loopbackOnly = bind !== undefined && (bind.startsWith("127.") || bind === "::1");
  const local = options.localDiscovery ?? (mdnsAvailable && !loopbackOnly);
  if (local !== false && !mdnsAvailable) {
    throw new TypeError(
      "Cannot join meeting: localDiscovery needs multicast, which this runtime (a browser) " +
        "does not have; leave it unset and pass options.bootstrap",
    );
  }
  if (options.findable && bootstrap.length === 0) {
    throw new TypeError(
      "Cannot join meeting: findable publishes a record in the DHT, which needs " +
        "options.bootstrap",
    );
  }
  if (bootstrap.length === 0 && local === false) {
    throw new BootstrapError(
      "Cannot join meeting: no bootstrap nodes configured and local discovery is off; pass " +
        "options.bootstrap (run `meshmeet serve` or startBootstrapNode() to get addresses)",
    );
  }
  for (const address of bootstrap) {
    try {
      multiaddr(address);
    } catch (cause) {
      throw new TypeError(
        `Cannot join meeting: bootstrap address ${JSON.stringify(address)} is not a multiaddr`,
        { cause },
      );
    }
  }
  const logger = options.logger ?? silentLogger;
  const log = {
    meeting: logger.forComponent("meshmeet:meeting"),
    rendezvous: logger.forComponent("meshmeet:rendezvous"),
    connect: logger.forComponent("meshmeet:connect"),
    link: logger.forComponent("meshmeet:link"),
  };
  const timings: Record<string, number> = {};
  const since = (t: number) => Math.round((performance.now() - t) * 10) / 10;

  // The KDF (slow on purpose) runs while the node starts and dials the bootstrap nodes.
  const keysPromise = (async () => {
    const t = performance.now();
    const keys = await deriveTopicKeys(code);
    timings.kdfMs = since(t);
    return keys;
  })();
  keysPromise.catch(() => {}); // observed below

  const privateKey = options.privateKey
    ? _importKey(options.privateKey)
    : await generateKeyPair("Ed25519");
  // ICE servers: the user's first, then what the bootstrap nodes advertise (asked before
  // every WebRTC dial, so the list can grow after the node has started).
  let iceServers: RTCIceServer[] = [...(options.rtcConfiguration?.iceServers ?? [])];
  if (bootstrap.some((a) => a.startsWith("/dnsaddr/"))) {
    bootstrap = await resolveBootstrapList(bootstrap, { ...options.dns, signal: outer });
  }
  const lanAddresses = hideLanAddresses();
  const libp2p = await createParticipantLibp2p({
    privateKey,
    rtcConfiguration: () => ({ ...options.rtcConfiguration, iceServers }),
    relayReservations: relayReservationCount(groupBootstrapAddresses(bootstrap).length),
    listen: local === false
      ? []
      : bind !== undefined && !loopbackOnly && !bind.includes(":")
      ? [`/ip4/${bind}/tcp/0`]
      : LOCAL_LISTEN,
    ...(local === false ? {} : { announceFilter: lanAddresses.filter }),
  });
  // A timer cleared when the join ends, not AbortSignal.timeout(): that one stays armed for
  // the whole budget and, through the listeners libp2p's dials leave on it, kept every
  // finished join's node reachable for 15 s (issue 12: heap growing over join/leave rounds).
  const budgetController = new AbortController();
  const budgetMs = options.bootstrapTimeoutMs ?? 15_000;
  const budgetTimer = setTimeout(
    () => budgetController.abort(new DOMException(`Join took over ${budgetMs} ms`, "TimeoutError")),
    budgetMs,
  );
  const budget = budgetController.signal;
  const signal = outer ? AbortSignal.any([outer, budget]) : budget;
  let releaseWebRtc: (() => void) | undefined;
  try {
    const t0 = performance.now();
    const dialed = bootstrap.length > 0 ? _bootstrap(libp2p, bootstrap, signal) : undefined;
    // One WebRTC factory for the meeting's whole life, however often its peer connections
    // come and go (see holdWebRtc(): on Deno each one rebuilt was leaked). The first peer
    // connection of a process builds libwebrtc's factory, 11–15 ms of this thread on the
    // development VM: it is made while the bootstrap dial waits on the network, not after
    // the join's last wait, where it delayed the first lookup by as much.
    releaseWebRtc = options.rtcPeerConnection ? undefined : holdWebRtc();
    await dialed;
    timings.bootstrapMs = since(t0);
    const publicAddressPromise = (async () => {
      const t = performance.now();
      if (options.useBootstrapIceServers !== false) {
        const peers = [...new Set(libp2p.getConnections().map((c) => c.remotePeer))];
        const advertised = await fetchIceServers(
          libp2p,
          peers,
          AbortSignal.any([signal, AbortSignal.timeout(2000)]),
        );
        iceServers = [...iceServers, ...advertised];
      }
      const info = await discoverPublicAddress(iceServers, {
        localAddress: options.rtcConfiguration?.bindAddress,
        signal,
      });
      timings.stunMs = since(t);
      if (info.status === "unreachable") log.meeting(info.error ?? "STUN unreachable");
      return info;
    })();
    publicAddressPromise.catch(() => {});
    const t1 = performance.now();
    await (bootstrap.length === 0 ? Promise.resolve() : _reservation(libp2p, signal)).catch(
      (err) => {
        outer?.throwIfAborted();
        throw new BootstrapError(
          "Cannot join meeting: no relay slot could be reserved on the bootstrap nodes " +
            "(they must run the circuit relay server, e.g. `meshmeet serve`)",
          { cause: err },
        );
      },
    );
    timings.reservationMs = since(t1);
    const keys = await keysPromise;
    const publicAddress = await publicAddressPromise;
    outer?.throwIfAborted();
    let localDiscovery: LocalDiscovery | undefined;
    let publisher: PeerRecordPublisher | undefined;
    let keeper: BootstrapKeeper | undefined;
    const meeting: Meeting = new Meeting({
      libp2p,
      privateKey,
      keys,
      name,
      log,
      joinTimings: timings,
      joinStarted,
      publicAddress,
      iceServers: () => iceServers,
      rtcConfiguration: options.rtcConfiguration ?? {},
      PeerConnection: options.rtcPeerConnection ?? RTCPeerConnection,
      dht: bootstrap.length > 0,
      beforeStop: async () => {
        keeper?.stop();
        releaseWebRtc?.();
        publisher?.stop();
        await localDiscovery?.stop();
      },
    }, options);
    if (local !== false) {
      localDiscovery = new LocalDiscovery({
        ...(typeof local === "object" ? local : {}),
        libp2p,
        keys,
        privateKey,
        log: logger.forComponent("meshmeet:local"),
        ownAddresses: () => {
          libp2p.getMultiaddrs(); // runs the announce filter, which records every address
          return lanAddresses.all();
        },
        selfInfo: () => {
          const self = meeting.self;
          return {
            peerId: self.peerId,
            name: self.name,
            joinedAt: self.joinedAt,
            addresses: self.addresses.filter((a) => a.includes("/p2p-circuit")),
            ...(self.publicAddress ? { publicAddress: self.publicAddress } : {}),
          };
        },
        onPresence: (presence) => meeting.discovered(presence),
      });
    }
    try {
      await meeting.start();
      if (bootstrap.length > 0) {
        // Redial bootstrap nodes lost later on (libp2p stops after ~31 s; see there).
        const groups = groupBootstrapAddresses(bootstrap);
        keeper = new BootstrapKeeper(libp2p, groups, relayReservationCount(groups.length));
        keeper.start();
      }
      await localDiscovery?.start();
      if (options.findable) {
        publisher = new PeerRecordPublisher({
          libp2p,
          privateKey,
          ttlMs: typeof options.findable === "object" ? options.findable.ttlMs : undefined,
          addresses: () => libp2p.getMultiaddrs().map(String),
          log: logger.forComponent("meshmeet:peer-record"),
        });
        await publisher.start();
      }
    } catch (err) {
      await meeting.leave();
      throw err;
    }
    timings.totalMs = since(joinStarted);
    log.meeting(`joined topic ${keys.topicId.slice(0, 12)} in ${timings.totalMs} ms`);
    if (outer?.aborted) {
      await meeting.leave();
      throw outer.reason;
    }
    return meeting;
  } catch (err) {
    releaseWebRtc?.();
    await Promise.resolve(libp2p.stop()).catch(() => {});
    await keysPromise.catch(() => {});
    if (outer?.aborted) throw outer.reason;
    if (err instanceof MeetingClosedError && outer?.aborted) throw outer.reason;
    throw err;
  } finally {
    clearTimeout(budgetTimer);
  }
}
