/**
 * The link table of a meeting: the live link to each peer ({@linkcode PeerLink}) and what the
 * meeting keeps beside it ({@linkcode LinkMeta}: path, candidate pair, peer connection, when
 * the peer was discovered and first linked). It
 *
 * - takes the links the dialer makes: a new `PeerLink`, or a fresh channel under a link
 *   that reconnects or moves to a better path;
 * - watches each WebRTC path's ICE state, and drops a path whose ICE stays `disconnected`;
 * - redials a link whose stream broke (unless it was closed on purpose);
 * - tries relayed and TURN links on a better rung now and then;
 * - ends links whose lease ran out, and removes links (what they hold drains first, unless
 *   the peer is dead).
 *
 * What a link means (a participant, a neighbour in the mesh) the meeting decides, through
 * {@linkcode MeetingLinksHost}.
 *
 * @module
 */
import { ConnectionFailedError, MeetingClosedError } from "./errors.ts";
import type { Frame } from "./frame.ts";
import type { Connector } from "./connect/connector.ts";
import type { NewLink } from "./connect/connector_types.ts";
import { type CandidateInfo, iceStateOf } from "./connect/inspect.ts";
import type { MeetingComponents } from "./meeting_components.ts";
import type {
  ConnectionPath,
  MeetingEventMap,
  MeetingOptions,
  MeetingStats,
  Participant,
  PeerLeaveDetail,
} from "./meeting_types.ts";
import type { ParticipantLibp2p } from "./node.ts";
import { PeerLink } from "./peer_link.ts";

/** What a meeting keeps about each link beside the link itself. */
export interface LinkMeta {
  /** When the peer was discovered (ms since the epoch). */
  discoveredAt: number;
  /** When its first link came up (kept across reconnects). */
  connectedAt: number;
  /** Who opened the current link. */
  direction: "inbound" | "outbound";
  /** The rung in use: direct, TURN or the circuit relay. */
  path: ConnectionPath | undefined;
  /** The selected ICE candidate pair of a WebRTC path. */
  pair: { local: CandidateInfo; remote: CandidateInfo } | undefined;
  /** The peer connection of a WebRTC path. */
  pc: RTCPeerConnection | undefined;
  /** Upgrades tried from TURN to direct (at most two). */
  upgradeTries?: number;
}

/** What the link table needs from its meeting. */
export interface MeetingLinksHost {
  /** Whether the meeting has been left. */
  left(): boolean;
  /** Open a link (the lower peer id dials, the higher one knocks). */
  open(peerId: string): void;
  /**
   * Whether a link whose stream broke is still wanted (false when it was closed on purpose:
   * a prune, or a link outside the mesh); a wanted one is redialled, the others removed.
   */
  wanted(peerId: string): boolean;
  /** A new link is up (not a reconnect); its path is known. */
  linked(link: PeerLink, inbound: boolean): void;
  /** A link is leaving the table (called before it closes). */
  removing(peerId: string): void;
  /** A link was removed and is closing (`connection:state` `closed` has fired). */
  removed(link: PeerLink, reason: PeerLeaveDetail["reason"]): void;
  /** A data frame arrived on a link. */
  onData(link: PeerLink, frame: Frame): void;
  /** A request arrived on a link; resolves with the response payload. */
  onRequest(link: PeerLink, frame: Frame): Promise<Uint8Array>;
  /** An overlay message arrived on a link. */
  onOverlay(link: PeerLink, frame: Frame): void;
  /** Emit a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void;
}

/** What a {@linkcode MeetingLinks} is built from. */
export interface MeetingLinksInit {
  /** Our peer id (of a pair, the lower id dials, so only it upgrades). */
  self: string;
  /** The node (a peer's relayed connection closes once a WebRTC path to it is up). */
  libp2p: Pick<ParticipantLibp2p, "getConnections">;
  /** The meeting's counters (reconnects are counted here). */
  stats: MeetingStats;
  /** Scoped loggers. */
  log: Pick<MeetingComponents["log"], "meeting" | "connect" | "link">;
  /** Timers and limits of the links. */
  options: Required<
    Pick<MeetingOptions, "ackTimeoutMs" | "heartbeatMs" | "leaseMs" | "maxFramesPerSecond">
  >;
  /** The meeting. */
  host: MeetingLinksHost;
}

/** The links of one meeting (see the module documentation). */
export class MeetingLinks {
  readonly #init: MeetingLinksInit;
  readonly #host: MeetingLinksHost;
  readonly #links = new Map<string, PeerLink>();
  readonly #meta = new Map<string, LinkMeta>();
  /** Listeners on objects that outlive the meeting (peer connections), removed by release(). */
  readonly #releaseOnLeave = new Set<() => void>();
  /** Links closing (waiting for the other side to acknowledge our Leave); see closed(). */
  readonly #closing = new Set<Promise<void>>();

