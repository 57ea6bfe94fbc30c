/**
 * One dispatcher per meeting for everything on {@linkcode MCP_CHANNEL}: it routes session
 * messages to client transports and to the offered server, keeps every member's announced
 * tools (the tool part of its roster entry), and forgets a member's tools and sessions when it
 * leaves. Only the Meeting's public API is used (send, broadcast, participants, events).
 *
 * @module
 */
import type { Meeting, MessageDetail, PeerJoinDetail, PeerLeaveDetail } from "../meeting.ts";
import { RateLimitError } from "../errors.ts";
import type { MessageData } from "../message_codec.ts";
import { type AnnouncedTool, type Envelope, MCP_CHANNEL, parseEnvelope } from "./wire.ts";

/** A member's announced tools, as held by the hub. */
export interface RemoteOffer {
  /** Owner's peer id. */
  peerId: string;
  /** Owner's display name. */
  name: string;
  /** Sequence number of the announcement (newer replaces older). */
  seq: number;
  /** The tools. */
  tools: AnnouncedTool[];
  /** When it arrived (ms since the epoch). */
  receivedAt: number;
}

/** What the hub needs from a client session. */
export interface HubClient {
  readonly peerId: string;
  readonly sessionId: string;
  _receive(envelope: Envelope): void;
  _peerGone(reason: string): void;
}

/** What the hub needs from an offered server. */
export interface HubServer {
  _receive(from: string, name: string, envelope: Envelope): void;
  _peerJoined(peerId: string): void;
  _peerGone(peerId: string): void;
}

/** How often a refused (rate-limited) envelope is tried again, and how long apart (ms). */
const RATE_LIMIT_RETRIES = 3;
const RATE_LIMIT_BACKOFF_MS = 150;

const hubs = new WeakMap<Meeting, McpHub>();

/** The hub of a meeting (made on first use). */
export function hubFor(meeting: Meeting): McpHub {
  let hub = hubs.get(meeting);
  if (!hub) {
    hub = new McpHub(meeting);
    hubs.set(meeting, hub);
  }
  return hub;
}

/** Dispatcher of one meeting's MCP channel (see the module doc). */
export class McpHub extends EventTarget {
  readonly meeting: Meeting;
  readonly offers: Map<string, RemoteOffer> = new Map();
  #clients = new Map<string, HubClient>();
  #server: HubServer | undefined;

  constructor(meeting: Meeting) {
    super();
    this.meeting = meeting;
    meeting.addEventListener("message", (e) => this.#onMessage(e.detail));
    meeting.addEventListener("peer:join", (e) => this.#onJoin(e.detail));
    meeting.addEventListener("peer:leave", (e) => this.#onLeave(e.detail));
    // Offers are pushed when members join; members already here when we started listening
    // may have pushed theirs before we listened, so ask them once.
    if (!meeting.left) {
      meeting.broadcast({ t: "query" }, { channel: MCP_CHANNEL }).catch(() => {});
    }
  }

  /** Send an envelope to one member; a refused (rate-limited) one is tried again shortly. */
  async send(peerId: string, envelope: Envelope, signal?: AbortSignal): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.meeting.send(peerId, envelope as unknown as MessageData, {
          channel: MCP_CHANNEL,
          signal,
        });
      } catch (err) {
        if (!(err instanceof RateLimitError) || attempt >= RATE_LIMIT_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, RATE_LIMIT_BACKOFF_MS * (attempt + 1)));
      }
    }
  }

  addClient(client: HubClient): void {
    this.#clients.set(`${client.peerId}\n${client.sessionId}`, client);
  }

  removeClient(client: HubClient): void {
    const key = `${client.peerId}\n${client.sessionId}`;
    if (this.#clients.get(key) === client) this.#clients.delete(key);
  }

  get server(): HubServer | undefined {
    return this.#server;
  }

  setServer(server: HubServer | undefined): void {
    this.#server = server;
  }

  #changed(): void {
    this.dispatchEvent(new Event("change"));
  }

  #onMessage(detail: MessageDetail): void {
    if (detail.channel !== MCP_CHANNEL) return;
    const envelope = parseEnvelope(detail.data);
    if (!envelope) return;
    const { from, name } = detail;
    switch (envelope.t) {
      case "offer": {
        const known = this.offers.get(from);
        if (known && known.seq >= envelope.seq) return;
        if (envelope.tools.length === 0) this.offers.delete(from);
        else {
          this.offers.set(from, {
            peerId: from,
            name,
            seq: envelope.seq,
            tools: envelope.tools,
            receivedAt: Date.now(),
          });
        }
        this.#changed();
        return;
      }
      case "query":
        this.#server?._peerJoined(from);
        return;
      case "rpc":
      case "close":
        if (envelope.d === "s2c") {
          this.#clients.get(`${from}\n${envelope.s}`)?._receive(envelope);
        } else if (this.#server) {
          this.#server._receive(from, name, envelope);
        } else if (envelope.t === "rpc") {
          // Nothing offered here: end the caller's session at once instead of letting it time out.
          this.send(from, { t: "close", s: envelope.s, d: "s2c" }).catch(() => {});
        }
        return;
    }
  }

  #onJoin(detail: PeerJoinDetail): void {
    this.#server?._peerJoined(detail.peerId);
  }

  #onLeave(detail: PeerLeaveDetail): void {
    const { peerId } = detail;
    if (this.offers.delete(peerId)) this.#changed();
    for (const client of [...this.#clients.values()]) {
      if (client.peerId === peerId) client._peerGone(`${detail.name} left (${detail.reason})`);
    }
    this.#server?._peerGone(peerId);
  }
}
