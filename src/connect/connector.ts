/**
 * The connector: makes meeting links. Dialing opens a signaling stream to the peer's relay
 * address, runs the membership handshake on it, then climbs the ladder
 * ({@linkcode DialLadder}): a WebRTC session of meshmeet's own on the `direct` rung, the
 * same with TURN candidates on the `turn` rung, and on the `relay` rung the signaling stream
 * itself carries the meeting. Answering does the same from the other side. Every link it
 * makes, with its path already described, goes to the host (the meeting), which keeps the
 * roster.
 *
 * Who dials (the lower peer id) and when is the meeting's decision; the connector bounds
 * how many attempts run at once (`maxDialsInFlight`) and how long each may take.
 *
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { ConnectionFailedError, MeetingClosedError, MembershipProofError } from "../errors.ts";
import { FramedStream } from "../framed_stream.ts";
import type { MemberHello } from "../membership.ts";
import { Limiter } from "../_limiter.ts";
import { sleep } from "../_async.ts";
import { hasTurnServer } from "./ice.ts";
import { describeWhenKnown, membershipHandshake, sessionInit } from "./link_setup.ts";
import { DialLadder, type Rung } from "./ladder.ts";
import { AddressRotation, relayKey } from "./address_rotation.ts";
import type { ConnectorHost, ConnectorOptions } from "./connector_types.ts";
import { notAtRelay } from "./relay_status.ts";
import {
  answerWebRtc,
  decodeSignal,
  encodeSignal,
  type IceRung,
  MAX_SIGNAL_BYTES,
  offerWebRtc,
  SIGNAL_PROTOCOL,
  type WebRtcSession,
} from "./signaling.ts";

/** When an attempt got its slot, and whether it opened a stream to the peer. */
interface AttemptTiming {
  /** When its budget started (`performance.now()`). */
  started: number;
  /** Whether the signaling stream was open (given, or opened at the address). */
  reached: boolean;
}

/** Makes and answers meeting links. */
export class Connector {
  #host: ConnectorHost;
  #options: ConnectorOptions;
  #dialing = new Map<string, Promise<void>>();
  #slots: Limiter;

  /**
   * @param host The meeting it serves.
   * @param options Timers and limits.
   */
  constructor(host: ConnectorHost, options: ConnectorOptions) {
    this.#host = host;
    this.#options = options;
    this.#slots = new Limiter(options.maxDialsInFlight);
  }

