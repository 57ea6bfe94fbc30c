import { assert, assertEquals, assertLess, assertRejects } from "@std/assert";
import { PeerLink, type PeerLinkEvents } from "../../src/peer_link.ts";
import { FrameQueue } from "../../src/connect/_frame_queue.ts";
import type { FrameChannel, FrameChannelCounters } from "../../src/connect/frame_channel.ts";
import { type Frame, FrameType } from "../../src/frame.ts";
import { DeliveryError, RateLimitError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";

/** An in-memory, ordered frame channel pair (a fake for unit tests). */
function channelPair(): [MemoryChannel, MemoryChannel] {
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryChannel implements FrameChannel {
  readonly counters: FrameChannelCounters = { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0 };
  readonly written: Frame[] = [];
  peer!: MemoryChannel;
  /** While true, frames written are held back (a stalled network). */
  stalled = false;
  #frames = new FrameQueue();
  get open() {
    return this.#frames.error === undefined;
  }
  get error() {
    return this.#frames.error;
  }
  onClose(cb: (err?: Error) => void) {
    this.#frames.onEnd(cb);
  }
  write(frame: Frame): Promise<void> {
    if (!this.open) return Promise.reject(this.#frames.error);
    this.counters.framesOut++;
    this.written.push(frame);
    if (!this.stalled) queueMicrotask(() => this.peer.#frames.push(frame));
    return Promise.resolve();
  }
  read(options: { signal?: AbortSignal } = {}) {
    return this.#frames.read(options.signal);
  }
  readNow() {
    return this.#frames.readNow();
  }
  close() {
    this.#frames.fail(new Error("closed"));
    return Promise.resolve();
  }
  abort(err: Error) {
    this.#frames.fail(err);
  }
}

function link(
  name: string,
  received: Frame[],
  options: Partial<{ rate: number; ack: number }> = {},
) {
  const events: PeerLinkEvents = {
    onData: (_l, frame) => received.push(frame),
    onRequest: () => Promise.resolve(new Uint8Array([1])),
    onLeave: () => {},
    onStreamLost: () => {},
  };
  return new PeerLink(name, { name, joinedAt: 0 }, events, {
    ackTimeoutMs: options.ack ?? 5_000,
    heartbeatMs: 60_000,
    maxFramesPerSecond: options.rate ?? 100_000,
    log: silentLogger.forComponent("link"),
  });
}

Deno.test("PeerLink: a burst of 1,000 messages arrives once, in order, and is acknowledged by a handful of cumulative acks", async () => {
  const [ca, cb] = channelPair();
  const got: Frame[] = [];
  const ada = link("bob", []);
  const bob = link("ada", got);
  ada.attach(ca);
  bob.attach(cb);
  try {
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => ada.sendData(new Uint8Array([i & 0xff]))),
    );
    assertEquals(got.length, 1000);
    assertEquals(got.map((f) => f.seq), Array.from({ length: 1000 }, (_, i) => i + 1));
    const acks = cb.written.filter((f) => f.type === FrameType.Ack);
    assert(acks.length >= 1);
    assertLess(acks.length, 50, `${acks.length} ack frames for 1,000 messages`);
    assertEquals(ada.unacknowledged, 0);
  } finally {
    await ada.close();
    await bob.close();
  }
});

Deno.test("PeerLink: frames over the rate limit are refused with RateLimitError; the rest is delivered and acknowledged", async () => {
  const [ca, cb] = channelPair();
  const got: Frame[] = [];
  const ada = link("bob", []);
  const bob = link("ada", got, { rate: 100 });
  ada.attach(ca);
  bob.attach(cb);
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, () => ada.sendData(new Uint8Array([0]))),
    );
    const refused = results.filter((r) => r.status === "rejected");
    assert(refused.length >= 150, `only ${refused.length} refused`);
    assert(refused.every((r) => (r as PromiseRejectedResult).reason instanceof RateLimitError));
    assertEquals(got.length, 300 - refused.length);
    assertEquals(ada.unacknowledged, 0);
  } finally {
    await ada.close();
    await bob.close();
  }
});

Deno.test("PeerLink: without acknowledgement send() rejects with DeliveryError after ackTimeoutMs (one timer for all)", async () => {
  const [ca, cb] = channelPair();
  ca.stalled = true;
  const ada = link("bob", [], { ack: 200 });
  const bob = link("ada", []);
  ada.attach(ca);
  bob.attach(cb);
  try {
    const started = performance.now();
    const sends = Array.from({ length: 20 }, () => ada.sendData(new Uint8Array([0])));
    for (const send of sends) await assertRejects(() => send, DeliveryError);
    assert(performance.now() - started >= 190);
    assertEquals(ada.unacknowledged, 0);
  } finally {
    await ada.close();
    await bob.close();
  }
});
