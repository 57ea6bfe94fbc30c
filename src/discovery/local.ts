/**
 * Local discovery (requirement D8): participants on one LAN meet with the invitation code
 * alone, with or without bootstrap nodes.
 *
 * 1. Every participant's node listens on TCP and answers multicast DNS for
 *    {@linkcode LOCAL_SERVICE_TAG} with its peer id and private addresses, nothing else
 *    (`src/runtime/mdns.ts`). The node belongs to one meeting, and its peer id is fresh
 *    for every join unless the application keeps a key.
 * 2. A neighbour seen on mDNS is dialed (TCP + Noise, so both peer ids are authenticated)
 *    and challenged on {@linkcode LOCAL_PROTOCOL} with the meeting's membership key
 *    (`local_proof.ts`). An outsider, or a participant of another meeting, sees random
 *    bytes and learns neither the topic id, nor names, nor who else is in the meeting.
 * 3. Two members exchange their signed, encrypted presence records, whose addresses start
 *    with their LAN addresses (`/ip4/…/tcp/…/p2p/<id>`): the meeting opens its signaling
 *    stream there (over the TCP connection of the challenge, which stays open) instead of
 *    through a relay, and the WebRTC link follows as with any other peer.
 *
 * Who is challenged and when is decided by {@linkcode NeighbourTable} (no I/O).
 *
 * @module
 */
import type { Connection, PeerInfo, PrivateKey, Stream } from "@libp2p/interface";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { FrameType } from "../frame.ts";
import { FramedStream } from "../framed_stream.ts";
import type { Logger } from "../logger.ts";
import type { ParticipantLibp2p } from "../node.ts";
import {
  MAX_PRESENCE_ADDRESSES,
  openPresence,
  type Presence,
  type PresenceInfo,
  sealPresence,
} from "../presence.ts";
import type { TopicKeys } from "../topic.ts";
import { startMdns } from "../runtime/mdns.ts";
import type { MdnsHandle } from "../runtime/mdns.ts";
import { LOCAL_PROOF_BYTES, localNonce, localTag, verifyLocalTag } from "./local_proof.ts";
import { type NeighbourResult, NeighbourTable, type NeighbourTimers } from "./neighbours.ts";

/** The libp2p protocol of the local challenge. */
export const LOCAL_PROTOCOL = "/meshmeet/local/1.0.0";
/** The DNS-SD service name participants answer for (says "meshmeet", not which meeting). */
export const LOCAL_SERVICE_TAG = "_meshmeet._udp.local";
/** Listen address a participant adds for local discovery (every interface, any port). */
export const LOCAL_LISTEN: readonly string[] = Object.freeze(["/ip4/0.0.0.0/tcp/0"]);

const EXCHANGE_TIMEOUT_MS = 5000;
const MAX_RECORD_BYTES = 16 * 1024;

/** Counters of local discovery. */
export interface LocalDiscoveryStats {
  /** Neighbours seen on mDNS. */
  neighbours: number;
  /** Exchanges that found a member of our meeting. */
  members: number;
  /** Exchanges with a neighbour of another meeting (or none). */
  foreign: number;
  /** Exchanges that failed (timeout, refused, bad record). */
  failed: number;
  /** Time from start to the first member found (ms), once one was. */
  firstMemberMs?: number;
}

/** Options of local discovery. */
export interface LocalDiscoveryOptions extends NeighbourTimers {
  /**
   * mDNS query interval (ms).
   * @default {5000}
   */
  intervalMs?: number;
}

