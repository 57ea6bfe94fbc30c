import { assert, assertEquals } from "@std/assert";
import { multiaddr } from "@multiformats/multiaddr";
import type { Stream } from "@libp2p/interface";
import { pipe, streamPair } from "@libp2p/utils";
import { dropUnreadCopies, relayServerStats } from "../src/_relay_server.ts";
import { createParticipantLibp2p } from "../src/node.ts";
import { startBootstrapNode } from "../mod.ts";
import { waitUntil } from "./integration/_harness.ts";

/** Collect `bytes` bytes from `stream`. */
function receive(stream: Stream, bytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  return new Promise((resolve) => {
    stream.addEventListener("message", (evt) => {
      const chunk = evt.data.subarray();
      chunks.push(chunk);
      got += chunk.byteLength;
      if (got < bytes) return;
      const all = new Uint8Array(got);
      let at = 0;
      for (const c of chunks) all.set(c, (at += c.byteLength) - c.byteLength);
      resolve(all);
    });
  });
}

/** `bytes` bytes of a repeating pattern that a lost or reordered chunk would break. */
function pattern(bytes: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + seed + (i >> 10)) & 0xff);
}

async function send(stream: Stream, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.byteLength; at += 16 * 1024) {
    if (!stream.send(data.subarray(at, at + 16 * 1024))) await stream.onDrain();
  }
}

Deno.test("pipe(src, dst, src) of @libp2p/utils reads src with two listeners; dropUnreadCopies() leaves one and both directions still flow", async () => {
  // What the relay does (createLimitedRelay()): src is the dialer's side, dst the listener's.
  const [dialer, src] = await streamPair();
  const [dst, listener] = await streamPair();
  const [plainDialer, plainSrc] = await streamPair();
  const [plainDst] = await streamPair();
  const before = plainSrc.listenerCount("message");
  void pipe(plainSrc, plainDst, plainSrc).catch(() => {});
  assertEquals(plainSrc.listenerCount("message"), before + 2, "the library's behaviour changed");

  const dropped = await dropUnreadCopies(src, () => {
    void pipe(src, dst, src).catch(() => {});
  });
  assertEquals(dropped, 1);
  assertEquals(src.listenerCount("message"), before + 1);
  // The methods it watched are the prototype's again.
  assert(!Object.hasOwn(src, "addEventListener") && !Object.hasOwn(src, "removeEventListener"));

  const out = pattern(300_000, 1);
  const back = pattern(200_000, 2);
  const atListener = receive(listener, out.byteLength);
  const atDialer = receive(dialer, back.byteLength);
  await Promise.all([send(dialer, out), send(listener, back)]);
  assertEquals(await atListener, out);
  assertEquals(await atDialer, back);
  for (const s of [dialer, src, dst, listener, plainDialer, plainSrc, plainDst]) {
    s.abort(new Error("done"));
  }
});

Deno.test("dropUnreadCopies() removes nothing from a stream read once, and restores its own methods", async () => {
  const [a, b] = await streamPair();
  const own = () => {};
  (b as unknown as { addEventListener: unknown }).addEventListener = own;
  assertEquals(await dropUnreadCopies(a, () => a.addEventListener("message", () => {})), 0);
  assertEquals(await dropUnreadCopies(b, () => {}), 0);
  assertEquals((b as unknown as { addEventListener: unknown }).addEventListener, own);
  a.abort(new Error("done"));
  b.abort(new Error("done"));
});

Deno.test("a bootstrap node's relay drops its unread copy of each relayed connection, and the connection carries both ways", async () => {
  const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
  const relay = boot.addresses[0];
  const nodes = await Promise.all(
    [0, 1].map(() => createParticipantLibp2p({ rtcConfiguration: {} })),
  );
  try {
    const ECHO = "/meshmeet-test/echo/1.0.0";
    await nodes[1].handle(ECHO, (stream) => {
      stream.addEventListener("message", (evt) => stream.send(evt.data));
    }, { runOnLimitedConnection: true });
    for (const node of nodes) await node.dial(multiaddr(relay));
    await waitUntil(
      () => nodes[1].getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit")),
      "a relay reservation",
    );
    const dropped = relayServerStats.dropped;
    const conn = await nodes[0].dial(multiaddr(`${relay}/p2p-circuit/p2p/${nodes[1].peerId}`));
    assertEquals(conn.limits != null, true, "the connection is relayed");
    const stream = await conn.newStream(ECHO, { runOnLimitedConnection: true });
    const data = pattern(1_000_000, 3);
    const echoed = receive(stream, data.byteLength);
    await send(stream, data);
    assertEquals(await echoed, data);
    assertEquals(relayServerStats.dropped, dropped + 1);
    await conn.close();
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await boot.stop();
  }
});

Deno.test("a bootstrap node's relay ends a reservation when its peer disconnects, not 2 h later", async () => {
  const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
  const reservations = () => boot.libp2p.services.relay.reservations.size;
  try {
    const nodes = await Promise.all(
      [0, 1].map(() => createParticipantLibp2p({ rtcConfiguration: {} })),
    );
    for (const node of nodes) await node.dial(multiaddr(boot.addresses[0]));
    await waitUntil(() => reservations() === 2, "both relay reservations");
    const ended = relayServerStats.reservationsEnded;
    await nodes[0].stop(); // a member that left (or crashed: the relay sees the same close)
    await waitUntil(
      () => reservations() === 1,
      "the relay to drop the reservation of a disconnected peer",
      5_000,
    );
    assertEquals(relayServerStats.reservationsEnded, ended + 1);
    assert(boot.libp2p.services.relay.reservations.has(nodes[1].peerId), "the other one stays");
    await nodes[1].stop();
  } finally {
    await boot.stop();
  }
});
