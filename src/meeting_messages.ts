/**
 * The application's messages as a meeting handles them: sent to one participant (over a
 * link opened on demand when the overlay holds none), broadcast (to every link, or through
 * the mesh), and requests sent; encoded under `maxMessageBytes`; delivered as `message`
 * events (counted; a malformed one is dropped and logged); and requests handed to `request`
 * listeners, each answered in time or failed, and all of them rejected when the meeting is
 * left.
 *
 * @module
 */
import { FrameTooLargeError, MeetingClosedError, PeerNotFoundError } from "./errors.ts";
import type { Frame } from "./frame.ts";
import type { Logger } from "./logger.ts";
import type { MeetingLinks } from "./meeting_links.ts";
import type { MeetingOverlay } from "./meeting_overlay.ts";
import type { MeetingEventMap, MeetingOptions, MeetingStats } from "./meeting_types.ts";
import { decodeMessage, encodeMessage, type MessageData } from "./message_codec.ts";
import type { PeerLink } from "./peer_link.ts";
import { givePayload, takePayload } from "./_payload_pool.ts";

/** What {@linkcode MeetingMessages} is built from. */
export interface MeetingMessagesInit {
  /** Size limit, how long a requester waits, and a dial's budget (links on demand). */
  options: Required<Pick<MeetingOptions, "maxMessageBytes" | "ackTimeoutMs" | "dialTimeoutMs">>;
  /** The meeting's counters (messages received and dropped are counted here). */
  stats: MeetingStats;
  /** Where dropped messages are reported. */
  log: Logger;
  /** Emit a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void;
  /** The link table (messages go over its links). */
  links: Pick<MeetingLinks, "get" | "has" | "live">;
  /** The overlay, when the meeting runs over it. */
  overlay(): MeetingOverlay | undefined;
  /** Whether the meeting has been left. */
  left(): boolean;
}

/** The messages of one meeting (see the module documentation). */
export class MeetingMessages {
  readonly #init: MeetingMessagesInit;
  /** Requests no listener answered yet; each entry rejects its request (see cancel()). */
  readonly #openRequests = new Set<() => void>();

  /** @param init Options, counters, logger, the meeting's events, links and overlay. */
  constructor(init: MeetingMessagesInit) {
    this.#init = init;
  }