  /** Answer signaling streams from now on. */
  async start(): Promise<void> {
    await this.#host.libp2p.handle(SIGNAL_PROTOCOL, (stream, connection) => {
      void this.#answer(stream, connection);
    }, { runOnLimitedConnection: true, maxInboundStreams: 8, maxOutboundStreams: 8 });
  }

  /**
   * Whether an attempt to a peer is running.
   *
   * @param peerId The peer.
   * @returns True while dialing it.
   */
  dialing(peerId: string): boolean {
    return this.#dialing.has(peerId);
  }

  /** Resolves once every running attempt has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#dialing.values()]);
  }

  get #closed(): boolean {
    return this.#host.signal.aborted;
  }

  /**
   * Dial a peer up the ladder until a link is made, every rung failed (the host hears of
   * it), or the peer no longer needs one. Does nothing while a dial to it runs.
   *
   * @param peerId The peer (discovery must know its address).
   * @param stream A stream the peer opened to us that may carry the first WebRTC attempt:
   *   the knock it just made (see `knock.ts`), which saves opening one over the relay.
   * @returns Whether the dial took `stream` (it then closes it when done with it).
   */
  dial(peerId: string, stream?: FramedStream): boolean {
    if (this.#dialing.has(peerId) || this.#closed) return false;
    const host = this.#host;
    let given = stream;
    const task = (async () => {
      const signal = host.signal;
      const ladder = new DialLadder({
        turn: hasTurnServer(host.iceServers()),
        relay: this.#options.allowRelay,
        maxAttempts: this.#options.maxDialAttempts,
        triesPerRung: this.#options.directAttempts,
      });
      const rotation = new AddressRotation();
      let lastError: Error | undefined;
      let attempts = 0;
      for (let step = ladder.next(); step.action === "try"; step = ladder.next()) {
        if (step.delayMs > 0) await sleep(step.delayMs, signal).catch(() => {});
        const known = host.known(peerId);
        if (!known || this.#closed || host.linked(peerId)) return;
        if (known.addresses.length === 0) {
          host.log(`${peerId} announced no relay address; cannot dial`);
          return;
        }
        const address = rotation.pick(known.addresses)!;
        const timing: AttemptTiming = { started: performance.now(), reached: false };
        attempts++;
        // The knock stream goes to the first attempt, which is always on the `direct` rung
        // (the ladder starts there): it carries WebRTC signaling only (small frames).
        const over = given;
        given = undefined;
        try {
          await this.#attempt(peerId, address, known.discoveredAt, step.rung, timing, over);
          return;
        } catch (err) {
          if (this.#closed) return;
          host.stats.dialFailures++;
          host.log(
            `${step.rung} attempt ${step.attempt} to ${peerId} at ${relayKey(address)} failed ` +
              `after ${Math.round(performance.now() - timing.started)} ms: ${
                (err as Error).message
              }`,
          );
          if (err instanceof MembershipProofError) return;
          lastError = err as Error;
          if (!timing.reached) {
            // No stream at this address: try the peer's next relay at once (see
            // address_rotation.ts); the ladder hears of it only when every one failed.
            const next = rotation.unreached(address, err, host.known(peerId)?.addresses ?? []);
            if (next === "elsewhere") continue;
            if (next === "gone") break; // at no relay of its: it left or moved
          }
          ladder.failed(
            (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError" ||
              performance.now() - timing.started >= this.#budget(step.rung) - 50,
          );
        }
      }
      if (!this.#closed && lastError) {
        const tried = ladder.rungs.join(", ") +
          (this.#options.allowRelay ? "" : " (relay disabled)");
        host.onConnectionFailed(
          peerId,
          host.known(peerId)?.name ?? "",
          new ConnectionFailedError(
            `Cannot connect to ${peerId}: ${attempts} attempt${attempts === 1 ? "" : "s"} over ` +
              `${tried} failed; last error: ${lastError.message}` +
              (notAtRelay(lastError)
                ? " (the peer is no longer at its relay: it left or moved)"
                : ""),
            { cause: lastError },
          ),
        );
      }
    })().finally(() => {
      this.#dialing.delete(peerId);
      if (given) void given.close(); // not used: the dial ended before its first attempt
    });
    this.#dialing.set(peerId, task);
    return stream !== undefined;
  }

  /**
   * Try a better path for a linked peer in the background (one attempt on `rung`); the
   * new link replaces the old one when it works.
   *
   * @param peerId The peer.
   * @param rung The rung to try.
   */
  upgrade(peerId: string, rung: IceRung): void {
    if (this.#dialing.has(peerId) || this.#closed) return;
    const known = this.#host.known(peerId);
    if (known === undefined || known.addresses.length === 0) return;
    const task = (async () => {
      // One attempt, at the first of the peer's relays that lets a stream through: an
      // address whose relay is down or holds no reservation for the peer is skipped, as in
      // the dial loop (address_rotation.ts).
      const rotation = new AddressRotation();
      for (;;) {
        const addresses = this.#host.known(peerId)?.addresses ?? [];
        const address = rotation.pick(addresses);
        if (address === undefined || this.#closed) return;
        const timing: AttemptTiming = { started: 0, reached: false };
        try {
          return await this.#attempt(peerId, address, known.discoveredAt, rung, timing);
        } catch (err) {
          if (timing.reached || rotation.unreached(address, err, addresses) !== "elsewhere") {
            throw err;
          }
        }
      }
    })()
      .catch((err) =>
        this.#host.log(`upgrade of ${peerId} to ${rung} failed: ${(err as Error).message}`)
      )
      .finally(() => this.#dialing.delete(peerId));
    this.#dialing.set(peerId, task);
  }

  /**
   * One direct attempt to an address, for `Meeting.connect()`.
   *
   * @param peerId The peer.
   * @param address Its relay address.
   * @param signal Aborts the attempt.
   */
  connect(peerId: string, address: string, signal?: AbortSignal): Promise<void> {
    return this.#attempt(peerId, address, Date.now(), "direct", undefined, undefined, signal);
  }

  /** Whether TURN is configured (the `turn` rung exists). */
  get hasTurn(): boolean {
    return hasTurnServer(this.#host.iceServers());
  }

  #budget(rung: Rung): number {
    return rung === "relay"
      ? this.#options.relayTimeoutMs
      : rung === "turn"
      ? this.#options.turnTimeoutMs
      : this.#options.dialTimeoutMs;
  }

  /**
   * One attempt, when a slot is free (`maxDialsInFlight`); its budget starts then. `over`:
   * run it on this stream (the peer's knock) instead of opening a signaling stream.
   */
  #attempt(
    peerId: string,
    address: string,
    discoveredAt: number,
    rung: Rung,
    timing: AttemptTiming = { started: 0, reached: false },
    over?: FramedStream,
    outer?: AbortSignal,
  ): Promise<void> {
    const wait = outer ? AbortSignal.any([this.#host.signal, outer]) : this.#host.signal;
    const attempt = this.#slots.run(() => {
      timing.started = performance.now();
      return this.#attemptNow(peerId, address, discoveredAt, rung, outer, over, timing);
    }, wait);
    // A stream given but never used (no slot before the meeting ended) is closed here.
    if (over) attempt.catch(() => over.open && over.abort(new MeetingClosedError("Not dialed")));
    return attempt;
  }

  async #attemptNow(
    peerId: string,
    address: string,
    discoveredAt: number,
    rung: Rung,
    outer: AbortSignal | undefined,
    over: FramedStream | undefined,
    timing: AttemptTiming,
  ): Promise<void> {
    const host = this.#host;
    const signals = [host.signal, AbortSignal.timeout(this.#budget(rung))];
    if (outer) signals.push(outer);
    const signal = AbortSignal.any(signals);
    host.stats.dialAttempts++;
    const started = performance.now();
    const framed = over ?? new FramedStream(
      await host.libp2p.dialProtocol(multiaddr(address), SIGNAL_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      }),
      { maxPayload: this.#signalingPayload() },
    );
    timing.reached = true;
    const streamMs = performance.now() - started;
    if (rung !== "relay") {
      return await this.#offer(framed, peerId, rung, signal, discoveredAt, started, streamMs);
    }
    // The last rung: this stream carries the meeting from now on.
    const hello = await membershipHandshake(this.#host, framed, peerId, signal, "dialer");
    await framed.write(encodeSignal({ t: "relay" }), { signal });
    host.log(`relayed link to ${peerId} in ${(performance.now() - started).toFixed(0)} ms`);
    host.onLink({ peerId, channel: framed, hello, direction: "outbound", discoveredAt });
  }

  /**
   * The handshake and the offer, pipelined: the peer connection and the offer are made
   * while the handshake runs, the offer goes out right after our proof (the other side has
   * proved membership by then), and the answer is read once the handshake is done.
   */
  async #offer(
    framed: FramedStream,
    peerId: string,
    rung: IceRung,
    outer: AbortSignal,
    discoveredAt: number,
    started: number,
    streamMs: number,
  ): Promise<void> {
    const host = this.#host;
    const attempt = new AbortController();
    const signal = AbortSignal.any([outer, attempt.signal]);
    let proofSent!: () => void;
    const send = new Promise<void>((resolve) => proofSent = resolve);
    const handshake = membershipHandshake(this.#host, framed, peerId, signal, "dialer", proofSent);
    handshake.catch((err) => attempt.abort(err)); // ends the session below as well
    let session;
    try {
      session = await offerWebRtc(
        framed,
        rung,
        sessionInit(this.#host, this.#options, rung, signal),
        {
          send,
          read: handshake,
        },
      );
    } catch (err) {
      throw signal.aborted && attempt.signal.aborted ? attempt.signal.reason : err;
    } finally {
      void framed.close();
    }
    const hello = await handshake;
    const total = performance.now() - started;
    host.log(
      `connected to ${peerId} in ${total.toFixed(0)} ms (${rung}; signaling stream ${
        streamMs.toFixed(0)
      }, handshake and WebRTC ${(total - streamMs).toFixed(0)})`,
    );
    await this.#webRtcLink(peerId, session, hello, "outbound", discoveredAt);
  }

  /** Hand a WebRTC link to the host, its selected pair described first. */
  async #webRtcLink(
    peerId: string,
    session: WebRtcSession,
    hello: MemberHello,
    direction: "inbound" | "outbound",
    discoveredAt: number,
  ): Promise<void> {
    const path = await describeWhenKnown(session.pc, this.#host.log);
    this.#host.onLink({
      peerId,
      channel: session.frames,
      hello,
      pc: session.pc,
      path,
      direction,
      discoveredAt,
    });
  }

  /**
   * Answer on a knock stream: the lower peer we knocked on accepted our record and dials us
   * over the same stream (WebRTC rungs only). When it closes the stream instead, this ends
   * quietly, and its dial comes on a stream of its own.
   *
   * @param framed The knock stream, its knock answered.
   * @param connection Its connection.
   * @returns Settles when the answer has ended (a link made, or not); never rejects.
   */
  answerOver(framed: FramedStream, connection: Connection): Promise<void> {
    if (this.#closed) {
      framed.abort(new MeetingClosedError("The meeting has been left"));
      return Promise.resolve();
    }
    return this.#answerFramed(framed, connection, true);
  }

  async #answer(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString();
    if (this.#closed || connection.status !== "open") {
      stream.abort(new MeetingClosedError("The meeting has been left"));
      return;
    }
    if (this.#host.refuse?.(peerId)) {
      stream.abort(
        new MembershipProofError(`${peerId} failed the handshake recently; backing off`),
      );
      return;
    }
    const framed = new FramedStream(stream, { maxPayload: this.#signalingPayload() });
    await this.#answerFramed(framed, connection, false);
  }

  async #answerFramed(
    framed: FramedStream,
    connection: Connection,
    knocked: boolean,
  ): Promise<void> {
    const host = this.#host;
    const peerId = connection.remotePeer.toString();
    const budget = Math.max(this.#options.turnTimeoutMs, this.#options.dialTimeoutMs) + 2000;
    const signal = AbortSignal.any([host.signal, AbortSignal.timeout(budget)]);
    let hello: MemberHello;
    try {
      hello = await membershipHandshake(this.#host, framed, peerId, signal, "listener");
    } catch (err) {
      if (err instanceof MembershipProofError) await connection.close().catch(() => {});
      return;
    }
    const discoveredAt = host.known(peerId)?.discoveredAt ?? Date.now();
    try {
      const first = decodeSignal(await framed.read({ signal }));
      if (first.t === "relay") {
        if (knocked) throw new ConnectionFailedError("No relayed link on a knock stream");
        if (!this.#options.allowRelay) {
          throw new ConnectionFailedError("Meeting links over the relay are not allowed");
        }
        host.onLink({ peerId, channel: framed, hello, direction: "inbound", discoveredAt });
        return;
      }
      if (first.t !== "offer") throw new ConnectionFailedError(`Expected an offer, got ${first.t}`);
      // One relay candidate per pair is enough: we answer with STUN only.
      const session = await answerWebRtc(
        framed,
        first,
        sessionInit(this.#host, this.#options, "direct", signal),
      );
      void framed.close();
      await this.#webRtcLink(peerId, session, hello, "inbound", discoveredAt);
    } catch (err) {
      host.log(`signaling from ${peerId} ended: ${(err as Error).message}`);
      framed.abort(err as Error);
    }
  }

  /** Largest frame on a signaling stream: signaling, or meeting frames on the relay rung. */
  #signalingPayload(): number {
    return Math.max(MAX_SIGNAL_BYTES, this.#options.maxMessageBytes + 64);
  }
}
