/**
 * One participant as seen from this node: its stream, sequence numbers, pending
 * acknowledgements, heartbeats and lease (requirements M1–M4, D5, R1, S6).
 *
 * - Reliable frames (data, request, response, leave) get a sequence number per direction
 *   and are acknowledged. Acknowledgements are cumulative: the receiver answers a burst
 *   with one ack for the highest frame delivered, once per turn of the event loop, and the
 *   sender keeps one timer per link (for its oldest unacknowledged frame), not one per
 *   message. Unacknowledged frames are kept and written again, in order, when
 *   a new stream replaces a broken one; the receiver drops duplicates by sequence number,
 *   so delivery is exactly once and in order per peer across reconnections.
 * - Heartbeats (ping/pong) run while idle and measure the round-trip time; any frame
 *   renews the peer's lease.
 * - A token bucket limits how many frames a peer may send per second; the excess is
 *   refused with a nack (the sender's `send()` rejects with {@linkcode RateLimitError}).
 *
 * The link holds the stream and the sequence numbers; its parts sit beside it: the frames
 * waiting for an ack (`peer_link_acks.ts`), requests waiting for a response
 * (`peer_link_requests.ts`), the flood limit (`peer_link_flood_limit.ts`) and the RTT of the
 * heartbeats (`peer_link_rtt.ts`).
 *
 * @module
 */
import { DeliveryError, MeetingClosedError, RateLimitError } from "./errors.ts";
import { type Frame, FrameFlags, FrameType } from "./frame.ts";
import type { FrameChannel } from "./connect/frame_channel.ts";
import type { Logger } from "./logger.ts";
import { encodeMessage } from "./message_codec.ts";
import { PendingAcks, type PendingFrame } from "./peer_link_acks.ts";
import { FloodLimit } from "./peer_link_flood_limit.ts";
import { PendingRequests, RESPONSE_ERROR_FLAG } from "./peer_link_requests.ts";
import { RttMeter } from "./peer_link_rtt.ts";

/** Connection state of a participant. */
export type LinkState = "connecting" | "connected" | "reconnecting" | "closed";

/** What a link reports to its meeting. */
export interface PeerLinkEvents {
  /** A data frame arrived (in order, once). */
  onData(link: PeerLink, frame: Frame): void;
  /** A request arrived; return the response payload. */
  onRequest(link: PeerLink, frame: Frame): Promise<Uint8Array>;
  /** The peer announced that it leaves. */
  onLeave(link: PeerLink): void;
  /** The stream broke (the link keeps its state and waits for a new one). */
  onStreamLost(link: PeerLink, err?: Error): void;
  /** An overlay message arrived (in order, once). */
  onOverlay?(link: PeerLink, frame: Frame): void;
}

/** Limits and timers of a link. */
export interface PeerLinkOptions {
  /** How long `send()` waits for an acknowledgement. */
  ackTimeoutMs: number;
  /** Heartbeat interval while idle. */
  heartbeatMs: number;
  /** Frames per second a peer may send (sustained). */
  maxFramesPerSecond: number;
  /** Logger. */
  log: Logger;
}

const RELIABLE = new Set<number>([
  FrameType.Data,
  FrameType.Request,
  FrameType.Response,
  FrameType.Leave,
  FrameType.Overlay,
]);

const MAX_U32 = 0xffff_ffff;