  /** @param init Who we are, the node, counters, loggers, options and the meeting. */
  constructor(init: MeetingLinksInit) {
    this.#init = init;
    this.#host = init.host;
  }

  /**
   * The link to a peer (it may be reconnecting, or closed but not yet removed).
   * @param peerId The peer.
   * @returns Its link, or undefined.
   */
  get(peerId: string): PeerLink | undefined {
    return this.#links.get(peerId);
  }

  /**
   * Whether the table holds a link to a peer.
   * @param peerId The peer.
   * @returns True when it does.
   */
  has(peerId: string): boolean {
    return this.#links.has(peerId);
  }

  /** How many links the table holds. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * Every link with its peer id.
   * @returns The table's entries.
   */
  entries(): MapIterator<[string, PeerLink]> {
    return this.#links.entries();
  }

  /**
   * Every link.
   * @returns The links.
   */
  values(): MapIterator<PeerLink> {
    return this.#links.values();
  }

  /**
   * The links not closed.
   * @returns The links, in the order they were made.
   */
  live(): PeerLink[] {
    return [...this.#links.values()].filter((l) => l.state !== "closed");
  }

  /**
   * Whether the link to a peer is up (a stream attached and connected).
   * @param peerId The peer.
   * @returns True when it is.
   */
  linked(peerId: string): boolean {
    const link = this.#links.get(peerId);
    return link?.connected === true && link.state === "connected";
  }

  /**
   * Whether the link to a peer is up on a WebRTC path (not the circuit relay).
   * @param peerId The peer.
   * @returns True when it is.
   */
  linkedOverWebRtc(peerId: string): boolean {
    return this.linked(peerId) && this.#meta.get(peerId)?.pc !== undefined;
  }

  /**
   * The peer connection of a peer's WebRTC link.
   * @param peerId The peer.
   * @returns Its peer connection, or undefined (relayed, or no link).
   */
  peerConnectionOf(peerId: string): RTCPeerConnection | undefined {
    return this.#meta.get(peerId)?.pc;
  }

  /**
   * A link as a participant.
   * @param link The link.
   * @returns Its snapshot.
   */
  snapshot(link: PeerLink): Participant {
    const meta = this.#meta.get(link.peerId);
    return {
      peerId: link.peerId,
      name: link.name,
      joinedAt: link.joinedAt,
      state: link.state,
      path: meta?.path,
      selectedCandidatePair: meta?.pair,
      direction: meta?.direction ?? "outbound",
      rtt: link.rtt,
      lastSeen: link.lastHeard,
      discoveredAt: meta?.discoveredAt ?? 0,
      connectedAt: meta?.connectedAt ?? 0,
      unacknowledged: link.unacknowledged,
      linked: link.state !== "closed",
    };
  }

  /**
   * A link from the connector; its path is known before the participant is shown.
   * @param made The handshaken channel and what came with it.
   */
  attach(made: NewLink): void {
    const { peerId, channel, hello, pc, direction, discoveredAt } = made;
    const described = made.path;
    if (this.#host.left()) {
      channel.abort(new MeetingClosedError("The meeting has been left"));
      return;
    }
    const existing = this.#links.get(peerId);
    const isNew = !existing || existing.state === "closed";
    const link = isNew ? this.#newLink(peerId, hello) : existing;
    if (!isNew) this.#init.stats.reconnects++;
    const old = this.#meta.get(peerId);
    const meta: LinkMeta = {
      discoveredAt: old?.discoveredAt ?? discoveredAt,
      connectedAt: old?.connectedAt ?? Date.now(),
      direction,
      path: pc ? (described?.path ?? "direct") : "relay",
      pair: described?.pair,
      pc,
    };
    this.#meta.set(peerId, meta);
    link.name = hello.name;
    // An upgrade (relay or TURN to a better path) replaces the old channel; closing it
    // closes its peer connection.
    link.attach(channel);
    if (pc) {
      this.#watchIce(peerId, pc);
      // Exactly one path per pair: the relayed connection was only needed for signaling.
      for (const other of this.#init.libp2p.getConnections()) {
        if (other.remotePeer.toString() === peerId && other.limits != null) {
          void other.close().catch(() => {});
        }
      }
    }
    if (isNew) this.#host.linked(link, direction === "inbound");
    this.#host.emit("connection:state", {
      peerId,
      state: link.state,
      path: meta.path,
      ...(pc ? iceStateOf(pc) : {}),
    });
  }

