/**
 * Knocking: the higher peer id of a pair never dials; when it discovers a lower peer it
 * hands that peer its signed, encrypted presence record over a relayed stream
 * ({@linkcode KNOCK_PROTOCOL}), and the lower peer, once the record checks out, dials back.
 * So a newcomer meets everyone with its own first lookup, and members need not poll the
 * DHT quickly.
 *
 * The lower peer dials back over the knock stream itself when it can (after its `Ack`, the
 * stream goes on as a signaling stream, the knocker answering): opening a new stream over
 * the relay costs a round trip of multistream-select through the relay (5–15 ms on
 * loopback). A lower peer that does not dial at once closes the stream after its `Ack`.
 *
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { ConnectionFailedError, MembershipProofError } from "../errors.ts";
import { type Frame, FrameType } from "../frame.ts";
import { FramedStream } from "../framed_stream.ts";
import type { Logger } from "../logger.ts";
import type { ParticipantLibp2p } from "../node.ts";
import type { Presence } from "../presence.ts";
import { sleep } from "../_async.ts";
import { AddressRotation } from "./address_rotation.ts";

/** The libp2p protocol a higher peer uses to ask a lower one to dial it (over the relay). */
export const KNOCK_PROTOCOL = "/meshmeet/knock/1.0.0";

/** Largest knock frame (a presence record). */
const MAX_KNOCK_BYTES = 32 * 1024;
/** How long one knock may take. */
const KNOCK_TIMEOUT_MS = 5000;
/** Knocks per peer before giving up (the waits between them double from 2 s). */
const KNOCK_ATTEMPTS = 4;

/** What knocking needs from the meeting. */
export interface KnockHost {
  /** The participant's libp2p node. */
  libp2p: ParticipantLibp2p;
  /** Ends everything (the meeting was left). */
  signal: AbortSignal;
  /** Logger (`meshmeet:connect`). */
  log: Logger;
  /** Where a known peer's addresses are, best first. */
  addresses(peerId: string): readonly string[];
  /** Whether the peer has a working link. */
  linked(peerId: string): boolean;
  /** Our own sealed presence record. */
  ownRecord(): Promise<Uint8Array>;
  /** Open and check a presence record that `peerId` handed us (throws when invalid). */
  accept(peerId: string, record: Uint8Array): Promise<Presence>;
  /**
   * A record handed over by a knock was accepted. `stream` is the knock stream, which the
   * meeting may take for its dial back (the first WebRTC attempt runs on it).
   * @returns Whether it took `stream` (otherwise the knocker closes it).
   */
  onPresence(presence: Presence, stream: FramedStream): boolean;
  /**
   * Our knock was answered: the knocked peer may now dial us over the same stream. Takes
   * the stream (answers a dial on it, or ends quietly when the peer closes it).
   * @returns Settles when that answer has ended (never rejects).
   */
  answerOver?(stream: FramedStream, connection: Connection): Promise<void>;
  /** A knock carried a record that did not check out. */
  onRefused(peerId: string, error: Error): void;
  /** Whether to refuse a knock before checking anything (see `src/handshake_backoff.ts`). */
  refuse?(peerId: string): boolean;
  /**
   * A knock was answered on `connection`: the meeting may close it (a relayed connection to
   * a peer it already holds a WebRTC link with carries nothing more).
   */
  answered?(peerId: string, connection: Connection): void;
  /**
   * Knocking on a peer ended without a link: every knock went unanswered by a dial, or the
   * peer is no longer at its relay (`gone`: it left or moved; knocking again cannot help).
   */
  onUnreachable?(peerId: string, error: Error, gone: boolean): void;
}

const _frame = (type: Frame["type"], payload: Uint8Array): Frame => ({
  type,
  flags: 0,
  channel: 0,
  seq: 0,
  ref: 0,
  payload,
});

/** Knocks on lower peers and answers knocks. */
export class Knocker {
  #host: KnockHost;
  #knocking = new Set<string>();

  /** @param host The meeting it serves. */
  constructor(host: KnockHost) {
    this.#host = host;
  }