/** The state kept for one remote participant. */
export class PeerLink {
  /** Remote peer id. */
  readonly peerId: string;
  /** Display name. */
  name: string;
  /** When it joined (its clock, ms since the epoch). */
  joinedAt: number;
  /** Current state. */
  state: LinkState = "connecting";
  /** When we last heard anything from it (our clock). */
  lastHeard: number = Date.now();
  /** Last measured round-trip time in ms. */
  rtt: number | undefined;
  /** Frames and bytes exchanged, summed over all streams. */
  readonly traffic = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };
  #stream: FrameChannel | undefined;
  #events: PeerLinkEvents;
  #options: PeerLinkOptions;
  #nextSeq = 1;
  #delivered = 0;
  readonly #pending: PendingAcks;
  readonly #requests: PendingRequests;
  readonly #rtt = new RttMeter();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #flood: FloodLimit;
  #lastWrite = 0;
  /**
   * Set once our Leave is written, or the other side's has arrived: nothing more is written
   * on this stream. The other side closes its peer connection when it sees the Leave, and
   * @roamhq/wrtc tears the closed channel down on its signaling thread while JavaScript may
   * still call `send()`, `bufferedAmount` or `readyState` on it: a use-after-free that killed
   * member processes with SIGSEGV in `RTCDataChannel::Send` (core dump, issue 11's
   * 60-member test, where prunes close links often). `CleanupInternals()` in the binding's
   * src/interfaces/rtc_data_channel.cc drops the channel on that thread without a lock.
   */
  #quiet = false;
  /** Frames were delivered since our last ack (acknowledged at the end of the burst). */
  #ackDue = false;

  /**
   * @param peerId Remote peer id.
   * @param hello Its name and join time.
   * @param events Where frames go.
   * @param options Timers and limits.
   */
  constructor(
    peerId: string,
    hello: { name: string; joinedAt: number },
    events: PeerLinkEvents,
    options: PeerLinkOptions,
  ) {
    this.peerId = peerId;
    this.name = hello.name;
    this.joinedAt = hello.joinedAt;
    this.#events = events;
    this.#options = options;
    this.#flood = new FloodLimit(options.maxFramesPerSecond);
    this.#pending = new PendingAcks(() =>
      new DeliveryError(
        `Message to ${this.peerId} was not acknowledged within ${options.ackTimeoutMs} ms ` +
          `(link ${this.state}); it may not have been delivered`,
      )
    );
    this.#requests = new PendingRequests(
      peerId,
      options.ackTimeoutMs,
      (id, payload, signal) => this.#send(FrameType.Request, payload, 0, id, 0, signal),
    );
  }

  /** Whether a stream is attached. */
  get connected(): boolean {
    return this.#stream?.open === true;
  }

  /** Messages written but not yet acknowledged. */
  get unacknowledged(): number {
    return this.#pending.size;
  }

  /**
   * Attach a fresh stream (after a handshake): unacknowledged frames are written again in
   * order, reading and heartbeats start.
   *
   * @param stream The handshaken stream.
   */
  attach(stream: FrameChannel): void {
    const old = this.#stream;
    this.#stream = stream;
    if (old && old !== stream) void old.close();
    this.state = "connected";
    this.lastHeard = Date.now();
    void this.#readLoop(stream);
    for (const pending of this.#pending.inOrder()) {
      pending.written = false;
      this.#writeReliable(pending);
    }
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#tick(), this.#options.heartbeatMs);
  }

  /**
   * The path under the stream is dead (e.g. ICE failed): abort the stream, so the link
   * reports it lost and is redialled; unacknowledged frames are written again on the next.
   *
   * @param err Why.
   */
  dropStream(err: Error): void {
    this.#stream?.abort(err);
  }

  async #readLoop(stream: FrameChannel): Promise<void> {
    while (true) {
      let frame: Frame;
      try {
        frame = await stream.read();
      } catch (err) {
        if (this.#quiet) {
          // The other side closed after a Leave (ours or its own): the link is done.
          void this.close(err as Error, { now: true });
          return;
        }
        if (this.#stream === stream) {
          this.#stream = undefined;
          clearInterval(this.#heartbeat);
          if (this.state !== "closed") {
            this.state = "reconnecting";
            this.#events.onStreamLost(this, err as Error);
          }
        }
        return;
      }
      // What arrived together (one data channel message holds up to 64 KiB of frames) is
      // handled in this turn, with no promise per frame, and acknowledged at once with one
      // cumulative ack: no timer between a burst and its ack.
      this.lastHeard = Date.now();
      let next: Frame | undefined = frame;
      do {
        this.traffic.framesIn++;
        this.traffic.bytesIn += next.payload.length + 24;
        try {
          this.#handle(stream, next);
        } catch (err) {
          this.#options.log.error(`frame from ${this.peerId} failed`, err);
        }
        next = stream.readNow();
      } while (next !== undefined);
      this.#flushAck(stream);
    }
  }

  #handle(stream: FrameChannel, frame: Frame): void {
    switch (frame.type) {
      case FrameType.Ping:
        this.#control(stream, FrameType.Pong, frame.seq);
        return;
      case FrameType.Pong: {
        const rtt = this.#rtt.pong(frame.ref);
        if (rtt !== undefined) this.rtt = rtt;
        return;
      }
      case FrameType.Ack:
        if ((frame.flags & FrameFlags.Cumulative) !== 0) this.#pending.settleUpTo(frame.ref);
        else this.#pending.settle(frame.ref);
        return;
      case FrameType.Nack: {
        const pending = this.#pending.take(frame.ref);
        if (pending) {
          const reason = new TextDecoder().decode(frame.payload);
          pending.reject(
            reason === "rate-limited"
              ? new RateLimitError(
                `Message to ${this.peerId} was refused: rate limit of ${this.#options.maxFramesPerSecond} frames/s exceeded; slow down`,
              )
              : new DeliveryError(`Message to ${this.peerId} was refused: ${reason}`),
          );
        }
        return;
      }
    }
    if (!RELIABLE.has(frame.type)) return; // presence and unknown control frames: ignore
    if (frame.seq <= this.#delivered) {
      this.#ackDue = true; // a duplicate after a reconnect: acknowledge again
      return;
    }
    if (!this.#flood.take()) {
      // Acknowledge what came before it first, so the refusal names only this frame.
      this.#flushAck(stream);
      this.#delivered = frame.seq;
      this.traffic.dropped++;
      this.#control(stream, FrameType.Nack, frame.seq, "rate-limited");
      return;
    }
    this.#delivered = frame.seq;
    this.#ackDue = true;
    switch (frame.type) {
      case FrameType.Data:
        this.#events.onData(this, frame);
        return;
      case FrameType.Overlay:
        this.#events.onOverlay?.(this, frame);
        return;
      case FrameType.Leave:
        this.#flushAck(stream); // before the link closes
        this.#quiet = true;
        this.state = "closed";
        this.#events.onLeave(this);
        // Closed here too: when both sides leave at once, each one's Leave crosses the other's
        // and neither acknowledges (both are quiet), so both would wait out the ack timeout.
        void this.close(new MeetingClosedError("The peer closed the link"), { now: true });
        return;
      case FrameType.Response:
        this.#requests.respond(frame.ref, frame.payload, (frame.flags & RESPONSE_ERROR_FLAG) !== 0);
        return;
      case FrameType.Request:
        // Answered in the background: the read loop must keep reading (acks, other frames).
        void this.#answer(frame);
        return;
    }
  }

  async #answer(frame: Frame): Promise<void> {
    let payload: Uint8Array;
    let flags = 0;
    try {
      payload = await this.#events.onRequest(this, frame);
    } catch (err) {
      flags = RESPONSE_ERROR_FLAG;
      payload = encodeMessage({ error: (err as Error)?.message ?? String(err) });
    }
    await this.#send(FrameType.Response, payload, frame.channel, frame.ref, flags).catch(() => {});
  }

  #control(stream: FrameChannel, type: number, ref: number, reason?: string): void {
    if (this.#quiet) return;
    const frame: Frame = {
      type: type as Frame["type"],
      flags: 0,
      channel: 0,
      seq: type === FrameType.Ping ? ref : 0,
      ref: type === FrameType.Ping ? 0 : ref,
      payload: reason ? new TextEncoder().encode(reason) : new Uint8Array(0),
    };
    this.traffic.framesOut++;
    this.#lastWrite = Date.now();
    stream.write(frame).catch(() => {});
  }

  /** One cumulative ack for everything delivered so far, if any is due. */
  #flushAck(stream: FrameChannel): void {
    if (!this.#ackDue) return;
    this.#ackDue = false;
    if (this.#delivered === 0 || !stream.open || this.#quiet) return;
    this.traffic.framesOut++;
    this.#lastWrite = Date.now();
    stream.write({
      type: FrameType.Ack,
      flags: FrameFlags.Cumulative,
      channel: 0,
      seq: 0,
      ref: this.#delivered,
      payload: new Uint8Array(0),
    }).catch(() => {});
  }

  #tick(): void {
    const stream = this.#stream;
    if (!stream?.open || this.#quiet) return;
    if (Date.now() - this.#lastWrite < this.#options.heartbeatMs / 2 && this.rtt !== undefined) {
      return;
    }
    this.#control(stream, FrameType.Ping, this.#rtt.ping());
  }

  #writeReliable(pending: PendingFrame): void {
    const stream = this.#stream;
    if (!stream?.open || pending.written || this.#quiet) return; // written again on attach()
    // An acknowledgement that is due goes first: the peer must not see our next frame (a
    // Leave above all) before the ack of what it sent us.
    this.#flushAck(stream);
    pending.written = true;
    this.traffic.framesOut++;
    this.traffic.bytesOut += pending.frame.payload.length + 24;
    this.#lastWrite = Date.now();
    stream.write(pending.frame).catch(() => {
      pending.written = false; // the stream broke; attach() writes it again
    });
  }

  #send(
    type: number,
    payload: Uint8Array,
    channel: number,
    ref: number,
    flags: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.state === "closed") {
      return Promise.reject(
        new MeetingClosedError(`Cannot send to ${this.peerId}: the peer has left the meeting`),
      );
    }
    signal?.throwIfAborted();
    const seq = this.#nextSeq;
    this.#nextSeq = this.#nextSeq >= MAX_U32 ? 1 : this.#nextSeq + 1;
    const frame: Frame = {
      type: type as Frame["type"],
      flags: FrameFlags.AckRequested | flags,
      channel,
      seq,
      ref,
      payload,
    };
    return new Promise<void>((resolve, reject) => {
      const pending: PendingFrame = {
        frame,
        written: false,
        resolve,
        reject,
        deadline: performance.now() + this.#options.ackTimeoutMs,
      };
      if (signal) {
        // Closures only for a send that can be aborted (most cannot: no cost per message).
        const onAbort = () => {
          if (this.#pending.take(seq)) reject(signal.reason);
        };
        pending.resolve = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        pending.reject = (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#pending.add(seq, pending);
      this.#writeReliable(pending);
    });
  }

  /**
   * Send an overlay message (reliable and ordered like data; its delivery is not awaited:
   * the overlay repairs what a broken link lost).
   *
   * @param payload The encoded overlay message.
   */
  sendOverlay(payload: Uint8Array): void {
    this.#send(FrameType.Overlay, payload, 0, 0, 0).catch(() => {});
  }

  /**
   * Send a data frame; resolves when the peer acknowledged it.
   *
   * @param payload Encoded message.
   * @param channel Application channel (0–255).
   * @param signal Abort signal.
   * @returns Resolves on acknowledgement.
   * @throws {DeliveryError} When no acknowledgement came in time.
   * @throws {RateLimitError} When the peer refused it for flooding.
   */
  sendData(payload: Uint8Array, channel = 0, signal?: AbortSignal): Promise<void> {
    return this.#send(FrameType.Data, payload, channel, 0, 0, signal);
  }

  /**
   * Send a request and wait for the response.
   *
   * @param payload Encoded request.
   * @param signal Abort signal.
   * @returns The response payload and whether the other side reported an error.
   */
  request(
    payload: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ payload: Uint8Array; error: boolean }> {
    return this.#requests.open(payload, signal);
  }

  /**
   * Tell the peer we close this link (best effort, short wait for its acknowledgement or its
   * close), then close. The Leave is the last frame we write (see `#quiet`).
   *
   * @param waitMs How long to wait for the acknowledgement.
   * @param err The error pending sends reject with.
   */
  async leave(
    waitMs = 1000,
    err: Error = new MeetingClosedError("The meeting was left"),
  ): Promise<void> {
    if (this.connected && this.state !== "closed") {
      const signal = AbortSignal.timeout(waitMs);
      const sent = this.#send(FrameType.Leave, new Uint8Array(0), 0, 0, 0, signal);
      this.#quiet = true;
      await sent.catch(() => {});
    }
    await this.close(err, { now: true });
  }

  /**
   * Close the link: pending messages fail with the given error, timers stop.
   *
   * @param err The error pending sends reject with.
   * @param options `now`: abort the stream at once (a dead peer) instead of letting what is
   *   buffered drain first (for at most a second).
   */
  async close(
    err: Error = new MeetingClosedError("The link was closed"),
    options: { now?: boolean } = {},
  ): Promise<void> {
    this.state = "closed";
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#pending.rejectAll(err);
    this.#requests.rejectAll(err);
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) this.#flushAck(stream); // what was delivered is acknowledged before closing
    this.#ackDue = false;
    if (options.now) stream?.abort(err);
    else await stream?.close();
  }
}
