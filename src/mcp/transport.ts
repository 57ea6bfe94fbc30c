/**
 * The client side of an MCP session over a meeting link: the SDK's `Client` connects with it
 * to one member's offered server, unchanged. Messages travel as acknowledged meeting messages
 * on {@linkcode MCP_CHANNEL}, in order, within the meeting's size and rate limits.
 *
 * @module
 */
import type { Transport } from "./_sdk.ts";
import type { JSONRPCMessage } from "./_sdk.ts";
import type { Meeting } from "../meeting.ts";
import { MeetingClosedError, PeerNotFoundError } from "../errors.ts";
import { hubFor, type McpHub } from "./_hub.ts";
import type { Envelope } from "./wire.ts";

/**
 * An MCP client transport to one member of a meeting (the SDK's `Transport` interface).
 *
 * @example Talk to a member's tools with the SDK's own Client
 * ```ts ignore
 * import { Client } from "@modelcontextprotocol/sdk/client/index.js";
 * const client = new Client({ name: "me", version: "1.0.0" });
 * await client.connect(new MeetingClientTransport(meeting, peerId));
 * console.log(await client.listTools());
 * ```
 */
export class MeetingClientTransport implements Transport {
  /** The member this session talks to. */
  readonly peerId: string;
  /** This session's id (random, chosen here). */
  readonly sessionId: string = crypto.randomUUID();
  /** Set by the SDK. */
  onclose?: () => void;
  /** Set by the SDK. */
  onerror?: (error: Error) => void;
  /** Set by the SDK. */
  onmessage?: (message: JSONRPCMessage) => void;
  #hub: McpHub;
  #state: "new" | "open" | "closed" = "new";

  /**
   * Create the transport (nothing is sent before `start()`).
   *
   * @param meeting A meeting we are a member of.
   * @param peerId The member whose tools to reach.
   */
  constructor(meeting: Meeting, peerId: string) {
    this.#hub = hubFor(meeting);
    this.peerId = peerId;
  }

  /**
   * Start the session (the SDK calls this from `connect()`).
   *
   * @throws {PeerNotFoundError} When `peerId` is not a participant: tools are reachable only
   * over links that passed the membership proof.
   */
  start(): Promise<void> {
    const meeting = this.#hub.meeting;
    if (meeting.left) {
      return Promise.reject(
        new MeetingClosedError("Cannot start an MCP session: the meeting has been left"),
      );
    }
    if (!meeting.participants.some((p) => p.peerId === this.peerId)) {
      return Promise.reject(
        new PeerNotFoundError(
          `Cannot start an MCP session: ${this.peerId} is not a participant of this meeting ` +
            "(only members that passed the membership proof are reachable; see meeting.participants)",
        ),
      );
    }
    this.#state = "open";
    this.#hub.addClient(this);
    return Promise.resolve();
  }

  /**
   * Send one JSON-RPC message; resolves when the member acknowledged it.
   *
   * @param message The message.
   */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#state !== "open") {
      throw new MeetingClosedError(`Cannot send: the MCP session to ${this.peerId} is closed`);
    }
    await this.#hub.send(this.peerId, { t: "rpc", s: this.sessionId, d: "c2s", m: message });
  }

  /** End the session (tells the member, best effort). Idempotent. */
  close(): Promise<void> {
    if (this.#state === "open") {
      this.#hub.send(this.peerId, { t: "close", s: this.sessionId, d: "c2s" }).catch(() => {});
    }
    this.#end();
    return Promise.resolve();
  }

  /** @ignore */
  _receive(envelope: Envelope): void {
    if (this.#state !== "open") return;
    if (envelope.t === "rpc") {
      try {
        this.onmessage?.(envelope.m);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    } else if (envelope.t === "close") this.#end();
  }

  /** @ignore */
  _peerGone(reason: string): void {
    if (this.#state !== "open") return;
    this.onerror?.(new PeerNotFoundError(`MCP session to ${this.peerId} ended: ${reason}`));
    this.#end();
  }

  #end(): void {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#hub.removeClient(this);
    if (wasOpen) this.onclose?.();
  }
}
