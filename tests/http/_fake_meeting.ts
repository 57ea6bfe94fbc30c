/**
 * A stand-in for `Meeting` with the members the control API uses, so that every endpoint
 * can be tested in memory without a network. Behaviour worth testing (participants,
 * delivery failures, events, leave) is scripted by the test.
 */
import {
  DeliveryError,
  FrameTooLargeError,
  MeetingClosedError,
  PeerNotFoundError,
} from "../../src/errors.ts";
import type {
  Meeting,
  MeetingEventMap,
  MeetingStats,
  Participant,
  SelfInfo,
} from "../../src/meeting.ts";
import type { MessageData } from "../../src/message_codec.ts";

/** A topic id for tests. */
export const TOPIC_A = "a1".repeat(32);
/** Another topic id. */
export const TOPIC_B = "b2".repeat(32);
/** Peer ids for tests (base58, shaped like Ed25519 peer ids). */
export const PEER_BOB = "12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBobB";
/** Another peer id. */
export const PEER_CYD = "12D3KooWCydCydCydCydCydCydCydCydCydCydCydCydCydCydCydC";

/** Build a participant snapshot. */
export function participant(peerId: string, name: string, extra: Partial<Participant> = {}) {
  const now = Date.now();
  return {
    peerId,
    name,
    joinedAt: now - 5000,
    state: "connected",
    path: "direct",
    selectedCandidatePair: {
      local: { type: "host", address: "127.0.0.1", port: 40001 },
      remote: { type: "host", address: "127.0.0.1", port: 40002 },
    },
    direction: "outbound",
    rtt: 1.5,
    lastSeen: now,
    discoveredAt: now - 1000,
    connectedAt: now - 900,
    unacknowledged: 0,
    linked: true,
    ...extra,
  } satisfies Participant;
}

/** What a fake meeting was asked to send. */
export interface SentMessage {
  to: string | "*";
  data: MessageData;
  channel: number;
}

/** A fake meeting. */
export class FakeMeeting extends EventTarget {
  readonly topicId: string;
  participants: Participant[] = [];
  left = false;
  sent: SentMessage[] = [];
  /** Peer ids whose sends fail with DeliveryError. */
  unreachable = new Set<string>();
  maxMessageBytes = 1024;
  stats: MeetingStats & {
    rendezvous: {
      lookups: number;
      recordsAccepted: number;
      recordsRejected: number;
      announcements: number;
      lastLookupMs: number;
    };
  } = {
    handshakeFailures: 1,
    dialAttempts: 3,
    dialFailures: 1,
    reconnects: 2,
    messagesSent: 7,
    messagesAcked: 6,
    messagesReceived: 5,
    messagesDropped: 0,
    joinTimings: { kdfMs: 110, bootstrapMs: 20, totalMs: 400 },
    rendezvous: {
      lookups: 4,
      recordsAccepted: 2,
      recordsRejected: 1,
      announcements: 3,
      lastLookupMs: 12,
    },
  };
  readonly #self: SelfInfo;

  constructor(topicId: string, name = "Ada") {
    super();
    this.topicId = topicId;
    this.#self = {
      peerId: "12D3KooWAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaAdaA",
      name,
      joinedAt: Date.now() - 10_000,
      addresses: ["/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWRelay/p2p-circuit/webrtc"],
      publicAddress: "203.0.113.7:5000",
      stun: {
        status: "ok",
        address: "203.0.113.7:5000",
        server: "127.0.0.1:3478",
      },
      iceServers: [
        { urls: "stun:127.0.0.1:3478" },
        { urls: ["turn:127.0.0.1:3478"], username: "user", credential: "hunter2" },
      ],
    } as SelfInfo;
  }

  get self(): SelfInfo {
    return this.#self;
  }

  readonly libp2p = {
    getConnections: () => [],
    services: { dht: { getMode: () => "client", routingTable: { size: 1 } } },
    peerId: { toString: () => this.#self.peerId },
    contentRouting: {
      // deno-lint-ignore require-yield
      findProviders: async function* () {
        throw new Error("no DHT in a fake");
      },
      get: () => Promise.reject(new Error("no DHT in a fake")),
    },
  };

  #check(peerId: string): void {
    if (this.left) throw new MeetingClosedError("Cannot send: the meeting has been left");
    if (!this.participants.some((p) => p.peerId === peerId)) {
      throw new PeerNotFoundError(`Cannot send: ${peerId} is not a participant`);
    }
  }

  #size(data: MessageData): void {
    const size = typeof data === "string"
      ? new TextEncoder().encode(data).length
      : data instanceof Uint8Array
      ? data.length
      : JSON.stringify(data).length;
    if (size > this.maxMessageBytes) {
      throw new FrameTooLargeError(
        `Cannot send message: ${size} bytes is over the limit of ${this.maxMessageBytes} bytes`,
      );
    }
  }

  send(peerId: string, data: MessageData, options: { channel?: number } = {}): Promise<void> {
    this.#check(peerId);
    this.#size(data);
    if (this.unreachable.has(peerId)) {
      return Promise.reject(new DeliveryError(`${peerId} did not acknowledge within 30000 ms`));
    }
    this.sent.push({ to: peerId, data, channel: options.channel ?? 0 });
    return Promise.resolve();
  }

  broadcast(data: MessageData, options: { channel?: number } = {}) {
    if (this.left) throw new MeetingClosedError("Cannot broadcast: the meeting has been left");
    this.sent.push({ to: "*", data, channel: options.channel ?? 0 });
    const delivered = this.participants.filter((p) => !this.unreachable.has(p.peerId)).map((p) =>
      p.peerId
    );
    const failed = this.participants.filter((p) => this.unreachable.has(p.peerId)).map((p) => ({
      peerId: p.peerId,
      error: new DeliveryError(`${p.peerId} did not acknowledge`),
    }));
    return Promise.resolve({ delivered, failed });
  }

  leave(): Promise<void> {
    this.left = true;
    return Promise.resolve();
  }

  /** Dispatch a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** This fake as the `Meeting` type the API expects. */
  asMeeting(): Meeting {
    return this as unknown as Meeting;
  }
}
