/**
 * Probe: does a relay keep the bytes it forwards? A relay and two participant nodes in this
 * process; A opens a relayed connection to B and sends `MiB` MiB on one stream, which B
 * reads and drops. The process's heap, external memory (array buffers) and RSS after a full
 * GC are printed before, after the transfer (the relayed connection still open) and after
 * the connection is closed.
 *
 * `deno run -A --v8-flags=--expose-gc bench/probes/relay_buffering.ts [MiB] [--reverse] [--stalled]`
 * (`--reverse`: B sends to A, the listener-to-dialer direction; `--stalled`: the receiving
 * side pauses its stream and reads nothing, and the sender stops after 5 s without progress:
 * how much does the relay take in that it cannot pass on?)
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { Stream } from "@libp2p/interface";
import { startBootstrapNode } from "../../mod.ts";
import { circuitAddress, reservedNodes } from "./_relayed.ts";

const mib = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 32);
const reverse = Deno.args.includes("--reverse");
const stalled = Deno.args.includes("--stalled");
const SINK = "/meshmeet-probe/sink/1.0.0";
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => {
  gc();
  gc();
  const m = Deno.memoryUsage();
  const f = (x: number) => (x / 2 ** 20).toFixed(1);
  return `${f(m.heapUsed)} MiB, external ${f(m.external)} MiB, RSS ${f(m.rss)}`;
};

const boot = await startBootstrapNode({
  listen: ["/ip4/127.0.0.1/tcp/0"],
  relayLimits: { dataBytes: 4 * 2 ** 30 },
});
const relay = boot.addresses[0];
const total = mib * 2 ** 20;
let received = 0;
let allIn: () => void = () => {};
const done = new Promise<void>((r) => allIn = r);
const sink = (stream: Stream) => {
  if (stalled) {
    stream.pause();
    return;
  }
  stream.addEventListener("message", (evt) => {
    received += evt.data.byteLength;
    if (received >= total) allIn();
  });
};
let sent = 0;
const send = async (stream: Stream) => {
  for (; sent < total; sent += 64 * 1024) {
    // A new chunk each time, so that whoever holds them shows in the external memory.
    if (stream.send(new Uint8Array(64 * 1024))) continue;
    const drained = await Promise.race([
      stream.onDrain().then(() => true),
      new Promise((r) => setTimeout(r, 5000, false)),
    ]);
    if (!drained) break;
  }
  if (stalled) {
    // deno-lint-ignore no-explicit-any
    const buffered = (stream as any).writeBuffer?.byteLength ?? 0;
    console.log(
      `the sender's own stream still holds ${(buffered / 2 ** 20).toFixed(1)} MiB ` +
        `(not passed on: the relay and the receiver hold the rest of the external memory)`,
    );
    allIn();
  }
};
const [a, b] = await reservedNodes(relay, 2, async (node) => {
  await node.handle(SINK, (stream) => reverse ? void send(stream) : sink(stream), {
    runOnLimitedConnection: true,
  });
});
const conn = await a.dial(multiaddr(circuitAddress(relay, b)));
console.log(`heap before: ${heap()}`);
const t0 = performance.now();
const stream = await conn.newStream(SINK, { runOnLimitedConnection: true });
if (reverse) sink(stream);
else await send(stream);
await done;
console.log(
  `${(sent / 2 ** 20).toFixed(1)} of ${mib} MiB ${
    reverse ? "B → A (listener to dialer)" : "A → B (dialer to listener)"
  }${stalled ? " sent, none read," : ""} in ` +
    `${(performance.now() - t0).toFixed(0)} ms; heap with the connection open: ${heap()}`,
);
// A stalled stream cannot close gracefully (its unread data keeps it open): abort then.
await conn.close({ signal: AbortSignal.timeout(2000) }).catch((err) => conn.abort(err));
await new Promise((r) => setTimeout(r, 500));
console.log(`heap after the connection closed: ${heap()}`);
await Promise.all([a.stop(), b.stop()]);
await boot.stop();
