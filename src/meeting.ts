/**
 * A joined meeting: the object an application holds. It ties the rendezvous (who is
 * there), the dialer (direct WebRTC to each of them, after the membership handshake), the
 * link table (messages, acks, heartbeats, leases per peer) and the overlay (roster, bounded
 * mesh, broadcast through the mesh) together, and reports everything as typed events.
 *
 * Who dials: for each pair, the peer with the lower peer id dials, so there is never
 * glare. Dialing opens a signaling stream over the circuit relay, runs the membership
 * handshake on it, and then offers a WebRTC session of meshmeet's own (`src/connect/`):
 * meeting frames ride straight on its data channel. A peer that discovers a lower peer
 * "knocks" instead: it hands its signed, encrypted presence record to that peer over a
 * relayed stream, and the lower peer verifies it and dials back.
 *
 * Beside this file: `meeting_dialer.ts` (opening links: dial or knock, strangers' backoff),
 * `meeting_links.ts` (the link table: attaching, watching, redialling, upgrading, expiring
 * and removing links), `meeting_messages.ts` (sending, broadcasting, requests, delivery),
 * `meeting_overlay.ts` (the overlay as a meeting runs it: contacts, full-mesh joins, links
 * on demand), `known_peers.ts` (what discovery found), `meeting_events.ts` (typed
 * listeners), `meeting_components.ts` (what a meeting is built from) and `meeting_types.ts`
 * (options with their defaults, events, participants, counters).
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import { MeetingClosedError } from "./errors.ts";
import { KNOCK_PROTOCOL } from "./connect/knock.ts";
import { SIGNAL_PROTOCOL } from "./connect/signaling.ts";
import type { MessageData } from "./message_codec.ts";
import type { ParticipantLibp2p } from "./node.ts";
import { MeetingEvents } from "./meeting_events.ts";
import { MeetingOverlay } from "./meeting_overlay.ts";
import { KnownPeers } from "./known_peers.ts";
import type { MeetingComponents } from "./meeting_components.ts";
import { MeetingDialer } from "./meeting_dialer.ts";
import { MeetingLinks } from "./meeting_links.ts";
import { MeetingMessages } from "./meeting_messages.ts";
import type { OverlayOptions } from "./overlay/types.ts";
import type { Presence, PresenceInfo } from "./presence.ts";
import type { FramedStream } from "./framed_stream.ts";
import { ENOUGH_ENTRY_POINTS, Rendezvous, type RendezvousStats } from "./rendezvous.ts";
import { dropSparePayloads } from "./_payload_pool.ts";
import { RelayAddressWatcher } from "./relay_reservations.ts";
import {
  type MeetingEventMap,
  type MeetingOptions,
  type MeetingSettings,
  meetingSettings,
  type MeetingStats,
  newMeetingStats,
  type Participant,
  type SelfInfo,
} from "./meeting_types.ts";

/** The libp2p protocol of signaling streams (handshake, then WebRTC offer/answer or the relay rung). */
export const MEETING_PROTOCOL: string = SIGNAL_PROTOCOL;
export { KNOCK_PROTOCOL };
export type { MeetingComponents };
export { MeetingEvents };

export {
  type CandidateInfo,
  checkMeetingOptions,
  type ConnectionFailedDetail,
  type ConnectionPath,
  type ConnectionStateDetail,
  type HandshakeFailedDetail,
  type MeetingEventMap,
  type MeetingOptions,
  type MeetingStats,
  type MessageDetail,
  type Participant,
  type PeerDiscoveredDetail,
  type PeerJoinDetail,
  type PeerLeaveDetail,
  type RequestDetail,
  type SelfInfo,
} from "./meeting_types.ts";

/**
 * A meeting this node has joined. Create one with `joinMeeting()`.
 *
 * Events: `peer:join`, `peer:leave`, `message`, `request`, `connection:state`,
 * `peer:discovered`, `handshake:failed` (see {@linkcode MeetingEventMap}).
 */