  /**
   * Remove a link from the table and close it (no-op for a link the table no longer holds).
   * @param link The link.
   * @param reason Why: the peer left, its lease ran out, or the meeting closes.
   */
  remove(link: PeerLink, reason: PeerLeaveDetail["reason"]): void {
    if (this.#links.get(link.peerId) !== link) return;
    this.#links.delete(link.peerId);
    this.#host.removing(link.peerId);
    this.#meta.delete(link.peerId);
    // The channel closes its peer connection after itself (src/connect/data_channel_frames.ts).
    // A link that timed out is aborted at once, so the peer is not reached by stale state;
    // otherwise what is buffered (a prune, a leave) drains first. The peer connection is
    // never closed here directly: closing it while its data channel still drains, and the
    // channel a moment later, crashed member processes with SIGSEGV inside @roamhq/wrtc
    // (3 of 5 runs of tests/overlay/many_processes_test.ts, where prunes are frequent; the
    // same pattern as node-webrtc/node-webrtc#360, "Closing DataChannel after
    // PeerConnection can segfault").
    const err = new MeetingClosedError(
      `Cannot deliver to ${link.peerId}: the peer left the meeting`,
    );
    const closing = reason === "timeout" ? link.close(err, { now: true }) : link.leave(1000, err);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
    this.#host.emit("connection:state", { peerId: link.peerId, state: "closed", path: undefined });
    this.#host.removed(link, reason);
  }

  /**
   * Remove the links whose lease ran out (nothing heard for `leaseMs`).
   * @param now The clock (ms since the epoch).
   */
  expire(now: number): void {
    for (const link of this.#links.values()) {
      if (link.state !== "closed" && now - link.lastHeard > this.#init.options.leaseMs) {
        this.#init.log.meeting(`lease of ${link.peerId} expired`);
        this.remove(link, "timeout");
      }
    }
  }

  /**
   * Try links on the relay or TURN on a better rung (the lower peer id of a pair does).
   * @param connector Who makes the attempts.
   */
  upgradeRelayed(connector: Pick<Connector, "upgrade" | "hasTurn">): void {
    const { self } = this.#init;
    for (const [peerId, meta] of this.#meta) {
      if (self >= peerId) continue;
      // A relayed meeting tries WebRTC again each round; a TURN path tries direct twice.
      if (meta.path === "turn" && (meta.upgradeTries ?? 0) < 2) {
        meta.upgradeTries = (meta.upgradeTries ?? 0) + 1;
        connector.upgrade(peerId, "direct");
      } else if (meta.path === "relay") {
        connector.upgrade(peerId, connector.hasTurn ? "turn" : "direct");
      }
    }
  }

  /**
   * Wait for the links being removed to finish closing.
   * @returns Resolves once every link removed so far has closed.
   */
  async closed(): Promise<void> {
    await Promise.all([...this.#closing]);
  }

  /** Let go of the peer connections' listeners and timers (when the meeting is left). */
  release(): void {
    for (const release of this.#releaseOnLeave) release();
    this.#releaseOnLeave.clear();
  }

  #newLink(peerId: string, hello: NewLink["hello"]): PeerLink {
    const { options, log } = this.#init;
    const link = new PeerLink(peerId, hello, {
      onData: (l, frame) => this.#host.onData(l, frame),
      onRequest: (l, frame) => this.#host.onRequest(l, frame),
      onLeave: (l) => this.remove(l, "left"),
      onStreamLost: (l, err) => this.#onStreamLost(l, err),
      onOverlay: (l, frame) => this.#host.onOverlay(l, frame),
    }, {
      ackTimeoutMs: options.ackTimeoutMs,
      heartbeatMs: options.heartbeatMs,
      maxFramesPerSecond: options.maxFramesPerSecond,
      log: log.link,
    });
    this.#links.set(peerId, link);
    return link;
  }

  #watchIce(peerId: string, pc: RTCPeerConnection): void {
    // ICE `disconnected` that lasts two heartbeats with nothing heard meanwhile (a NAT
    // mapping changed, the path is dead), or `failed`: the stream is dropped so the link
    // redials at once instead of waiting out its lease (14 s), and what is unacknowledged is
    // written again on the new path (RELIABILITY.md, "NAT mapping change").
    let deadPath: ReturnType<typeof setTimeout> | undefined;
    const watchPath = () => {
      const ice = pc.iceConnectionState;
      if (ice !== "disconnected" && ice !== "failed") {
        clearTimeout(deadPath);
        deadPath = undefined;
        return;
      }
      if (deadPath !== undefined) return;
      const since = Date.now();
      deadPath = setTimeout(() => {
        deadPath = undefined;
        const link = this.#links.get(peerId);
        const now = pc.iceConnectionState;
        if (!link || this.#meta.get(peerId)?.pc !== pc || link.lastHeard > since) return;
        if (now !== "disconnected" && now !== "failed") return;
        this.#init.log.connect(
          `ICE to ${peerId} ${now} since ${Date.now() - since} ms: redialling`,
        );
        link.dropStream(new ConnectionFailedError(`The WebRTC path to ${peerId} is ${now}`));
      }, ice === "failed" ? 0 : 2 * this.#init.options.heartbeatMs);
    };
    const report = () => {
      const link = this.#links.get(peerId);
      if (!link || this.#meta.get(peerId)?.pc !== pc) return;
      watchPath();
      this.#host.emit("connection:state", {
        peerId,
        state: link.state,
        path: this.#meta.get(peerId)?.path,
        ...iceStateOf(pc),
      });
    };
    pc.addEventListener("iceconnectionstatechange", report);
    pc.addEventListener("connectionstatechange", report);
    // @roamhq/wrtc never lets go of a peer connection (see src/connect/signaling.ts): without
    // this, `report` kept every left Meeting (and its libp2p node) reachable.
    this.#releaseOnLeave.add(() => {
      clearTimeout(deadPath);
      pc.removeEventListener("iceconnectionstatechange", report);
      pc.removeEventListener("connectionstatechange", report);
    });
  }

  #onStreamLost(link: PeerLink, err?: Error): void {
    if (this.#host.left()) return;
    this.#init.log.connect(`stream to ${link.peerId} lost: ${err?.message ?? "closed"}`);
    this.#host.emit("connection:state", {
      peerId: link.peerId,
      state: link.state,
      path: undefined,
    });
    if (!this.#host.wanted(link.peerId)) {
      // Closed on purpose (a prune, or a link outside the mesh): not a failure, no redial.
      this.remove(link, "left");
      return;
    }
    // The lower peer id dials again; the higher one knocks so the lower one notices soon.
    this.#host.open(link.peerId);
  }
}