  /** Answer knocks from now on. */
  async start(): Promise<void> {
    await this.#host.libp2p.handle(KNOCK_PROTOCOL, (stream, connection) => {
      void this.#answer(stream, connection);
    }, { runOnLimitedConnection: true, maxInboundStreams: 8, maxOutboundStreams: 8 });
  }

  /**
   * Knock on a lower peer until it dials us (at most {@linkcode KNOCK_ATTEMPTS} times, the
   * waits doubling from 2 s). Does nothing while a knock on it runs.
   *
   * @param peerId The lower peer.
   */
  async knock(peerId: string): Promise<void> {
    const host = this.#host;
    if (this.#knocking.has(peerId) || host.signal.aborted) return;
    this.#knocking.add(peerId);
    let lastError: Error | undefined;
    const rotation = new AddressRotation();
    try {
      let delay = 2000;
      for (let attempt = 1; attempt <= KNOCK_ATTEMPTS && !host.signal.aborted; attempt++) {
        if (host.linked(peerId)) return;
        const address = rotation.pick(host.addresses(peerId));
        if (address === undefined) return;
        const reached = { stream: false };
        // Set when the dial back over our knock stream ended with its connection closed.
        const answer = { lost: false };
        try {
          const handed = await this.#knockOnce(peerId, address, reached);
          host.log(`knock ${attempt} on ${peerId} answered`);
          void handed?.answered.then((lost) => answer.lost = lost);
        } catch (err) {
          host.log(`knock ${attempt} on ${peerId} failed: ${(err as Error).message}`);
          lastError = err as Error;
          if (!reached.stream) {
            // No stream at this address: knock at the peer's next relay at once.
            const next = rotation.unreached(address, err, host.addresses(peerId));
            if (next === "elsewhere") continue;
            if (next === "gone") {
              host.onUnreachable?.(
                peerId,
                new ConnectionFailedError(
                  `Cannot reach ${peerId}: it is no longer at its relay (it left or moved); ` +
                    `last error: ${lastError.message}`,
                  { cause: err },
                ),
                true,
              );
              return;
            }
          }
        }
        // Wait for the lower peer to dial us; knock again if it does not. When the dial back
        // over our knock stream ended because the connection under it closed (its relay
        // died), we knock again at once: the knock hands over our current record, so the
        // peer learns where we are now (its retries would go to the address it knew).
        // Other endings (ICE failed) leave the peer climbing its ladder: we wait.
        const deadline = Date.now() + delay;
        while (
          Date.now() < deadline && !host.linked(peerId) && !host.signal.aborted && !answer.lost
        ) {
          await sleep(100, host.signal).catch(() => {});
        }
        if (answer.lost && !host.linked(peerId)) continue;
        delay *= 2;
      }
      if (!host.signal.aborted && !host.linked(peerId)) {
        host.onUnreachable?.(
          peerId,
          new ConnectionFailedError(
            `${peerId} did not dial back after ${KNOCK_ATTEMPTS} knocks` +
              (lastError ? `; last error: ${lastError.message}` : ""),
            lastError ? { cause: lastError } : undefined,
          ),
          false,
        );
      }
    } finally {
      this.#knocking.delete(peerId);
    }
  }

  /**
   * One knock. When the stream was handed on to carry the peer's dial back, returns the end
   * of that answer: true when it ended with the connection closed.
   */
  async #knockOnce(
    peerId: string,
    address: string,
    reached: { stream: boolean },
  ): Promise<{ answered: Promise<boolean> } | undefined> {
    const host = this.#host;
    const signal = AbortSignal.any([host.signal, AbortSignal.timeout(KNOCK_TIMEOUT_MS)]);
    const record = await host.ownRecord();
    const connection = await host.libp2p.dial(multiaddr(address), { signal });
    const stream = await connection.newStream(KNOCK_PROTOCOL, {
      signal,
      runOnLimitedConnection: true,
    });
    reached.stream = true;
    const framed = new FramedStream(stream, { maxPayload: MAX_KNOCK_BYTES });
    let handedOver = false;
    try {
      await framed.write(_frame(FrameType.Presence, record), { signal });
      const reply = await framed.read({ signal });
      if (reply.type !== FrameType.Ack) {
        throw new MembershipProofError(
          `Knock refused by ${peerId}: ${new TextDecoder().decode(reply.payload)}`,
        );
      }
      if (host.answerOver) {
        handedOver = true;
        const answered = host.answerOver(framed, connection);
        return { answered: answered.then(() => connection.status !== "open") };
      }
    } finally {
      if (!handedOver) await framed.close();
    }
  }

  async #answer(stream: Stream, connection: Connection): Promise<void> {
    const host = this.#host;
    const peerId = connection.remotePeer.toString();
    if (host.refuse?.(peerId)) {
      host.log(`knock from ${peerId} refused: it failed recently (backing off)`);
      stream.abort(new MembershipProofError(`${peerId} was refused recently; backing off`));
      return;
    }
    const framed = new FramedStream(stream, { maxPayload: MAX_KNOCK_BYTES });
    const signal = AbortSignal.any([host.signal, AbortSignal.timeout(KNOCK_TIMEOUT_MS)]);
    let handedOver = false;
    try {
      const frame = await framed.read({ signal });
      if (frame.type !== FrameType.Presence) {
        throw new MembershipProofError("Knock without presence");
      }
      let presence: Presence;
      try {
        presence = await host.accept(peerId, frame.payload);
      } catch (err) {
        host.onRefused(peerId, err as Error);
        const why = new TextEncoder().encode("presence record not accepted");
        await framed.write(_frame(FrameType.Nack, why), { signal }).catch(() => {});
        return;
      }
      await framed.write(_frame(FrameType.Ack, new Uint8Array(0)), { signal });
      handedOver = host.onPresence(presence, framed);
      host.log(`knock from ${peerId} accepted${handedOver ? "; dialing back over it" : ""}`);
    } catch (err) {
      host.log(`knock from ${peerId} failed: ${(err as Error).message}`);
    } finally {
      if (!handedOver) await framed.close();
    }
    if (!handedOver) host.answered?.(peerId, connection);
  }
}
