/**
 * The application's messages as a meeting handles them: encoded under `maxMessageBytes`,
 * delivered as `message` events (counted; a malformed one is dropped and logged), and
 * requests handed to `request` listeners, each answered in time or failed, and all of them
 * rejected when the meeting is left.
 *
 * @module
 */
import { FrameTooLargeError, MeetingClosedError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { MeetingEventMap, MeetingOptions, MeetingStats } from "./meeting_types.ts";
import { decodeMessage, encodeMessage, type MessageData } from "./message_codec.ts";

/** What {@linkcode MeetingMessages} is built from. */
export interface MeetingMessagesInit {
  /** Size limit and how long a requester waits. */
  options: Required<Pick<MeetingOptions, "maxMessageBytes" | "ackTimeoutMs">>;
  /** The meeting's counters (messages received and dropped are counted here). */
  stats: MeetingStats;
  /** Where dropped messages are reported. */
  log: Logger;
  /** Emit a meeting event. */
  emit<K extends keyof MeetingEventMap>(type: K, detail: MeetingEventMap[K]["detail"]): void;
}

/** The messages of one meeting (see the module documentation). */
export class MeetingMessages {
  readonly #init: MeetingMessagesInit;
  /** Requests no listener answered yet; each entry rejects its request (see cancel()). */
  readonly #openRequests = new Set<() => void>();

  /** @param init Options, counters, logger and the meeting's events. */
  constructor(init: MeetingMessagesInit) {
    this.#init = init;
  }

  /**
   * Encode a message for the wire.
   * @param data Text, bytes or a JSON value.
   * @returns Its payload.
   * @throws {FrameTooLargeError} When it is over `maxMessageBytes`.
   */
  encode(data: MessageData): Uint8Array {
    const { maxMessageBytes } = this.#init.options;
    const payload = encodeMessage(data);
    if (payload.length > maxMessageBytes) {
      throw new FrameTooLargeError(
        `Cannot send message: ${payload.length} bytes is over the limit of ` +
          `${maxMessageBytes} bytes (maxMessageBytes); split it or raise the limit`,
      );
    }
    return payload;
  }

  /**
   * A message arrived (on a link, or through the mesh): emit it as `message`.
   * @param from The sender's peer id.
   * @param name The sender's name.
   * @param channel Its channel.
   * @param payload The encoded message.
   */
  deliver(from: string, name: string, channel: number, payload: Uint8Array): void {
    let data: MessageData;
    try {
      data = decodeMessage(payload);
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
}