  /**
   * Send a message to one participant (see `Meeting.send()`).
   * @param peerId The participant.
   * @param data Text, bytes or a JSON value.
   * @param options `channel` and an abort `signal`.
   * @returns Resolves on acknowledgement.
   */
  async send(
    peerId: string,
    data: MessageData,
    options: { channel?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const { links, stats } = this.#init;
    if (this.#init.overlay() && !links.has(peerId)) await this.#linkOnDemand(peerId, "send");
    const link = this.#linkFor(peerId, "send");
    this.#init.overlay()?.used(peerId);
    const payload = this.encode(data, takePayload);
    stats.messagesSent++;
    await link.sendData(payload, options.channel ?? 0, options.signal);
    stats.messagesAcked++;
    // Acknowledged: the link will not write it again (src/_payload_pool.ts).
    givePayload(payload);
  }

  /**
   * Send a message to every participant (see `Meeting.broadcast()`).
   * @param data Text, bytes or a JSON value.
   * @param options `channel` and an abort `signal`.
   * @returns Who acknowledged and who failed (with the error); through the mesh, its id.
   */
  async broadcast(
    data: MessageData,
    options: { channel?: number; signal?: AbortSignal } = {},
  ): Promise<{ delivered: string[]; failed: { peerId: string; error: Error }[]; id?: string }> {
    const { stats } = this.#init;
    if (this.#init.left()) {
      throw new MeetingClosedError("Cannot broadcast: the meeting has been left");
    }
    const payload = this.encode(data);
    const overlay = this.#init.overlay();
    if (overlay && !overlay.node.fullMesh) {
      // Relayed through the mesh (Plumtree), signed by us; nobody acknowledges it end to end.
      stats.messagesSent++;
      const id = overlay.broadcast(options.channel ?? 0, payload);
      return { delivered: [], failed: [], id };
    }
    const links = this.#init.links.live();
    const results = await Promise.allSettled(links.map((link) => {
      stats.messagesSent++;
      return link.sendData(payload, options.channel ?? 0, options.signal).then(() =>
        stats.messagesAcked++
      );
    }));
    const delivered: string[] = [];
    const failed: { peerId: string; error: Error }[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") delivered.push(links[i].peerId);
      else failed.push({ peerId: links[i].peerId, error: r.reason });
    });
    return { delivered, failed };
  }

  /**
   * Send a request to one participant and wait for its response (see `Meeting.request()`).
   * @param peerId The participant.
   * @param data The request body.
   * @param options Abort `signal`.
   * @returns The response body.
   */
  async request(
    peerId: string,
    data: MessageData,
    options: { signal?: AbortSignal } = {},
  ): Promise<MessageData> {
    if (this.#init.overlay() && !this.#init.links.has(peerId)) {
      await this.#linkOnDemand(peerId, "request");
    }
    const link = this.#linkFor(peerId, "request");
    this.#init.overlay()?.used(peerId);
    const { payload, error } = await link.request(this.encode(data), options.signal);
    const body = decodeMessage(payload);
    if (error) {
      const message = (body as { error?: string })?.error ?? "unknown error";
      throw new Error(`Request to ${peerId} failed on the other side: ${message}`);
    }
    return body;
  }

  /**
   * Encode a message for the wire.
   * @param data Text, bytes or a JSON value.
   * @param alloc Where the payload's buffer comes from: `takePayload` for a send that gives
   *   it back once acknowledged (src/_payload_pool.ts); a new buffer by default.
   * @returns Its payload.
   * @throws {FrameTooLargeError} When it is over `maxMessageBytes`.
   */
  encode(data: MessageData, alloc?: (size: number) => Uint8Array): Uint8Array {
    const { maxMessageBytes } = this.#init.options;
    const payload = encodeMessage(data, alloc);
    if (payload.length > maxMessageBytes) {
      throw new FrameTooLargeError(
        `Cannot send message: ${payload.length} bytes is over the limit of ` +
          `${maxMessageBytes} bytes (maxMessageBytes); split it or raise the limit`,
      );
    }
    return payload;
  }

  /**
   * A data frame arrived on a link: the application uses the link (links outside the mesh
   * close when idle), and the message is delivered.
   * @param link The link.
   * @param frame The frame.
   */
  received(link: PeerLink, frame: Frame): void {
    this.#init.overlay()?.used(link.peerId);
    // The payload came out of the link's frame decoder and is ours alone: no copy.
    this.deliver(link.peerId, link.name, frame.channel, frame.payload, true);
  }

  /**
   * A message arrived (on a link, or through the mesh): emit it as `message`.
   * @param from The sender's peer id.
   * @param name The sender's name.
   * @param channel Its channel.
   * @param payload The encoded message.
   * @param owned Nothing else holds `payload` (a message through the mesh may still be
   *   cached and forwarded, so it is copied for the application).
   */
  deliver(from: string, name: string, channel: number, payload: Uint8Array, owned = false): void {
    let data: MessageData;
    try {
      data = decodeMessage(payload, { owned });
    } catch (err) {
      this.#init.stats.messagesDropped++;
      this.#init.log(`dropped malformed message from ${from}: ${(err as Error).message}`);
      return;
    }
    this.#init.stats.messagesReceived++;
    this.#init.emit("message", {
      from,
      name,
      data,
      text: typeof data === "string" ? data : undefined,
      channel,
    });
  }

  /**
   * A request arrived: emit it as `request` and wait for a listener's answer.
   * @param from The requester's peer id.
   * @param name The requester's name.
   * @param payload The encoded request.
   * @returns The encoded response.
   * @throws {Error} When the payload does not decode (thrown at once).
   */
  answer(from: string, name: string, payload: Uint8Array): Promise<Uint8Array> {
    const data = decodeMessage(payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      // Listeners may answer later; give them until just before the requester gives up.
      const timer = setTimeout(
        () => fail(new Error("no request listener answered")),
        Math.max(1000, this.#init.options.ackTimeoutMs - 1000),
      );
      const finish = (fn: () => void) => {
        if (!this.#openRequests.delete(cancel)) return;
        clearTimeout(timer);
        fn();
      };
      const cancel = () =>
        finish(() => reject(new MeetingClosedError("The meeting has been left")));
      this.#openRequests.add(cancel);
      const respond = (body: MessageData) =>
        finish(() => {
          try {
            resolve(this.encode(body));
          } catch (err) {
            reject(err);
          }
        });
      const fail = (reason: Error | string) =>
        finish(() => reject(typeof reason === "string" ? new Error(reason) : reason));
      this.#init.emit("request", { from, name, data, respond, reject: fail });
    });
  }

  /** Reject every request still waiting for an answer (the meeting is left). */
  cancel(): void {
    for (const cancel of [...this.#openRequests]) cancel();
  }

  #assertOpen(what: string): void {
    if (this.#init.left()) {
      throw new MeetingClosedError(`Cannot ${what}: the meeting has been left`);
    }
  }

  #linkFor(peerId: string, what: string): PeerLink {
    this.#assertOpen(what);
    const link = this.#init.links.get(peerId);
    if (!link || link.state === "closed") {
      throw new PeerNotFoundError(
        `Cannot ${what}: ${peerId} is not a participant of this meeting (see meeting.participants)`,
      );
    }
    return link;
  }

  /** Open a link to a roster member for `send()`/`request()` and wait for it. */
  async #linkOnDemand(peerId: string, what: string): Promise<void> {
    this.#assertOpen(what);
    await this.#init.overlay()?.linkOnDemand(peerId, this.#init.options.dialTimeoutMs * 2);
  }
}
