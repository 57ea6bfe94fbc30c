import { assert, assertEquals } from "@std/assert";
import { CHUNK_BYTES, DataChannelFrames } from "../../src/connect/data_channel_frames.ts";
import { encodeFrame, type Frame, FrameDecoder, FrameType } from "../../src/frame.ts";

/**
 * A fake `RTCDataChannel` that records what `send()` was given: a reference (as an
 * implementation that does not copy would keep) and a copy made at the call.
 */
class RecordingChannel extends EventTarget {
  readyState: RTCDataChannelState = "open";
  bufferedAmount = 0;
  binaryType = "arraybuffer";
  readonly given: Uint8Array[] = [];
  readonly copies: Uint8Array[] = [];
  send(data: Uint8Array): void {
    this.given.push(data);
    this.copies.push(data.slice());
  }
  close(): void {
    this.readyState = "closed";
  }
  /** Decode everything sent so far, from the copies made at each call. */
  frames(): Frame[] {
    const decoder = new FrameDecoder({ maxPayload: 4 << 20 });
    return this.copies.flatMap((c) => decoder.push(c));
  }
}

function dataFrame(seq: number, size: number): Frame {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (seq * 31 + i) & 0xff;
  return { type: FrameType.Data, flags: 1, channel: 3, seq, ref: 0, payload };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

function open(channel: RecordingChannel, reuseChunks: boolean): DataChannelFrames {
  return new DataChannelFrames(channel as unknown as RTCDataChannel, {
    maxPayload: 4 << 20,
    reuseChunks,
  });
}

Deno.test("DataChannelFrames: the bytes sent are exactly the encoded frames, whatever their sizes", async () => {
  const channel = new RecordingChannel();
  const frames = open(channel, true);
  const sent = [dataFrame(1, 100), dataFrame(2, 262_145), dataFrame(3, 0), dataFrame(4, 70_000)];
  for (const f of sent) void frames.write(f);
  assertEquals(channel.given.length, 0, "nothing is sent before the end of the turn");
  await turn();
  const wire = channel.copies.reduce((n, c) => n + c.length, 0);
  const expected = sent.reduce((n, f) => n + encodeFrame(f, { maxPayload: 4 << 20 }).length, 0);
  assertEquals(wire, expected);
  assert(channel.copies.every((c) => c.length <= CHUNK_BYTES), "no message over CHUNK_BYTES");
  assertEquals(channel.copies.length, Math.ceil(expected / CHUNK_BYTES), "chunks are full");
  assertEquals(channel.frames(), sent);
  await frames.close();
});

Deno.test("DataChannelFrames: frames written before the channel opens go out on open, in order", async () => {
  const channel = new RecordingChannel();
  channel.readyState = "connecting";
  const frames = open(channel, true);
  const sent = [dataFrame(1, 200_000), dataFrame(2, 10), dataFrame(3, 300_000)];
  for (const f of sent) void frames.write(f);
  await turn();
  assertEquals(channel.given.length, 0);
  channel.readyState = "open";
  channel.dispatchEvent(new Event("open"));
  assertEquals(channel.frames(), sent);
  await frames.close();
});

Deno.test("DataChannelFrames: without reuseChunks, a buffer given to send() is never written again", async () => {
  const channel = new RecordingChannel();
  const frames = open(channel, false);
  for (let round = 1; round <= 3; round++) {
    void frames.write(dataFrame(round, 150_000));
    void frames.write(dataFrame(round + 10, 50));
    await turn();
  }
  channel.given.forEach((given, i) => assertEquals(given, channel.copies[i], `message ${i}`));
  assertEquals(new Set(channel.given.map((g) => g.buffer)).size, channel.given.length);
  assertEquals(channel.frames().length, 6);
  await frames.close();
});

Deno.test("DataChannelFrames: with reuseChunks, sent buffers are reused and the stream stays intact", async () => {
  const channel = new RecordingChannel();
  const frames = open(channel, true);
  const sent: Frame[] = [];
  for (let round = 1; round <= 3; round++) {
    for (const f of [dataFrame(round, 150_000), dataFrame(round + 10, 50)]) {
      sent.push(f);
      void frames.write(f);
    }
    await turn();
  }
  assert(
    new Set(channel.given.map((g) => g.buffer)).size < channel.given.length,
    "some buffer was sent twice",
  );
  assertEquals(channel.frames(), sent);
  await frames.close();
});
