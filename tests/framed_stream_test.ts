import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { Uint8ArrayList } from "uint8arraylist";
import { FramedStream } from "../src/framed_stream.ts";
import { encodeFrame, type Frame, FRAME_HEADER_SIZE, FrameType } from "../src/frame.ts";
import { FrameTooLargeError, InvalidFrameError, MeetingClosedError } from "../src/errors.ts";
import { concatBytes, createStreamPair } from "./_fakes.ts";
import { prng } from "./_prng.ts";

function dataFrame(seq: number, size = seq % 50): Frame {
  const payload = Uint8Array.from({ length: size }, (_, i) => (seq * 31 + i) & 0xff);
  return { type: FrameType.Data, flags: seq & 1, channel: seq % 4, seq, ref: 0, payload };
}

/** Let queued microtasks (fake deliveries) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function pair() {
  const [a, b] = createStreamPair();
  return { a, b, left: new FramedStream(a.asStream()), right: new FramedStream(b.asStream()) };
}

Deno.test("FramedStream.write() and read() carry frames across in order", async () => {
  const { left, right } = pair();
  const frames = Array.from({ length: 20 }, (_, i) => dataFrame(i + 1));
  for (const f of frames) await left.write(f);
  for (const f of frames) assertEquals(await right.read(), f);
  assertEquals(left.counters.framesOut, 20);
  assertEquals(right.counters.framesIn, 20);
  assertEquals(right.counters.bytesIn, left.counters.bytesOut);
});

Deno.test("FramedStream.read() resolves frames in order whatever the chunk boundaries", async () => {
  const frames = Array.from({ length: 40 }, (_, i) => dataFrame(i + 1, (i * 37) % 300));
  const wire = concatBytes(frames.map((f) => encodeFrame(f)));
  for (const seed of [1, 2, 3, 42, 1234]) {
    const { a, right } = pair();
    const random = prng(seed);
    // Readers waiting before any byte arrives, and frames queued before anyone reads.
    const early = [right.read(), right.read(), right.read()];
    for (let offset = 0; offset < wire.length;) {
      // Mostly small chunks (splitting headers and trailers), sometimes several frames.
      const size = random() < 0.8 ? 1 + Math.floor(random() * 30) : 1 + Math.floor(random() * 900);
      const chunk = wire.subarray(offset, Math.min(offset + size, wire.length));
      // Half the chunks arrive as a Uint8ArrayList, as libp2p muxers deliver them.
      a.send(
        random() < 0.5 ? chunk.slice() : new Uint8ArrayList(chunk.slice(0, 3), chunk.slice(3)),
      );
      offset += size;
    }
    const received = [...await Promise.all(early)];
    while (received.length < frames.length) received.push(await right.read());
    assertEquals(received, frames, `seed ${seed}`);
  }
});

Deno.test("FramedStream.read() resolves a frame delivered one byte at a time", async () => {
  const { a, right } = pair();
  const f = dataFrame(9, 100);
  const reading = right.read();
  for (const byte of encodeFrame(f)) a.send(new Uint8Array([byte]));
  assertEquals(await reading, f);
});

Deno.test("FramedStream poisons the stream on a corrupted frame: reader rejects with InvalidFrameError and the stream is aborted", async () => {
  const { a, b, right } = pair();
  const corrupt = encodeFrame(dataFrame(2, 10));
  corrupt[FRAME_HEADER_SIZE + 4] ^= 0xff; // a payload byte: the checksum no longer matches
  a.send(encodeFrame(dataFrame(1, 10)));
  assertEquals((await right.read()).seq, 1);
  const pending = right.read();
  // The corrupted frame and a valid one behind it arrive in one chunk.
  a.send(concatBytes([corrupt, encodeFrame(dataFrame(3, 10))]));
  const error = await assertRejects(() => pending, InvalidFrameError, "checksum mismatch");
  // The underlying stream was aborted with that very error, and the stream stays dead:
  // the valid frame behind the corrupted one is never handed out.
  assertStrictEquals(b.abortError, error);
  assertEquals(b.status, "aborted");
  assertFalse(right.open);
  assertStrictEquals(right.error, error);
  await assertRejects(() => right.read(), InvalidFrameError, "checksum mismatch");
  await assertRejects(() => right.write(dataFrame(4)), InvalidFrameError);
  assertEquals(right.counters.framesIn, 1);
  await settle();
  assertEquals(a.status, "aborted", "the abort reached the sender's end too");
});

Deno.test("FramedStream poisons the stream on bad magic with InvalidFrameError", async () => {
  const { a, b, right } = pair();
  a.send(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
  await assertRejects(() => right.read(), InvalidFrameError, "bad magic");
  assertInstanceOf(b.abortError, InvalidFrameError);
});

Deno.test("FramedStream poisons the stream on an oversized frame with FrameTooLargeError", async () => {
  const [a, b] = createStreamPair();
  const right = new FramedStream(b.asStream(), { maxPayload: 16 });
  a.send(encodeFrame(dataFrame(1, 17)));
  await assertRejects(() => right.read(), FrameTooLargeError);
  assertInstanceOf(b.abortError, FrameTooLargeError);
});

Deno.test("FramedStream.write() rejects a payload over maxPayload with FrameTooLargeError and writes nothing", async () => {
  const [a] = createStreamPair();
  const left = new FramedStream(a.asStream(), { maxPayload: 16 });
  await assertRejects(() => left.write(dataFrame(1, 17)), FrameTooLargeError);
  assertEquals(a.sent.length, 0);
  assert(left.open);
});

Deno.test("FramedStream.write() rejects with MeetingClosedError after close()", async () => {
  // Only one end is framed here, so nothing answers the close with a close of its own.
  const [a] = createStreamPair();
  const left = new FramedStream(a.asStream());
  await left.close();
  assertFalse(left.open);
  await assertRejects(() => left.write(dataFrame(1)), MeetingClosedError);
  assertEquals(a.sent.length, 0);
  assertEquals(a.closeCalls, 1);
});

Deno.test("FramedStream.close() is idempotent", async () => {
  const [a] = createStreamPair();
  const left = new FramedStream(a.asStream());
  await left.close();
  await left.close();
  assertEquals(a.closeCalls, 1);
});

Deno.test("FramedStream delivers frames sent before close() and then rejects reads with MeetingClosedError", async () => {
  const { left, right } = pair();
  await left.write(dataFrame(1));
  await left.write(dataFrame(2));
  await left.close();
  await settle();
  assertEquals((await right.read()).seq, 1);
  assertEquals((await right.read()).seq, 2);
  await assertRejects(() => right.read(), MeetingClosedError, "other side");
  await assertRejects(() => right.write(dataFrame(3)), MeetingClosedError);
});

Deno.test("FramedStream.read() rejects with the reason of an already aborted signal", async () => {
  const { right } = pair();
  const controller = new AbortController();
  const reason = new Error("handshake deadline");
  controller.abort(reason);
  const error = await assertRejects(() => right.read({ signal: controller.signal }));
  assertStrictEquals(error, reason);
});

Deno.test("FramedStream.read() rejects with the signal's reason when aborted while waiting, and the next frame is not lost", async () => {
  const { left, right } = pair();
  const controller = new AbortController();
  const reading = right.read({ signal: controller.signal });
  const reason = new DOMException("gave up", "AbortError");
  controller.abort(reason);
  const error = await assertRejects(() => reading);
  assertStrictEquals(error, reason);
  assert(right.open, "aborting one read does not end the stream");
  await left.write(dataFrame(5));
  assertEquals((await right.read()).seq, 5);
});

Deno.test("FramedStream.write() waits for drain when send() reports a full buffer", async () => {
  const { a, left, right } = pair();
  a.writableNeedsDrain = true;
  let written = false;
  const writing = left.write(dataFrame(1)).then(() => written = true);
  await settle();
  assertFalse(written);
  assertEquals((await right.read()).seq, 1); // the frame was handed over all the same
  a.drain();
  await writing;
  assert(written);
});

Deno.test("FramedStream.onClose() runs each callback once, with the error that ended the stream", async () => {
  const { left } = pair();
  const calls: Array<Error | undefined> = [];
  left.onClose((err) => calls.push(err));
  left.onClose((err) => calls.push(err));
  await left.close();
  left.abort(new Error("again"));
  await settle();
  assertEquals(calls.length, 2);
  for (const err of calls) assertInstanceOf(err, MeetingClosedError);
  // A callback registered after the end runs at once, once.
  const late: Array<Error | undefined> = [];
  left.onClose((err) => late.push(err));
  assertEquals(late.length, 1);
  assertStrictEquals(late[0], calls[0]);
});

Deno.test("FramedStream.onClose() callbacks of both ends run once when one end aborts", async () => {
  const { left, right } = pair();
  let leftCalls = 0;
  let rightCalls = 0;
  let rightError: Error | undefined;
  left.onClose(() => leftCalls++);
  right.onClose((err) => {
    rightCalls++;
    rightError = err;
  });
  const reason = new Error("link lost");
  left.abort(reason);
  left.abort(reason);
  await settle();
  assertEquals(leftCalls, 1);
  assertEquals(rightCalls, 1);
  assertStrictEquals(rightError, reason);
  await assertRejects(() => right.read(), Error, "link lost");
});
