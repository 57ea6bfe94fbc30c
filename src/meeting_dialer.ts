/**
 * How a meeting opens its links. Of each pair of peers the lower peer id dials (the
 * {@linkcode Connector}: a signaling stream over the circuit relay, the membership handshake,
 * then WebRTC or the relay rung), so there is never glare; the higher one knocks (the
 * {@linkcode Knocker}: it hands its signed, encrypted presence record to the lower one,
 * which dials back). Strangers who keep failing the handshake are refused before any work
 * (src/handshake_backoff.ts); a link that comes up clears its peer there and goes to the
 * link table.
 *
 * @module
 */
import type { Connection } from "@libp2p/interface";
import type { ConnectionFailedError } from "./errors.ts";
import { HandshakeBackoff } from "./handshake_backoff.ts";
import { Connector } from "./connect/connector.ts";
import type { ConnectorOptions } from "./connect/connector_types.ts";
import { Knocker } from "./connect/knock.ts";
import type { IceRung } from "./connect/signaling.ts";
import type { MeetingComponents } from "./meeting_components.ts";
import type { MeetingLinks } from "./meeting_links.ts";
import type { MeetingEventMap, MeetingStats } from "./meeting_types.ts";
import type { Presence } from "./presence.ts";
import type { FramedStream } from "./framed_stream.ts";

/** What the dialer needs from its meeting (beyond the link table). */
export interface MeetingDialerHost {
  /** When a peer was discovered, its name, and where signaling reaches it, if known. */
  known(peerId: string):
    | { discoveredAt: number; name: string; addresses: readonly string[] }
    | undefined;
  /** Where signaling (and knock) streams to a peer go, best first. */
  addresses(peerId: string): readonly string[];
  /** Whether discovery found the peer (a stranger otherwise, refused sooner). */
  discovered(peerId: string): boolean;
  /** Our own sealed presence record (a knock hands it over). */
  ownRecord(): Promise<Uint8Array>;
  /** Open and check a presence record that `peerId` handed us (throws when invalid). */
  accept(peerId: string, record: Uint8Array): Promise<Presence>;
  /**
   * A knock brought a peer's verified presence; `stream` (the knock) may carry our dial back.
   * @returns Whether the stream was taken (by {@linkcode MeetingDialer.open}).
   */
  onPresence(presence: Presence, stream: FramedStream): boolean;
  /** Every rung to a peer failed. */
  onConnectionFailed(peerId: string, name: string, error: ConnectionFailedError): void;
  /** Knocking on a peer ended without a link (`gone`: it is no longer at its relay). */
  onUnreachable(peerId: string, error: Error, gone: boolean): void;
  /** Emit a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void;
}

/** What a {@linkcode MeetingDialer} is built from. */
export interface MeetingDialerInit {
  /** The node, keys, ICE configuration and loggers of the meeting. */
  components: MeetingComponents;
  /** When we joined (told to peers in the handshake). */
  joinedAt: number;
  /** The meeting's counters (dials and failed handshakes are counted here). */
  stats: MeetingStats;
  /** Timers and limits of dialing. */
  options: ConnectorOptions;
  /** Where links go once up, and what is linked already. */
  links: Pick<MeetingLinks, "attach" | "has" | "get" | "linked" | "linkedOverWebRtc">;
  /** The meeting. */
  host: MeetingDialerHost;
}

/** Opens the links of one meeting (see the module documentation). */
export class MeetingDialer {
  readonly #init: MeetingDialerInit;
  readonly #self: string;
  readonly #connector: Connector;
  readonly #knocker: Knocker;
  readonly #controller = new AbortController();
  readonly #backoff = new HandshakeBackoff();

