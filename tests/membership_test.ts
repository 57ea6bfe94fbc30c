import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import {
  computeProof,
  handshakeAsDialer,
  handshakeAsListener,
  type HandshakeContext,
  type MemberHello,
  verifyProof,
} from "../src/membership.ts";
import { FramedStream } from "../src/framed_stream.ts";
import { type Frame, FrameType, type FrameTypeCode } from "../src/frame.ts";
import { deriveTopicKeys, toHex, type TopicKeys } from "../src/topic.ts";
import { InvalidFrameError, MembershipProofError } from "../src/errors.ts";
import { concatBytes, createStreamPair, type FakeStream, includesBytes } from "./_fakes.ts";

// Two meetings, derived once per file (~100 ms each).
const [keys, otherKeys] = await Promise.all([
  deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821"),
  deriveTopicKeys("abandon-ability-able-about-above-0000"),
]);

const DIALER_ID = "12D3KooWDialerDialerDialerDialerDialerDialerDialer1";
const LISTENER_ID = "12D3KooWListenerListenerListenerListenerListener22";
const IDS: [string, string] = [DIALER_ID, LISTENER_ID];
const NONCES: [string, string] = ["11".repeat(32), "22".repeat(32)];
const DIALER: MemberHello = { name: "Dora Dialer-Xq7", joinedAt: 1_700_000_000_001 };
const LISTENER: MemberHello = { name: "Lena Listener-Zp9", joinedAt: 1_700_000_000_002 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function nonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

function frame(type: FrameTypeCode, body: unknown): Frame {
  const payload = typeof body === "string"
    ? encoder.encode(body)
    : encoder.encode(JSON.stringify(body));
  return { type, flags: 0, channel: 0, seq: 0, ref: 0, payload };
}

function json(f: Frame): Record<string, unknown> {
  return JSON.parse(decoder.decode(f.payload));
}

function receivedBytes(stream: FakeStream): Uint8Array {
  return concatBytes(stream.received);
}

/** A connected pair of framed streams, plus the fakes underneath to inspect traffic. */
function connect() {
  const [dialerStream, listenerStream] = createStreamPair();
  return {
    dialerStream,
    listenerStream,
    dialer: new FramedStream(dialerStream.asStream()),
    listener: new FramedStream(listenerStream.asStream()),
  };
}

function dialerContext(meeting: TopicKeys, signal?: AbortSignal): HandshakeContext {
  return { keys: meeting, selfId: DIALER_ID, remoteId: LISTENER_ID, self: DIALER, signal };
}

function listenerContext(meeting: TopicKeys, signal?: AbortSignal): HandshakeContext {
  return { keys: meeting, selfId: LISTENER_ID, remoteId: DIALER_ID, self: LISTENER, signal };
}

/** Run one side the way meeting.ts does: on failure the stream is aborted with the error. */
async function runSide(
  side: typeof handshakeAsDialer,
  framed: FramedStream,
  context: HandshakeContext,
): Promise<MemberHello> {
  try {
    return await side(framed, context);
  } catch (err) {
    framed.abort(err as Error);
    throw err;
  }
}

Deno.test("verifyProof() accepts the proof computeProof() made for the same inputs", async () => {
  for (const role of ["dialer", "listener"] as const) {
    const proof = await computeProof(keys, role, IDS, NONCES);
    assertEquals(proof.length, 64);
    assert(await verifyProof(keys, role, IDS, NONCES, proof), role);
  }
});

Deno.test("verifyProof() rejects a proof made for the other role", async () => {
  const proof = await computeProof(keys, "dialer", IDS, NONCES);
  assertFalse(await verifyProof(keys, "listener", IDS, NONCES, proof));
});

Deno.test("verifyProof() rejects a proof made with the peer ids swapped", async () => {
  const proof = await computeProof(keys, "dialer", IDS, NONCES);
  assertFalse(await verifyProof(keys, "dialer", [LISTENER_ID, DIALER_ID], NONCES, proof));
  assertFalse(await verifyProof(keys, "dialer", [DIALER_ID, "12D3KooWSomeoneElse"], NONCES, proof));
});

Deno.test("verifyProof() rejects a proof made for other nonces", async () => {
  const proof = await computeProof(keys, "listener", IDS, NONCES);
  assertFalse(await verifyProof(keys, "listener", IDS, [NONCES[0], "33".repeat(32)], proof));
  assertFalse(await verifyProof(keys, "listener", IDS, ["33".repeat(32), NONCES[1]], proof));
  assertFalse(await verifyProof(keys, "listener", IDS, [NONCES[1], NONCES[0]], proof));
});

Deno.test("verifyProof() rejects a proof made with another meeting's keys", async () => {
  const proof = await computeProof(otherKeys, "dialer", IDS, NONCES);
  assertFalse(await verifyProof(keys, "dialer", IDS, NONCES, proof));
  // The topic id is in the transcript too: the right key with another topic id fails.
  const mixed: TopicKeys = { ...keys, topicId: otherKeys.topicId };
  const mixedProof = await computeProof(mixed, "dialer", IDS, NONCES);
  assertFalse(await verifyProof(keys, "dialer", IDS, NONCES, mixedProof));
});

Deno.test("verifyProof() rejects malformed proofs", async () => {
  const proof = await computeProof(keys, "dialer", IDS, NONCES);
  const last = proof.at(-1) === "0" ? "1" : "0";
  for (
    const bad of [
      proof.toUpperCase(),
      proof.slice(0, 62),
      proof + "00",
      proof.slice(0, 63) + last,
      proof.slice(0, 63) + "g",
      ` ${proof.slice(1)}`,
      "",
      "0".repeat(64),
      42,
      null,
      undefined,
      { proof },
      [proof],
      encoder.encode(proof),
    ]
  ) {
    assertFalse(await verifyProof(keys, "dialer", IDS, NONCES, bad), String(bad));
  }
});

Deno.test("handshakeAsDialer() and handshakeAsListener() with the same code learn each other's name and joinedAt", async () => {
  const { dialer, listener } = connect();
  const controller = new AbortController();
  const [learnedByDialer, learnedByListener] = await Promise.all([
    handshakeAsDialer(dialer, dialerContext(keys, controller.signal)),
    handshakeAsListener(listener, listenerContext(keys, controller.signal)),
  ]);
  assertEquals(learnedByDialer, LISTENER);
  assertEquals(learnedByListener, DIALER);
  assert(dialer.open && listener.open);
  assertEquals(dialer.counters.framesOut, 2);
  assertEquals(listener.counters.framesOut, 2);
});

Deno.test("handshakeAsDialer() and handshakeAsListener() with different codes both reject with MembershipProofError", async () => {
  const { dialer, listener, dialerStream, listenerStream } = connect();
  const controller = new AbortController();
  const results = await Promise.allSettled([
    runSide(handshakeAsDialer, dialer, dialerContext(keys, controller.signal)),
    runSide(handshakeAsListener, listener, listenerContext(otherKeys, controller.signal)),
  ]);
  for (const result of results) {
    assertEquals(result.status, "rejected");
    assertInstanceOf((result as PromiseRejectedResult).reason, MembershipProofError);
  }
  // The dialer found the listener's proof wrong; the listener learned of the failure
  // through the aborted stream (this fake hands the abort reason to both ends).
  assertStringIncludes(
    (results[0] as PromiseRejectedResult).reason.message,
    `${LISTENER_ID} could not prove it holds this meeting's code`,
  );
  // Names travel only after a proof checked out: neither side received the other's.
  const atListener = receivedBytes(listenerStream);
  const atDialer = receivedBytes(dialerStream);
  assert(atListener.length > 0 && atDialer.length > 0, "the Hello frames were exchanged");
  assertFalse(includesBytes(atListener, encoder.encode(DIALER.name)));
  assertFalse(includesBytes(atDialer, encoder.encode(LISTENER.name)));
  assertFalse(includesBytes(concatBytes(dialerStream.sent), encoder.encode(DIALER.name)));
});

Deno.test("handshakeAsListener() rejects a dialer whose proof was made with another meeting's key with MembershipProofError", async () => {
  const { dialer, listener, dialerStream } = connect();
  const controller = new AbortController();
  const listening = handshakeAsListener(listener, listenerContext(keys, controller.signal));
  // A scripted dialer that knows the listener's peer id but holds another code.
  const nD = nonce();
  await dialer.write(frame(FrameType.Hello, { v: 1, nonce: nD }));
  const hello = json(await dialer.read());
  const nL = hello.nonce as string;
  assert(await verifyProof(keys, "listener", IDS, [nD, nL], hello.proof));
  const forged = await computeProof(otherKeys, "dialer", IDS, [nD, nL]);
  await dialer.write(frame(FrameType.Proof, { proof: forged, ...DIALER }));
  await assertRejects(() => listening, MembershipProofError, "could not prove");
  assertFalse(includesBytes(receivedBytes(dialerStream), encoder.encode(LISTENER.name)));
});

Deno.test("handshakeAsListener() rejects a dialer that replays the listener's own proof with MembershipProofError", async () => {
  const { dialer, listener } = connect();
  const controller = new AbortController();
  const listening = handshakeAsListener(listener, listenerContext(keys, controller.signal));
  await dialer.write(frame(FrameType.Hello, { v: 1, nonce: nonce() }));
  const hello = json(await dialer.read());
  await dialer.write(frame(FrameType.Proof, { proof: hello.proof, ...DIALER }));
  await assertRejects(() => listening, MembershipProofError, "could not prove");
});

Deno.test("handshakeAsDialer() rejects a listener whose proof was made with another meeting's key with MembershipProofError", async () => {
  const { dialer, listener, listenerStream } = connect();
  const controller = new AbortController();
  const dialing = handshakeAsDialer(dialer, dialerContext(keys, controller.signal));
  const hello = json(await listener.read());
  const nL = nonce();
  const forged = await computeProof(otherKeys, "listener", IDS, [hello.nonce as string, nL]);
  await listener.write(frame(FrameType.Hello, { v: 1, nonce: nL, proof: forged }));
  await assertRejects(() => dialing, MembershipProofError, "could not prove");
  assertFalse(includesBytes(receivedBytes(listenerStream), encoder.encode(DIALER.name)));
});

Deno.test("handshakeAsListener() rejects a garbage first frame with MembershipProofError", async () => {
  const cases: Array<[Frame, string]> = [
    [frame(FrameType.Hello, "\u0000garbage{"), "malformed handshake message"],
    [frame(FrameType.Hello, "null"), "malformed handshake message"],
    [frame(FrameType.Hello, "42"), "malformed handshake message"],
    [frame(FrameType.Hello, { v: 1, nonce: "not-hex" }), "malformed nonce"],
    [frame(FrameType.Hello, { v: 1, nonce: "AB".repeat(32) }), "malformed nonce"],
    [frame(FrameType.Hello, { v: 1 }), "malformed nonce"],
    [frame(FrameType.Data, { v: 1, nonce: nonce() }), "expected frame type"],
    [frame(FrameType.Proof, { proof: "00".repeat(32) }), "expected frame type"],
  ];
  for (const [first, reason] of cases) {
    const { dialer, listener } = connect();
    const controller = new AbortController();
    const listening = handshakeAsListener(listener, listenerContext(keys, controller.signal));
    await dialer.write(first);
    await assertRejects(() => listening, MembershipProofError, reason);
  }
});

Deno.test("handshakeAsDialer() rejects a garbage reply with MembershipProofError", async () => {
  const cases: Array<[Frame, string]> = [
    [frame(FrameType.Hello, "garbage"), "malformed handshake message"],
    [frame(FrameType.Hello, { v: 1, nonce: nonce() }), "could not prove"],
    [frame(FrameType.Hello, { v: 1, nonce: "x", proof: "00".repeat(32) }), "could not prove"],
    [frame(FrameType.Presence, LISTENER), "expected frame type"],
  ];
  for (const [reply, reason] of cases) {
    const { dialer, listener } = connect();
    const controller = new AbortController();
    const dialing = handshakeAsDialer(dialer, dialerContext(keys, controller.signal));
    await listener.read();
    await listener.write(reply);
    await assertRejects(() => dialing, MembershipProofError, reason);
  }
});

Deno.test("handshakeAsListener() rejects bytes that are not a frame with InvalidFrameError", async () => {
  const { dialerStream, listener } = connect();
  const controller = new AbortController();
  const listening = handshakeAsListener(listener, listenerContext(keys, controller.signal));
  dialerStream.send(encoder.encode("GET / HTTP/1.1\r\n\r\n"));
  await assertRejects(() => listening, InvalidFrameError, "bad magic");
});

Deno.test("handshakeAsDialer() rejects with the signal's reason when a silent peer lets it time out", async () => {
  const { dialer, listenerStream } = connect();
  const signal = AbortSignal.timeout(200);
  const error = await assertRejects(() => handshakeAsDialer(dialer, dialerContext(keys, signal)));
  assertStrictEquals(error, signal.reason);
  assertEquals((error as Error).name, "TimeoutError");
  // The dialer did speak first; the listener just never answered.
  assert(listenerStream.received.length > 0);
});

Deno.test("handshakeAsListener() rejects with the signal's reason when a silent peer lets it time out", async () => {
  const { listener, dialerStream } = connect();
  const signal = AbortSignal.timeout(200);
  const error = await assertRejects(() =>
    handshakeAsListener(listener, listenerContext(keys, signal))
  );
  assertStrictEquals(error, signal.reason);
  assertEquals(dialerStream.received.length, 0);
});

Deno.test("handshakeAsDialer() rejects at once with the reason of an already aborted signal", async () => {
  const { dialer } = connect();
  const controller = new AbortController();
  const reason = new Error("meeting left");
  controller.abort(reason);
  const error = await assertRejects(() =>
    handshakeAsDialer(dialer, dialerContext(keys, controller.signal))
  );
  assertStrictEquals(error, reason);
});