/** Everything {@linkcode LocalDiscovery} needs. */
export interface LocalDiscoveryInit extends LocalDiscoveryOptions {
  /** The participant's node (listening on TCP, see {@linkcode LOCAL_LISTEN}). */
  libp2p: ParticipantLibp2p;
  /** The meeting's keys. */
  keys: TopicKeys;
  /** The participant's key (signs the presence record). */
  privateKey: PrivateKey;
  /** Name, join time and relay addresses of our presence (called per exchange). */
  selfInfo: () => PresenceInfo;
  /** A verified presence of a LAN member, to hand to the meeting. */
  onPresence: (presence: Presence) => void;
  /** Logger. */
  log: Logger;
  /** Clock (ms), for tests. */
  now?: () => number;
  /** The mDNS starter (the runtime's by default; tests inject sightings). */
  startMdns?: typeof startMdns;
  /**
   * All of the node's own addresses, including those its announce filter hides
   * ({@linkcode hideLanAddresses}).
   * @default {() => libp2p.getMultiaddrs()}
   */
  ownAddresses?: () => Multiaddr[];
  /** Also use loopback addresses (tests on one machine); off on a real LAN. */
  includeLoopback?: boolean;
}

function _isLanTcp(ma: Multiaddr, includeLoopback = false): boolean {
  const s = ma.toString();
  return s.includes("/tcp/") && !s.includes("/p2p-circuit") && !s.includes("/ws") &&
    (includeLoopback || (!s.startsWith("/ip4/127.") && !s.startsWith("/ip6/::1/")));
}

/**
 * A participant's LAN address as the meeting dials it: with its peer id.
 *
 * @param address `/ip4/<ip>/tcp/<port>[/p2p/<id>]`.
 * @param peerId The participant.
 * @returns `/ip4/<ip>/tcp/<port>/p2p/<id>`.
 *
 * @example
 * ```ts ignore
 * lanAddress("/ip4/192.168.1.2/tcp/4001", id); // "/ip4/192.168.1.2/tcp/4001/p2p/<id>"
 * ```
 */
export function lanAddress(address: string, peerId: string): string {
  const base = address.replace(/\/p2p\/[^/]+$/, "");
  return `${base}/p2p/${peerId}`;
}

/**
 * An announce filter for the participant's node that keeps its LAN TCP addresses to local
 * discovery: identify (and through it the DHT) never hands them out, so only members who
 * passed the challenge learn them, inside the encrypted presence record.
 *
 * @returns The filter for `createParticipantLibp2p({ announceFilter })`, and `all()`, which
 * returns every address of the node as of the last call of the filter.
 *
 * @example
 * ```ts ignore
 * const hidden = hideLanAddresses();
 * const libp2p = await createParticipantLibp2p({ listen: LOCAL_LISTEN, announceFilter: hidden.filter });
 * new LocalDiscovery({ ..., ownAddresses: () => (libp2p.getMultiaddrs(), hidden.all()) });
 * ```
 */
export function hideLanAddresses(): {
  filter: (multiaddrs: Multiaddr[]) => Multiaddr[];
  all: () => Multiaddr[];
} {
  let all: Multiaddr[] = [];
  return {
    filter: (multiaddrs) => {
      all = multiaddrs;
      return multiaddrs.filter((ma) => !_isLanTcp(ma, true));
    },
    all: () => all,
  };
}

/** Finds the members of our meeting among the LAN neighbours that mDNS shows. */
export class LocalDiscovery {
  /** Counters. */
  readonly stats: LocalDiscoveryStats = { neighbours: 0, members: 0, foreign: 0, failed: 0 };
  readonly #init: LocalDiscoveryInit;
  readonly #table: NeighbourTable;
  readonly #now: () => number;
  readonly #seen = new Map<string, number>();
  readonly #addresses = new Map<string, Multiaddr[]>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #controller = new AbortController();
  #mdns: MdnsHandle | undefined;
  #seq = 0;
  #startedAt = 0;
  #running = false;

  /** @param init Node, keys, callbacks and timers. */
  constructor(init: LocalDiscoveryInit) {
    this.#init = init;
    this.#now = init.now ?? Date.now;
    this.#table = new NeighbourTable(init.libp2p.peerId.toString(), init);
  }