  /** @param init The meeting's components, counters, options, link table and host. */
  constructor(init: MeetingDialerInit) {
    this.#init = init;
    const { components: c, links, host } = init;
    this.#self = c.libp2p.peerId.toString();
    this.#connector = new Connector({
      libp2p: c.libp2p,
      keys: c.keys,
      self: { name: c.name, joinedAt: init.joinedAt },
      log: c.log.connect,
      iceServers: c.iceServers,
      rtcConfiguration: c.rtcConfiguration,
      PeerConnection: c.PeerConnection,
      signal: this.#controller.signal,
      stats: init.stats,
      known: (peerId) => host.known(peerId),
      linked: (peerId) => links.linked(peerId),
      onLink: (made) => {
        this.#backoff.succeeded(made.peerId);
        return links.attach(made);
      },
      onHandshakeFailed: (peerId, error) => this.#handshakeFailed(peerId, error),
      refuse: (peerId) => this.#refuse(peerId),
      onConnectionFailed: (peerId, name, error) => host.onConnectionFailed(peerId, name, error),
    }, init.options);
    this.#knocker = new Knocker({
      libp2p: c.libp2p,
      signal: this.#controller.signal,
      log: c.log.connect,
      addresses: (peerId) => host.addresses(peerId),
      linked: (peerId) => links.get(peerId)?.connected === true,
      ownRecord: () => host.ownRecord(),
      accept: (peerId, record) => host.accept(peerId, record),
      onPresence: (presence, stream) => host.onPresence(presence, stream),
      answerOver: (stream, connection) => this.#connector.answerOver(stream, connection),
      onRefused: (peerId, error) => this.#handshakeFailed(peerId, error),
      refuse: (peerId) => this.#refuse(peerId),
      onUnreachable: (peerId, error, gone) => host.onUnreachable(peerId, error, gone),
      answered: (peerId, connection) => this.#answered(peerId, connection),
    });
  }

  /** Register the signaling and knock handlers. */
  async start(): Promise<void> {
    await this.#connector.start();
    await this.#knocker.start();
  }

  /**
   * Stop: every dial and knock under way ends.
   * @param reason Why (dials and knocks under way fail with it).
   */
  stop(reason: Error): void {
    this.#controller.abort(reason);
  }

  /**
   * Wait for the dials under way to end (after stop()).
   * @returns Resolves when they have.
   */
  settled(): Promise<void> {
    return this.#connector.settled();
  }

  /**
   * Open a link: the lower peer id dials, the higher one knocks.
   * @param peerId The peer.
   * @param stream The peer's knock, answered: our dial's first attempt may run on it.
   * @returns Whether `stream` was taken.
   */
  open(peerId: string, stream?: FramedStream): boolean {
    if (this.#self < peerId) return this.#connector.dial(peerId, stream);
    void this.#knocker.knock(peerId);
    return false;
  }

  /**
   * One direct attempt to an address (for `Meeting.connect()`).
   * @param peerId The peer.
   * @param address Its relay address.
   * @param signal Aborts the attempt.
   * @returns Resolves once the link is up.
   */
  connect(peerId: string, address: string, signal?: AbortSignal): Promise<void> {
    return this.#connector.connect(peerId, address, signal);
  }

  /**
   * Try a better path for a linked peer in the background.
   * @param peerId The peer.
   * @param rung The rung to try.
   */
  upgrade(peerId: string, rung: IceRung): void {
    this.#connector.upgrade(peerId, rung);
  }

  /** Whether TURN is configured (the `turn` rung exists). */
  get hasTurn(): boolean {
    return this.#connector.hasTurn;
  }

  /**
   * Whether a dial to a peer is under way.
   * @param peerId The peer.
   * @returns True when it is.
   */
  dialing(peerId: string): boolean {
    return this.#connector.dialing(peerId);
  }

  /** Strangers who keep failing are refused before any work (src/handshake_backoff.ts). */
  #refuse(peerId: string): boolean {
    const known = this.#init.host.discovered(peerId) || this.#init.links.has(peerId);
    return !this.#backoff.allow(peerId, known);
  }

  #handshakeFailed(peerId: string, error: Error): void {
    this.#backoff.failed(peerId);
    this.#init.stats.handshakeFailures++;
    this.#init.components.log.meeting(`handshake with ${peerId} failed: ${error.message}`);
    this.#init.host.emit("handshake:failed", { peerId, error });
  }

  /**
   * A knock that was on its way while the WebRTC link came up opened a new relayed
   * connection after the link table closed the old one; nothing else would close it.
   * Only while the link is up on a WebRTC path: a link reconnecting needs the relayed
   * connection for its redial.
   */
  #answered(peerId: string, connection: Connection): void {
    if (connection.limits != null && this.#init.links.linkedOverWebRtc(peerId)) {
      void connection.close().catch(() => {});
    }
  }
}
