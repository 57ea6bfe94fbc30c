/**
 * The membership handshake (requirement S4): before any meeting data flows on a new
 * connection, both sides prove that they hold the invitation code.
 *
 * ```
 * dialer   -> Hello { nonce: nD }
 * listener -> Hello { nonce: nL, proof: HMAC(k, "listener" | topic | idD | idL | nD | nL) }
 * dialer   -> Proof { proof: HMAC(k, "dialer" | …same…), name, joinedAt }     (after checking)
 * listener -> Presence { name, joinedAt }                                      (after checking)
 * ```
 * `k` is the meeting's membership key (HKDF of the stretched code). Both peer ids are the
 * ones libp2p authenticated for this connection, and both nonces are fresh, so a proof
 * cannot be replayed to another peer, another connection or another meeting. Display
 * names travel only after the other side has proven membership. A failed proof ends the
 * connection with {@linkcode MembershipProofError}.
 *
 * @module
 */
import { MembershipProofError } from "./errors.ts";
import { type Frame, FrameType } from "./frame.ts";
import type { FrameChannel } from "./connect/frame_channel.ts";
import { fromHex, toHex, type TopicKeys } from "./topic.ts";

/** How long a handshake may take. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What each side learns about the other. */
export interface MemberHello {
  /** Display name. */
  name: string;
  /** When it joined (ms since the epoch). */
  joinedAt: number;
}

/** Our side of a handshake. */
export interface HandshakeContext {
  /** The meeting's keys. */
  keys: TopicKeys;
  /** Our peer id. */
  selfId: string;
  /** The other side's peer id (authenticated by libp2p). */
  remoteId: string;
  /** What we tell the other side after it proved membership. */
  self: MemberHello;
  /** Abort signal (defaults to {@linkcode HANDSHAKE_TIMEOUT_MS}). */
  signal?: AbortSignal;
  /**
   * Dialer only: called once the other side has proved membership and our own proof is
   * written, so that what follows (a WebRTC offer) can go out without waiting for the
   * last message of the handshake.
   */
  onProofSent?: () => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function _transcript(
  role: "dialer" | "listener",
  topicId: string,
  dialerId: string,
  listenerId: string,
  dialerNonce: string,
  listenerNonce: string,
): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    ["meshmeet-proof/v1", role, topicId, dialerId, listenerId, dialerNonce, listenerNonce].join(
      "\n",
    ),
  );
}

/**
 * Compute a membership proof.
 *
 * @param keys The meeting's keys.
 * @param role Which side proves.
 * @param ids Dialer and listener peer ids.
 * @param nonces Dialer and listener nonces (hex).
 * @returns The proof (hex).
 *
 * @example
 * ```ts ignore
 * const proof = await computeProof(keys, "dialer", [a, b], [nA, nB]);
 * ```
 */
export async function computeProof(
  keys: TopicKeys,
  role: "dialer" | "listener",
  ids: [string, string],
  nonces: [string, string],
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    keys.membershipKey,
    _transcript(role, keys.topicId, ids[0], ids[1], nonces[0], nonces[1]),
  );
  return toHex(new Uint8Array(mac));
}

/**
 * Check a membership proof in constant time.
 *
 * @param keys The meeting's keys.
 * @param role Which side proved.
 * @param ids Dialer and listener peer ids.
 * @param nonces Dialer and listener nonces (hex).
 * @param proof The proof received (hex).
 * @returns Whether it is valid.
 *
 * @example
 * ```ts ignore
 * if (!await verifyProof(keys, "listener", [a, b], [nA, nB], proof)) throw new Error("no");
 * ```
 */
export async function verifyProof(
  keys: TopicKeys,
  role: "dialer" | "listener",
  ids: [string, string],
  nonces: [string, string],
  proof: unknown,
): Promise<boolean> {
  if (typeof proof !== "string" || !/^[0-9a-f]{64}$/.test(proof)) return false;
  return await crypto.subtle.verify(
    "HMAC",
    keys.membershipKey,
    fromHex(proof),
    _transcript(role, keys.topicId, ids[0], ids[1], nonces[0], nonces[1]),
  );
}

function _nonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

