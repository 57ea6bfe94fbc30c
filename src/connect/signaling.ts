/**
 * meshmeet's WebRTC signaling: the offer, the answer and ICE candidates travel as
 * {@linkcode FrameType.Signal} frames on a libp2p stream between the two peers
 * ({@linkcode SIGNAL_PROTOCOL}, usually over the circuit relay of a bootstrap node).
 *
 * That stream is Noise-encrypted and authenticated end to end with the peers' libp2p keys,
 * and the membership handshake runs on it before any signaling, so the DTLS fingerprint in
 * the SDP we accept is known to come from that peer id and from a member of the meeting;
 * strangers never learn our ICE candidates.
 *
 * The meeting's data channel is negotiated out of band (`negotiated: true`, id 0) on both
 * sides, so it opens as soon as DTLS and SCTP are up, with no DCEP round trip.
 *
 * @module
 */
import { ConnectionFailedError, InvalidFrameError } from "../errors.ts";
import { type Frame, FrameType } from "../frame.ts";
import { DataChannelFrames } from "./data_channel_frames.ts";
import type { FrameChannel } from "./frame_channel.ts";
import { RTCPeerConnection as RuntimePeerConnection } from "../runtime/webrtc.ts";

/** The libp2p protocol of signaling streams (the membership handshake runs first). */
export const SIGNAL_PROTOCOL = "/meshmeet/signal/1.0.0";

/** Largest signaling message (an SDP with many candidates stays far below). */
export const MAX_SIGNAL_BYTES = 32 * 1024;

/** A rung of the WebRTC part of the ladder. */
export type IceRung = "direct" | "turn";