  /** The LAN addresses this node advertises (with its peer id). */
  get lanAddresses(): Multiaddr[] {
    const own = this.#init.ownAddresses ?? (() => this.#init.libp2p.getMultiaddrs());
    return own().filter((ma) => _isLanTcp(ma, this.#init.includeLoopback));
  }

  /**
   * Answer challenges and start multicast DNS.
   *
   * @returns Resolves when the mDNS socket is open.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.#now();
    const { libp2p } = this.#init;
    await libp2p.handle(LOCAL_PROTOCOL, (stream, connection) => {
      this.#track(this.#respond(stream, connection));
    }, { maxInboundStreams: 16, maxOutboundStreams: 16 });
    this.#mdns = await (this.#init.startMdns ?? startMdns)({
      serviceTag: LOCAL_SERVICE_TAG,
      intervalMs: this.#init.intervalMs ?? 5000,
      addresses: () => this.lanAddresses,
      logger: libp2p.logger,
      onPeer: (peer) => this.#onNeighbour(peer),
    });
  }

  /** Stop answering and querying; waits for exchanges in flight. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#controller.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#mdns?.stop();
    await Promise.allSettled([...this.#tasks]);
    await Promise.resolve(this.#init.libp2p.unhandle(LOCAL_PROTOCOL)).catch(() => {});
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  #onNeighbour(peer: PeerInfo): void {
    if (!this.#running) return;
    const peerId = peer.id.toString();
    const addresses = peer.multiaddrs.filter((ma) => _isLanTcp(ma, this.#init.includeLoopback));
    if (addresses.length === 0) return;
    if (!this.#addresses.has(peerId)) this.stats.neighbours++;
    this.#addresses.set(peerId, addresses);
    this.#decide(peerId);
  }

  #decide(peerId: string): void {
    if (!this.#running) return;
    const decision = this.#table.seen(peerId, this.#now());
    if (decision.action === "wait") {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#decide(peerId);
      }, decision.ms);
      this.#timers.add(timer);
    } else if (decision.action === "challenge") {
      this.#track(this.#challenge(peerId));
    }
  }

  #done(peerId: string, result: NeighbourResult): void {
    this.#table.done(peerId, result, this.#now());
    this.stats[result === "member" ? "members" : result]++;
    if (result === "member") this.stats.firstMemberMs ??= this.#now() - this.#startedAt;
  }

  async #ownRecord(): Promise<Uint8Array> {
    const { keys, privateKey, libp2p } = this.#init;
    const info = this.#init.selfInfo();
    const self = libp2p.peerId.toString();
    const lan = this.lanAddresses.map((ma) => lanAddress(ma.toString(), self));
    const addresses = [...new Set([...lan, ...info.addresses])].slice(0, MAX_PRESENCE_ADDRESSES);
    this.#seq = Math.max(this.#seq + 1, this.#now());
    const { bytes } = await sealPresence(keys, privateKey, { ...info, addresses }, {
      seq: this.#seq,
      ttlMs: 60_000,
    });
    return bytes;
  }

  async #open(peerId: string, bytes: Uint8Array): Promise<Presence> {
    const presence = await openPresence(this.#init.keys, peerId, bytes, {
      minSeq: this.#seen.get(peerId),
    });
    this.#seen.set(peerId, presence.record.seq);
    return presence;
  }

  async #challenge(peerId: string): Promise<void> {
    const { libp2p, keys, log } = this.#init;
    const self = libp2p.peerId.toString();
    const signal = AbortSignal.any([
      this.#controller.signal,
      AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    ]);
    const before = new Set(
      libp2p.getConnections().filter((c) => c.remotePeer.toString() === peerId),
    );
    const addresses = (this.#addresses.get(peerId) ?? []).map((ma) =>
      ma.toString().includes("/p2p/") ? ma : multiaddr(`${ma}/p2p/${peerId}`)
    );
    let connection: Connection | undefined;
    let framed: FramedStream | undefined;
    let result: NeighbourResult = "failed";
    let presence: Presence | undefined;
    try {
      connection = await libp2p.dial(addresses, { signal });
      const stream = await connection.newStream(LOCAL_PROTOCOL, { signal });
      framed = new FramedStream(stream, { maxPayload: MAX_RECORD_BYTES });
      const nI = localNonce();
      await framed.write(_frame(FrameType.Hello, nI), { signal });
      const answer = await framed.read({ signal });
      if (answer.type !== FrameType.Proof || answer.payload.length !== 2 * LOCAL_PROOF_BYTES) {
        result = "foreign";
        return;
      }
      const nR = answer.payload.slice(0, LOCAL_PROOF_BYTES);
      const tagR = answer.payload.slice(LOCAL_PROOF_BYTES);
      const ids: [string, string] = [self, peerId];
      if (!await verifyLocalTag(keys, "responder", ids, [nI, nR], tagR)) {
        result = "foreign"; // another meeting: say nothing more
        return;
      }
      const tagI = await localTag(keys, "initiator", ids, [nI, nR]);
      await framed.write(_frame(FrameType.Proof, _concat(tagI, await this.#ownRecord())), {
        signal,
      });
      const reply = await framed.read({ signal });
      if (reply.type !== FrameType.Presence) throw new Error("expected its presence record");
      presence = await this.#open(peerId, reply.payload);
      result = "member";
    } catch (err) {
      log(`local exchange with ${peerId} failed: ${(err as Error).message}`);
    } finally {
      if (result === "failed") framed?.abort(new Error("local exchange failed"));
      else await framed?.close().catch(() => {});
      // A member's connection stays: the meeting's signaling stream goes over it next. One
      // to a stranger, or one that failed, is closed (unless it was there before).
      if (connection && result !== "member" && !before.has(connection)) {
        await connection.close().catch(() => {});
      }
      this.#done(peerId, result);
      if (result !== "member") log(`LAN neighbour ${peerId}: ${result}`);
    }
    if (presence && this.#running) {
      log(`LAN neighbour ${peerId} is a member (${presence.info.name || "no name"})`);
      this.#init.onPresence(presence);
    }
  }

  async #respond(stream: Stream, connection: Connection): Promise<void> {
    const { libp2p, keys, log } = this.#init;
    const peerId = connection.remotePeer.toString();
    const self = libp2p.peerId.toString();
    const framed = new FramedStream(stream, { maxPayload: MAX_RECORD_BYTES });
    const signal = AbortSignal.any([
      this.#controller.signal,
      AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    ]);
    let presence: Presence | undefined;
    try {
      const hello = await framed.read({ signal });
      if (hello.type !== FrameType.Hello || hello.payload.length !== LOCAL_PROOF_BYTES) {
        throw new Error("expected a nonce");
      }
      const nI = hello.payload;
      const nR = localNonce();
      const ids: [string, string] = [peerId, self];
      const tagR = await localTag(keys, "responder", ids, [nI, nR]);
      await framed.write(_frame(FrameType.Proof, _concat(nR, tagR)), { signal });
      let proof;
      try {
        proof = await framed.read({ signal });
      } catch {
        // The initiator hung up: it is not in our meeting. We told it nothing.
        this.#table.done(peerId, "foreign", this.#now());
        return;
      }
      const tagI = proof.payload.slice(0, LOCAL_PROOF_BYTES);
      if (
        proof.type !== FrameType.Proof ||
        !await verifyLocalTag(keys, "initiator", ids, [nI, nR], tagI)
      ) {
        throw new Error("the initiator's tag does not verify");
      }
      presence = await this.#open(peerId, proof.payload.slice(LOCAL_PROOF_BYTES));
      await framed.write(_frame(FrameType.Presence, await this.#ownRecord()), { signal });
      await framed.close();
      this.#done(peerId, "member");
    } catch (err) {
      framed.abort(err as Error);
      log(`local challenge from ${peerId} failed: ${(err as Error).message}`);
      return;
    }
    if (this.#running) this.#init.onPresence(presence);
  }
}

function _frame(type: number, payload: Uint8Array) {
  return { type, flags: 0, channel: 0, seq: 0, ref: 0, payload } as Parameters<
    FramedStream["write"]
  >[0];
}

function _concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