export class Meeting extends MeetingEvents implements AsyncDisposable {
  /** Public id of the meeting's topic (safe to log and show; not the code). */
  readonly topicId: string;
  #c: MeetingComponents;
  readonly #options: MeetingSettings;
  /** The overlay, when the meeting runs over it (`overlay` option). */
  #overlay: MeetingOverlay | undefined;
  /** Tells the overlay when our relay addresses (our contact in the roster) change. */
  #contactWatcher: RelayAddressWatcher | undefined;
  #rendezvous: Rendezvous;
  readonly #links: MeetingLinks;
  readonly #known = new KnownPeers();
  readonly #dialer: MeetingDialer;
  readonly #messages: MeetingMessages;
  #leaseTimer: ReturnType<typeof setInterval> | undefined;
  #upgradeTimer: ReturnType<typeof setInterval> | undefined;
  #left: Promise<void> | undefined;
  #joinedAt = Date.now();
  #stats: MeetingStats;

  /**
   * Use `joinMeeting()`; this constructor is for tests and advanced assembly.
   * @ignore
   *
   * @param components The started node, keys and loggers.
   * @param options Timers and limits.
   */
  constructor(components: MeetingComponents, options: MeetingOptions = {}) {
    super();
    this.#c = components;
    this.topicId = components.keys.topicId;
    this.#options = meetingSettings(options);
    this.#stats = newMeetingStats(components.joinTimings);
    this.#links = this.#linkTable();
    this.#dialer = this.#startDialer();
    this.#messages = new MeetingMessages({
      options: this.#options,
      stats: this.#stats,
      log: components.log.meeting,
      emit: (type, detail) => this.#emit(type, detail),
      links: this.#links,
      overlay: () => this.#overlay,
      left: () => this.left,
    });
    this.#rendezvous = new Rendezvous({
      // With the overlay a lookup needs a few verified entry points, not every record (the
      // mesh brings the rest); and in a large meeting only a rotating subset keeps its
      // record fresh.
      ...(options.overlay !== false ? { lookupEnough: ENOUGH_ENTRY_POINTS } : {}),
      ...options.rendezvous,
      rosterSize: () => this.#overlay?.node.rosterSize() ?? 1,
      libp2p: components.libp2p,
      keys: components.keys,
      privateKey: components.privateKey,
      log: components.log.rendezvous,
      selfInfo: () => this.#presenceInfo(),
      onPresence: (presence) => this.#onPresence(presence, "dht"),
      // With the overlay the DHT only supplies entry points: once linked, the mesh brings
      // the roster, so lookups slow down and skip records of members already held (every
      // member fetching every record is O(N²) DHT traffic: 60 members took 5 minutes to join).
      wantMore: () =>
        this.#overlay
          ? this.#overlay.node.neighbours().length === 0
          : this.#links.size < this.#options.maxPeers,
      isKnown: (peerId) =>
        this.#links.has(peerId) || this.#dialer.dialing(peerId) ||
        this.#overlay?.node.has(peerId) === true,
    });
    if (options.overlay !== false) {
      this.#overlay = this.#startOverlay(options.overlay ?? true);
      this.#contactWatcher = new RelayAddressWatcher({
        libp2p: components.libp2p,
        onChange: () => this.#overlay?.updateContact(this.#presenceInfo().addresses),
      });
    }
    // Before start(): they see the events that fire inside joinMeeting() (checked in
    // checkMeetingOptions()).
    for (const [type, listener] of Object.entries(options.on ?? {})) {
      this.addEventListener(type, listener as EventListener);
    }
  }

  /** The link table, wired to this meeting's dialer, overlay and events. */
  #linkTable(): MeetingLinks {
    return new MeetingLinks({
      self: this.#selfId(),
      libp2p: this.#c.libp2p,
      stats: this.#stats,
      log: this.#c.log,
      options: this.#options,
      host: {
        left: () => this.left,
        open: (peerId) => this.#dialer.open(peerId),
        wanted: (peerId) =>
          !this.#overlay ||
          (!this.#overlay.wasPruned(peerId) && this.#overlay.node.isNeighbour(peerId)),
        linked: (link, inbound) => {
          if (this.#overlay) this.#overlay.linked(link.peerId, inbound);
          else this.#emit("peer:join", this.#links.snapshot(link));
        },
        removing: (peerId) => {
          this.#overlay?.closed(peerId);
          if (!this.#overlay) this.#known.delete(peerId);
        },
        removed: (link, reason) => {
          if (this.#overlay) {
            // Roster departures come from the overlay; a link is only a link.
            if (!this.left) this.#overlay.linkDown(link.peerId, reason === "timeout");
          } else this.#emit("peer:leave", { peerId: link.peerId, name: link.name, reason });
          this.#rendezvous.wake();
        },
        onData: (link, frame) => this.#messages.received(link, frame),
        onRequest: (link, frame) => this.#messages.answer(link.peerId, link.name, frame.payload),
        onOverlay: (link, frame) => this.#overlay?.receive(link.peerId, frame.payload),
        emit: (type, detail) => this.#emit(type, detail),
      },
    });
  }

  /** The dialer, wired to this meeting's discovery, rendezvous, links, overlay and events. */
  #startDialer(): MeetingDialer {
    return new MeetingDialer({
      components: this.#c,
      joinedAt: this.#joinedAt,
      stats: this.#stats,
      options: this.#options,
      links: this.#links,
      host: {
        known: (peerId) => {
          // Found by discovery, or a roster member (its contact is in its roster entry).
          const known = this.#known.get(peerId);
          const name = known?.presence.info.name ?? this.#overlay?.node.member(peerId)?.entry.name;
          if (name === undefined) return undefined;
          const discoveredAt = known?.discoveredAt ?? Date.now();
          return { discoveredAt, name, addresses: this.#signalingAddresses(peerId) };
        },
        addresses: (peerId) => this.#signalingAddresses(peerId),
        discovered: (peerId) => this.#known.has(peerId),
        ownRecord: async () => this.#rendezvous.ownRecord ?? await this.#rendezvous.sealOwnRecord(),
        accept: (peerId, record) => this.#rendezvous.accept(peerId, record),
        onPresence: (presence, stream) => this.#onPresence(presence, "knock", stream),
        onConnectionFailed: (peerId, name, error) => {
          this.#overlay?.unreachable(peerId); // its join shows unlinked: every rung failed
          this.#emit("connection:failed", { peerId, name, error });
        },
        onUnreachable: (peerId, error, gone) => {
          // The overlay's connect is over (its slot is free for another member); a member
          // gone from its relay is reported like a dial whose every rung failed.
          this.#overlay?.unreachable(peerId);
          if (gone) {
            const name = this.#known.get(peerId)?.presence.info.name ?? "";
            this.#emit("connection:failed", { peerId, name, error });
          }
        },
        emit: (type, detail) => this.#emit(type, detail),
      },
    });
  }

  /** The overlay, wired to this meeting's links and events. */
  #startOverlay(options: true | OverlayOptions): MeetingOverlay {
    const self = this.self;
    const { dialTimeoutMs, turnTimeoutMs, relayTimeoutMs } = this.#options;
    return new MeetingOverlay({
      self: {
        peerId: self.peerId,
        name: self.name,
        joinedAt: self.joinedAt,
        contact: this.#presenceInfo().addresses,
      },
      topic: this.topicId,
      privateKey: this.#c.privateKey,
      options: options === true ? {} : options,
      log: this.#c.log.meeting,
      joinWaitMs: dialTimeoutMs + turnTimeoutMs + relayTimeoutMs,
      host: {
        link: (peerId) => this.#links.get(peerId),
        links: () => this.#links.entries(),
        close: (link) => this.#links.remove(link, "left"),
        open: (peerId) => this.#dialer.open(peerId),
        dialing: (peerId) => this.#dialer.dialing(peerId),
        emit: (type, detail) => this.#emit(type, detail),
        snapshot: (peerId) => this.#memberSnapshot(peerId),
        forget: (peerId) => this.#known.delete(peerId),
        deliver: (origin, name, channel, payload) =>
          this.#messages.deliver(origin, name, channel, payload),
        left: () => this.left,
      },
    });
  }

  /**
   * Register handlers, announce ourselves and run the first lookup. Called by
   * `joinMeeting()`.
   *
   * @returns Resolves once announced and looked up once.
   */
  async start(): Promise<void> {
    await this.#dialer.start();
    this.#contactWatcher?.start();
    this.#leaseTimer = setInterval(() => this.#checkLeases(), 1000);
    this.#upgradeTimer = setInterval(
      () => this.#links.upgradeRelayed(this.#dialer),
      this.#options.upgradeIntervalMs,
    );
    if (this.#c.dht === false) return;
    // The first lookup does not need our announcement, so both run at once (on a WAN each
    // is a few DHT round trips). Rendezvous.start() looks up again once announced, so two
    // peers that join at the same moment still find each other.
    const t0 = performance.now();
    const lookup = this.#rendezvous.lookup().finally(() => {
      this.#stats.joinTimings.firstLookupMs = performance.now() - t0;
    });
    lookup.catch(() => {}); // awaited below
    await this.#rendezvous.start();
    this.#stats.joinTimings.announceMs = performance.now() - t0;
    await lookup;
  }

  /** Our own participant info. */
  get self(): SelfInfo {
    const { libp2p, name, publicAddress } = this.#c;
    return {
      peerId: libp2p.peerId.toString(),
      name,
      joinedAt: this.#joinedAt,
      addresses: libp2p.getMultiaddrs().map(String),
      publicAddress: publicAddress.address,
      stun: publicAddress,
      iceServers: this.#c.iceServers(),
    };
  }

  /**
   * The participants: without the overlay, those we are linked to (or reconnecting to), in
   * join order; with it, every member of the roster (`linked` tells the neighbours).
   */
  get participants(): Participant[] {
    if (this.#overlay && !this.left) {
      return this.#overlay.node.members().map((e) => this.#memberSnapshot(e.peerId)!);
    }
    return this.neighbours;
  }

  /**
   * The overlay node (for diagnostics and the simulator's comparisons).
   * @ignore
   */
  get overlayNode(): MeetingOverlay["node"] | undefined {
    return this.#overlay?.node;
  }

  /** The participants we hold a link to (with the overlay, our neighbours in the mesh). */
  get neighbours(): Participant[] {
    return this.#links.live().map((l) => this.#links.snapshot(l));
  }

  /** Whether `leave()` has been called. */
  get left(): boolean {
    return this.#left !== undefined;
  }

  /**
   * The libp2p node of this meeting (for diagnostics and advanced use).
   * @ignore
   */
  get libp2p(): ParticipantLibp2p {
    return this.#c.libp2p;
  }

  /**
   * The `RTCPeerConnection` of a participant's WebRTC link (for diagnostics such as
   * `getStats()`), or undefined when the link is relayed or the peer is unknown.
   *
   * @param peerId The participant.
   * @returns Its peer connection.
   */
  peerConnectionOf(peerId: string): RTCPeerConnection | undefined {
    return this.#links.peerConnectionOf(peerId);
  }

  /** Counters and join timings. */
  get stats(): MeetingStats & { rendezvous: RendezvousStats } {
    return { ...this.#stats, rendezvous: { ...this.#rendezvous.stats } };
  }

  /**
   * Send a message to one participant; resolves when it acknowledged receipt.
   *
   * @param peerId The participant.
   * @param data Text, bytes or a JSON value.
   * @param options `channel` (0–255) and an abort `signal`.
   * @returns Resolves on acknowledgement.
   * @throws {PeerNotFoundError} When the peer is not a participant.
   * @throws {FrameTooLargeError} When the message is over `maxMessageBytes`.
   * @throws {DeliveryError} When it was not acknowledged in time.
   * @throws {MeetingClosedError} When the meeting was left.
   *
   * @example
   * ```ts ignore
   * await meeting.send(peerId, { kind: "ping" });
   * ```
   */
  async send(
    peerId: string,
    data: MessageData,
    options: { channel?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.#messages.send(peerId, data, options);
  }

  /**
   * Send a message to every participant; resolves when each one acknowledged or failed.
   *
   * @param data Text, bytes or a JSON value.
   * @param options `channel` and an abort `signal`.
   * @returns Who acknowledged and who failed (with the error).
   * @throws {FrameTooLargeError} When the message is over `maxMessageBytes`.
   * @throws {MeetingClosedError} When the meeting was left.
   *
   * @example
   * ```ts ignore
   * const { delivered, failed } = await meeting.broadcast("hello");
   * ```
   */
  async broadcast(
    data: MessageData,
    options: { channel?: number; signal?: AbortSignal } = {},
  ): Promise<{ delivered: string[]; failed: { peerId: string; error: Error }[]; id?: string }> {
    return await this.#messages.broadcast(data, options);
  }

  /**
   * Send a request to one participant and wait for its response (see the `request` event).
   *
   * @param peerId The participant.
   * @param data The request body.
   * @param options Abort `signal`.
   * @returns The response body.
   * @throws {PeerNotFoundError} When the peer is not a participant.
   * @throws {DeliveryError} When no response came in time.
   * @throws {Error} With the remote message when the other side's handler failed.
   *
   * @example
   * ```ts ignore
   * const answer = await meeting.request(peerId, { op: "time" });
   * ```
   */
  async request(
    peerId: string,
    data: MessageData,
    options: { signal?: AbortSignal } = {},
  ): Promise<MessageData> {
    return await this.#messages.request(peerId, data, options);
  }

  /**
   * Connect to a peer directly by address (normally discovery does this). The peer must
   * be a member: the handshake still runs.
   *
   * @param address A relay (`…/p2p-circuit/p2p/<id>`) multiaddr of the peer, as announced
   *   in `self.addresses` (a trailing `/webrtc` of earlier versions is accepted).
   * @param options Abort `signal`.
   * @returns The participant once connected and proven.
   * @throws {MembershipProofError} When the peer does not hold this meeting's code.
   * @throws {ConnectionFailedError} When no direct connection could be made.
   *
   * @example
   * ```ts ignore
   * await meeting.connect(otherMeeting.self.addresses.find((a) => a.includes("/p2p-circuit"))!);
   * ```
   */
  async connect(address: string, options: { signal?: AbortSignal } = {}): Promise<Participant> {
    if (this.left) throw new MeetingClosedError("Cannot connect: the meeting has been left");
    const ma = multiaddr(address);
    const peerId = ma.getComponents().findLast((c) => c.name === "p2p")?.value;
    if (peerId === undefined) {
      throw new TypeError(`Cannot connect: address ${JSON.stringify(address)} has no /p2p/<id>`);
    }
    // Already linked: nothing to do (a second session to a linked peer raced the first and
    // failed with a misleading MeetingClosedError; RELIABILITY.md, issue 12).
    const linked = this.#links.get(peerId);
    if (linked?.connected && linked.state === "connected") return this.#links.snapshot(linked);
    const signaling = address.replace("/p2p-circuit/webrtc", "/p2p-circuit");
    await this.#dialer.connect(peerId, signaling, options.signal);
    return this.#links.snapshot(this.#links.get(peerId)!);
  }

  /**
   * Leave the meeting: say goodbye to every participant, withdraw from the DHT and stop
   * the node. Pending sends reject with {@linkcode MeetingClosedError}. Idempotent.
   *
   * @returns Resolves when everything is closed.
   */
  leave(): Promise<void> {
    this.#left ??= this.#leave();
    return this.#left;
  }

  /** Same as {@linkcode leave}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.leave();
  }

  async #leave(): Promise<void> {
    this.#dialer.stop(new MeetingClosedError("The meeting has been left"));
    clearInterval(this.#leaseTimer);
    clearInterval(this.#upgradeTimer);
    this.#rendezvous.stop();
    // Our record is withdrawn while the links say goodbye (same budget): newcomers then
    // skip us instead of dialing a member that is gone.
    const withdrawn = this.#rendezvous.withdraw(500);
    this.#contactWatcher?.stop();
    this.#overlay?.leave();
    await this.#c.beforeStop?.().catch(() => {});
    this.#messages.cancel();
    const links = [...this.#links.values()];
    await Promise.all([withdrawn, ...links.map((link) => link.leave(500))]);
    for (const link of links) this.#links.remove(link, "closed");
    await this.#links.closed();
    await this.#dialer.settled();
    this.#links.release();
    dropSparePayloads(); // the buffers of large messages sent (src/_payload_pool.ts)
    await this.#c.libp2p.stop();
  }

  #emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void {
    this.emitEvent(type, detail, this.#c.log.meeting);
  }

  // ---- internals -------------------------------------------------------------------

  #presenceInfo(): PresenceInfo {
    const self = this.self;
    return {
      peerId: self.peerId,
      name: self.name,
      joinedAt: self.joinedAt,
      addresses: self.addresses.filter((a) => a.includes("/p2p-circuit")).slice(0, 16),
      ...(self.publicAddress ? { publicAddress: self.publicAddress } : {}),
    };
  }

  /** A roster member as a participant (with its link's details when linked). */
  #memberSnapshot(peerId: string): Participant | undefined {
    const link = this.#links.get(peerId);
    if (link) return this.#links.snapshot(link);
    return this.#overlay?.unlinkedMember(peerId, this.#known.get(peerId)?.discoveredAt ?? 0);
  }

  /**
   * Hand the meeting a verified presence found by another discovery path (local
   * discovery): it is handled like one from the DHT. Used by `joinMeeting()`.
   * @ignore
   *
   * @param presence The verified presence.
   */
  discovered(presence: Presence): void {
    this.#onPresence(presence, "local");
  }

  #selfId(): string {
    return this.#c.libp2p.peerId.toString();
  }

  /** A verified presence; returns whether `stream` (a knock's) was taken for the dial. */
  #onPresence(
    presence: Presence,
    via: "dht" | "knock" | "local",
    stream?: FramedStream,
  ): boolean {
    if (this.left) return false;
    const peerId = presence.info.peerId;
    if (peerId === this.#selfId()) return false;
    if (this.#known.add(presence, via)) {
      this.#emit("peer:discovered", {
        peerId,
        name: presence.info.name,
        addresses: presence.info.addresses,
        via,
      });
    }
    const link = this.#links.get(peerId);
    if (link && link.state !== "closed" && link.connected) return false;
    if (this.#overlay && via !== "knock") {
      // The overlay decides whom to link to; a knock is a member asking for a link.
      this.#overlay.addEntryPoints([{ peerId, contact: presence.info.addresses }]);
      return false;
    }
    if (!this.#overlay && !link && this.#links.size >= this.#options.maxPeers) return false;
    return this.#dialer.open(peerId, stream);
  }

  /** Where signaling goes, best first: discovery's addresses, else the roster contact's. */
  #signalingAddresses(peerId: string): string[] {
    return this.#known.addresses(peerId, () => this.#overlay?.contactOf(peerId));
  }

  #checkLeases(): void {
    const now = Date.now();
    this.#overlay?.upkeep(now);
    this.#links.expire(now);
  }
}