/** A message on a signaling stream. */
export type SignalMessage =
  | { t: "offer"; sdp: string; rung: IceRung }
  | { t: "answer"; sdp: string }
  | { t: "candidate"; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  | { t: "relay" }
  | { t: "fail"; reason: string };

/**
 * Encode a signaling message as a frame.
 *
 * @param message The message.
 * @returns The frame.
 */
export function encodeSignal(message: SignalMessage): Frame {
  return {
    type: FrameType.Signal,
    flags: 0,
    channel: 0,
    seq: 0,
    ref: 0,
    payload: new TextEncoder().encode(JSON.stringify(message)),
  };
}

const _str = (v: unknown, max = MAX_SIGNAL_BYTES): v is string =>
  typeof v === "string" && v.length <= max;

/**
 * Decode and check a signaling frame.
 *
 * @param frame A frame read from a signaling stream.
 * @returns The message.
 * @throws {InvalidFrameError} When it is not a well-formed signaling message.
 */
export function decodeSignal(frame: Frame): SignalMessage {
  const bad = (why: string) =>
    new InvalidFrameError(
      `Invalid signaling message: ${why}; the other side speaks another version of ${SIGNAL_PROTOCOL}`,
    );
  if (frame.type !== FrameType.Signal) throw bad(`frame type ${frame.type} is not Signal`);
  if (frame.payload.length > MAX_SIGNAL_BYTES) throw bad(`${frame.payload.length} bytes`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(frame.payload));
  } catch {
    throw bad("not JSON");
  }
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw bad("not an object");
  switch (m.t) {
    case "offer":
      if (!_str(m.sdp) || (m.rung !== "direct" && m.rung !== "turn")) throw bad("bad offer");
      return { t: "offer", sdp: m.sdp, rung: m.rung };
    case "answer":
      if (!_str(m.sdp)) throw bad("bad answer");
      return { t: "answer", sdp: m.sdp };
    case "candidate": {
      const mid = m.sdpMid ?? null;
      const index = m.sdpMLineIndex ?? null;
      if (
        !_str(m.candidate, 1024) || (mid !== null && !_str(mid, 64)) ||
        (index !== null && (!Number.isInteger(index) || (index as number) < 0))
      ) throw bad("bad candidate");
      return {
        t: "candidate",
        candidate: m.candidate,
        sdpMid: mid as string | null,
        sdpMLineIndex: index as number | null,
      };
    }
    case "relay":
      return { t: "relay" };
    case "fail":
      return { t: "fail", reason: _str(m.reason, 512) ? m.reason : "unknown" };
    default:
      throw bad(`unknown message ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
}

/**
 * Whether a local candidate may be signaled: with a `bindAddress`, host candidates on
 * other addresses are kept to ourselves (server-reflexive and relay candidates always go).
 *
 * @param candidate The candidate line.
 * @param bindAddress The only host address to signal, if any.
 * @returns Whether to send it.
 */
export function candidateAllowed(candidate: string, bindAddress: string | undefined): boolean {
  if (bindAddress === undefined) return true;
  const m = /^(?:a=)?candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)/i.exec(candidate.trim());
  if (!m) return false;
  return m[2] !== "host" || m[1] === bindAddress;
}

/** What {@linkcode offerWebRtc} and {@linkcode answerWebRtc} need. */
export interface WebRtcSessionInit {
  /** The RTCPeerConnection class to use. */
  PeerConnection: typeof RTCPeerConnection;
  /** Configuration of the peer connection (ICE servers of the rung). */
  configuration: RTCConfiguration;
  /** Only signal host candidates on this address. */
  bindAddress?: string;
  /** Largest frame payload on the data channel. */
  maxPayload: number;
  /** Ends the attempt (the rung's time budget). */
  signal: AbortSignal;
}

/**
 * When an offer may go out and when the stream may be read: the offer can be prepared
 * (and sent) while the last message of the membership handshake is still on its way.
 */
export interface OfferGates {
  /** Resolves when the offer may be written (our membership proof is on the wire). */
  send: Promise<void>;
  /** Resolves when the stream is ours to read (the handshake has read its last message). */
  read: Promise<unknown>;
}

/** A WebRTC session whose data channel is open. */
export interface WebRtcSession {
  /** The peer connection. */
  pc: RTCPeerConnection;
  /** Frames on the meeting's data channel (closing it closes `pc`). */
  frames: DataChannelFrames;
}

/**
 * Offer a WebRTC session on a signaling stream (the membership handshake already ran on
 * it) and wait until the meeting's data channel is open.
 *
 * @param stream The signaling stream.
 * @param rung Which rung (told to the other side).
 * @param init Peer connection class, configuration, limits, time budget.
 * @returns The open session.
 * @throws {ConnectionFailedError} When ICE or DTLS failed or the other side gave up.
 * @throws The signal's reason when the time budget ran out.
 */
export function offerWebRtc(
  stream: FrameChannel,
  rung: IceRung,
  init: WebRtcSessionInit,
  gates?: OfferGates,
): Promise<WebRtcSession> {
  return _session(stream, init, async (pc, send) => {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (gates) await _until(gates.send, init.signal);
    await send({ t: "offer", sdp: offer.sdp ?? "", rung });
  }, gates?.read);
}

function _until(gate: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    gate.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Answer a WebRTC offer received on a signaling stream and wait until the meeting's data
 * channel is open.
 *
 * @param stream The signaling stream.
 * @param offer The offer read from it.
 * @param init Peer connection class, configuration, limits, time budget.
 * @returns The open session.
 * @throws {ConnectionFailedError} When ICE or DTLS failed or the other side gave up.
 */
export function answerWebRtc(
  stream: FrameChannel,
  offer: { sdp: string },
  init: WebRtcSessionInit,
): Promise<WebRtcSession> {
  return _session(stream, init, async (pc, send, remoteSet) => {
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    remoteSet();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await send({ t: "answer", sdp: answer.sdp ?? "" });
  });
}

async function _session(
  stream: FrameChannel,
  init: WebRtcSessionInit,
  start: (
    pc: RTCPeerConnection,
    send: (m: SignalMessage) => Promise<void>,
    remoteSet: () => void,
  ) => Promise<void>,
  readGate?: Promise<unknown>,
): Promise<WebRtcSession> {
  const { signal } = init;
  signal.throwIfAborted();
  const pc = new init.PeerConnection(init.configuration);
  const dc = pc.createDataChannel("meshmeet", { negotiated: true, id: 0, ordered: true });
  const frames = new DataChannelFrames(dc, {
    maxPayload: init.maxPayload,
    owner: pc,
    // The runtime's own implementation (@roamhq/wrtc, or the browser's) copies in send().
    reuseChunks: init.PeerConnection === RuntimePeerConnection,
  });
  // Candidates wait until our description is on the wire, and remote candidates until
  // the remote description is set (either may be fired or arrive first).
  let described = false;
  const held: SignalMessage[] = [];
  let remoteDescribed = false;
  const early: RTCIceCandidateInit[] = [];
  const send = (m: SignalMessage) => stream.write(encodeSignal(m), { signal });
  const sendDescription = async (m: SignalMessage) => {
    await send(m);
    described = true;
    for (const c of held.splice(0)) await send(c);
  };
  const remoteSet = () => {
    remoteDescribed = true;
    for (const c of early.splice(0)) pc.addIceCandidate(c).catch(() => {});
  };
  const onCandidate = (event: RTCPeerConnectionIceEvent) => {
    const c = event.candidate;
    if (!c || !c.candidate || !candidateAllowed(c.candidate, init.bindAddress)) return;
    const m: SignalMessage = {
      t: "candidate",
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? null,
      sdpMLineIndex: c.sdpMLineIndex ?? null,
    };
    if (described) send(m).catch(() => {});
    else held.push(m);
  };
  pc.addEventListener("icecandidate", onCandidate);
  // @roamhq/wrtc keeps a global handle on every RTCPeerConnection it made, closed ones too.
  // A heap snapshot after 20 join/leave rounds (issue 12) showed the chain Global handles →
  // RTCPeerConnection → this listener → the signaling stream → yamux → the libp2p node of
  // every left meeting. Drop the listener when the session ends.
  frames.onClose(() => pc.removeEventListener("icecandidate", onCandidate));

  const opened = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (dc.readyState === "open") return done(resolve);
      const state = pc.connectionState ?? pc.iceConnectionState;
      if (state === "failed" || state === "closed" || dc.readyState === "closed") {
        done(() => reject(new ConnectionFailedError(`WebRTC connection ${state}`)));
      }
    };
    const onAbort = () => done(() => reject(signal.reason));
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      dc.removeEventListener("open", check);
      dc.removeEventListener("close", check);
      pc.removeEventListener("connectionstatechange", check);
      pc.removeEventListener("iceconnectionstatechange", check);
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    dc.addEventListener("open", check);
    dc.addEventListener("close", check);
    pc.addEventListener("connectionstatechange", check);
    pc.addEventListener("iceconnectionstatechange", check);
    signal.addEventListener("abort", onAbort, { once: true });
    check();
  });
  opened.catch(() => {}); // observed below

  // Read the other side's messages until the channel is open (or the attempt ends). The
  // stream may end first without harm: each side closes it once its channel is open, and
  // the other side's "open" event can come a little later.
  const reading = (async () => {
    if (readGate) await _until(readGate, signal);
    while (dc.readyState !== "open") {
      let frame: Frame;
      try {
        frame = await stream.read({ signal });
      } catch (err) {
        if (signal.aborted) throw err;
        return;
      }
      const m = decodeSignal(frame);
      if (m.t === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        remoteSet();
      } else if (m.t === "candidate") {
        const c = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex };
        if (remoteDescribed) pc.addIceCandidate(c).catch(() => {});
        else early.push(c);
      } else if (m.t === "fail") {
        throw new ConnectionFailedError(`The other side gave up: ${m.reason}`);
      } else {
        throw new InvalidFrameError(`Unexpected signaling message "${m.t}"`);
      }
    }
  })();
  reading.catch(() => {}); // observed below

  try {
    await start(pc, sendDescription, remoteSet);
    await Promise.race([opened, reading.then(() => opened)]);
    return { pc, frames };
  } catch (err) {
    frames.abort(err as Error);
    // Tell the other side at once, so that it does not wait out its own budget.
    const reason = (err as Error)?.message ?? String(err);
    await stream.write(encodeSignal({ t: "fail", reason: reason.slice(0, 500) })).catch(() => {});
    throw err;
  }
}
