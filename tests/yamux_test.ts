import { assert, assertEquals, assertThrows } from "@std/assert";
import { yamux } from "@libp2p/yamux";
import { batchWindowUpdates, safeYamux } from "../src/_yamux.ts";

// A silent libp2p logger and a connection that can no longer be written.
// deno-lint-ignore no-explicit-any
const log: any = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false });
log.newScope = () => log;
function closedConnection() {
  const aborted: Error[] = [];
  return {
    aborted,
    maConn: {
      log,
      status: "open",
      addEventListener() {},
      removeEventListener() {},
      send() {
        throw new Error("Cannot write to a stream that is closed");
      },
      abort(err: Error) {
        aborted.push(err);
      },
    },
  };
}
// deno-lint-ignore no-explicit-any
type AnyFactory = () => { createStreamMuxer(maConn: any): any };

Deno.test("@libp2p/yamux's abort() throws when its connection cannot be written (the crash safeYamux() prevents)", () => {
  const { maConn } = closedConnection();
  const muxer = (yamux() as unknown as AnyFactory)().createStreamMuxer(maConn);
  assertThrows(() => muxer.abort(new Error("bad frame")), Error, "closed");
});

Deno.test("safeYamux(): abort() on a connection that cannot be written closes the muxer and does not throw", () => {
  const { maConn } = closedConnection();
  const muxer = (safeYamux() as unknown as AnyFactory)().createStreamMuxer(maConn);
  muxer.abort(new Error("bad frame"));
  assertEquals(muxer.status, "closed");
});

// A yamux stream as batchWindowUpdates() sees it; `sent` counts updates that went out.
function windowedStream(state: number) {
  const s = {
    state,
    recvWindow: 256 * 1024,
    recvWindowCapacity: 256 * 1024,
    sent: 0,
    sendWindowUpdate() {
      s.sent++;
      s.recvWindowCapacity = s.recvWindow;
    },
    receive(bytes: number) {
      s.recvWindowCapacity -= bytes;
      s.sendWindowUpdate();
    },
  };
  return s;
}

Deno.test("batchWindowUpdates: an established stream sends one window update per half window consumed", () => {
  const stream = windowedStream(3);
  batchWindowUpdates(stream);
  for (let i = 0; i < 1000; i++) stream.receive(100); // 100,000 bytes: under half of 256 KiB
  assertEquals(stream.sent, 0);
  for (let i = 0; i < 400; i++) stream.receive(100); // past 128 KiB
  assertEquals(stream.sent, 1);
  assertEquals(stream.recvWindowCapacity, stream.recvWindow - (1400 * 100 - 131_100));
});

Deno.test("batchWindowUpdates: the first update (SYN/ACK) and the one after a pause go out at once", () => {
  for (const state of [0, 2, 5]) { // Init, SYNReceived, Paused
    const stream = windowedStream(state);
    batchWindowUpdates(stream);
    stream.receive(10);
    assertEquals(stream.sent, 1, `state ${state}`);
  }
});

/** Frames the receiving muxer writes back while 1,000 messages of 100 bytes arrive. */
async function framesBack(make: AnyFactory): Promise<number> {
  const { multiaddrConnectionPair } = await import("@libp2p/utils");
  const [left, right] = multiaddrConnectionPair();
  let rightSends = 0;
  const send = right.send.bind(right);
  right.send = (data: Parameters<typeof send>[0]) => {
    rightSends++;
    return send(data);
  };
  const factory = make();
  const a = factory.createStreamMuxer(left);
  const b = factory.createStreamMuxer(right);
  let got = 0;
  const all = new Promise<void>((resolve) => {
    b.addEventListener("stream", (evt: CustomEvent) => {
      evt.detail.addEventListener("message", (m: { data: { byteLength: number } }) => {
        got += m.data.byteLength;
        if (got === 100_000) resolve();
      });
    });
  });
  const stream = await a.createStream();
  for (let i = 0; i < 1000; i++) {
    stream.send(new Uint8Array(100));
    await new Promise((r) => setTimeout(r, 0));
  }
  await all;
  a.abort(new Error("done"));
  b.abort(new Error("done"));
  return rightSends;
}

Deno.test("yamux window updates: one per message with @libp2p/yamux alone, only the first few with safeYamux()", async () => {
  const alone = await framesBack(yamux() as unknown as AnyFactory);
  assert(alone >= 1000, `@libp2p/yamux alone wrote ${alone} frames back`);
  // The stream's ACK and the muxer's ping replies (3 or 4 seen); nothing per message.
  const batched = await framesBack(safeYamux() as unknown as AnyFactory);
  assert(batched <= 10, `safeYamux() wrote ${batched} frames back`);
});