function _json(frame: Frame, expected: number): Record<string, unknown> {
  if (frame.type === FrameType.Nack) {
    throw new MembershipProofError(
      "Membership handshake failed: the other side rejected our proof (it holds another code)",
    );
  }
  if (frame.type !== expected) {
    throw new MembershipProofError(
      `Membership handshake failed: expected frame type ${expected}, got ${frame.type}`,
    );
  }
  try {
    const value = JSON.parse(decoder.decode(frame.payload));
    if (value === null || typeof value !== "object") throw new TypeError("not an object");
    return value;
  } catch (cause) {
    throw new MembershipProofError("Membership handshake failed: malformed handshake message", {
      cause,
    });
  }
}

function _frame(type: number, body: unknown): Frame {
  return {
    type: type as Frame["type"],
    flags: 0,
    channel: 0,
    seq: 0,
    ref: 0,
    payload: encoder.encode(JSON.stringify(body)),
  };
}

async function _refuse(stream: FrameChannel, signal: AbortSignal): Promise<void> {
  const nack = _frame(FrameType.Nack, { error: "membership proof rejected" });
  await stream.write(nack, { signal }).catch(() => {});
}

function _hello(body: Record<string, unknown>): MemberHello {
  const name = typeof body.name === "string" ? body.name.slice(0, 64) : "";
  const joinedAt = typeof body.joinedAt === "number" ? body.joinedAt : Date.now();
  return { name, joinedAt };
}

/**
 * Run the handshake as the side that opened the stream.
 *
 * @param stream The new meeting stream.
 * @param context Keys, ids, what to tell the other side.
 * @returns What the other side told us.
 * @throws {MembershipProofError} When the other side's proof is wrong or the exchange is malformed.
 *
 * @example
 * ```ts ignore
 * const remote = await handshakeAsDialer(framed, { keys, selfId, remoteId, self });
 * ```
 */
export async function handshakeAsDialer(
  stream: FrameChannel,
  context: HandshakeContext,
): Promise<MemberHello> {
  const signal = context.signal ?? AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS);
  const ids: [string, string] = [context.selfId, context.remoteId];
  const nD = _nonce();
  await stream.write(_frame(FrameType.Hello, { v: 1, nonce: nD }), { signal });
  const reply = _json(await stream.read({ signal }), FrameType.Hello);
  const nL = typeof reply.nonce === "string" ? reply.nonce : "";
  if (
    !/^[0-9a-f]{64}$/.test(nL) ||
    !await verifyProof(context.keys, "listener", ids, [nD, nL], reply.proof)
  ) {
    await _refuse(stream, signal);
    throw new MembershipProofError(
      `Membership handshake failed: ${context.remoteId} could not prove it holds this meeting's code`,
    );
  }
  const proof = await computeProof(context.keys, "dialer", ids, [nD, nL]);
  await stream.write(_frame(FrameType.Proof, { proof, ...context.self }), { signal });
  context.onProofSent?.();
  return _hello(_json(await stream.read({ signal }), FrameType.Presence));
}

/**
 * Run the handshake as the side that accepted the stream.
 *
 * @param stream The new meeting stream.
 * @param context Keys, ids, what to tell the other side.
 * @returns What the other side told us.
 * @throws {MembershipProofError} When the other side's proof is wrong or the exchange is malformed.
 *
 * @example
 * ```ts ignore
 * const remote = await handshakeAsListener(framed, { keys, selfId, remoteId, self });
 * ```
 */
export async function handshakeAsListener(
  stream: FrameChannel,
  context: HandshakeContext,
): Promise<MemberHello> {
  const signal = context.signal ?? AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS);
  const ids: [string, string] = [context.remoteId, context.selfId];
  const hello = _json(await stream.read({ signal }), FrameType.Hello);
  const nD = typeof hello.nonce === "string" ? hello.nonce : "";
  if (!/^[0-9a-f]{64}$/.test(nD)) {
    throw new MembershipProofError("Membership handshake failed: malformed nonce");
  }
  const nL = _nonce();
  const proof = await computeProof(context.keys, "listener", ids, [nD, nL]);
  await stream.write(_frame(FrameType.Hello, { v: 1, nonce: nL, proof }), { signal });
  const reply = _json(await stream.read({ signal }), FrameType.Proof);
  if (!await verifyProof(context.keys, "dialer", ids, [nD, nL], reply.proof)) {
    await _refuse(stream, signal);
    throw new MembershipProofError(
      `Membership handshake failed: ${context.remoteId} could not prove it holds this meeting's code`,
    );
  }
  await stream.write(_frame(FrameType.Presence, { ...context.self }), { signal });
  return _hello(reply);
}
