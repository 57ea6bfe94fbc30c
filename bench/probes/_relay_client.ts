/**
 * Worker of `relay_circuits.ts`: `count` participant libp2p nodes (as meetings make them)
 * with a reservation on one relay, each answering an echo protocol on relayed connections.
 *
 * Lines on stdout: `{"ready": [peer ids]}` once every node holds its reservation, then, after
 * the targets arrive on stdin (`{"targets": [circuit addresses], "seconds": n, "pauseMs": m}`), one
 * `{"result": …}` with every echo round's time and every stall: an echo round is a dial of
 * a random target through the relay (a new relayed connection or the open one), a new
 * stream, 1 KiB written and read back. A round that takes over `STALL_MS` is a stall; its
 * connection's streams and status are written down.
 *
 * `deno run -A bench/probes/_relay_client.ts <relay multiaddr> <count>`
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { Stream } from "@libp2p/interface";
import { ECHO, reservedNodes, serveEcho } from "./_relayed.ts";

const [relay, countArg] = Deno.args;
const count = Number(countArg ?? 5);
const STALL_MS = 5_000;
const GIVE_UP_MS = 30_000;

const nodes = await reservedNodes(relay, count, serveEcho);
console.log(JSON.stringify({ ready: nodes.map((n) => n.peerId.toString()) }));

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
let buffered = "";
while (!buffered.includes("\n")) {
  const { value, done } = await lines.read();
  if (done) Deno.exit(0);
  buffered += value;
}
const { targets, seconds, pauseMs } = JSON.parse(buffered.split("\n")[0]) as {
  targets: string[];
  seconds: number;
  pauseMs: number;
};

interface Stall {
  ms: number;
  /** Milliseconds to the connection, to the stream, to the echo. */
  steps: number[];
  failed?: string;
  connection?: { status: string; streams: string[]; age: number };
}
const times: number[] = [];
/** Per round: milliseconds to the connection, to the stream, to the echo. */
const steps: number[][] = [];
const stalls: Stall[] = [];

async function echoRound(node: (typeof nodes)[number], target: string): Promise<void> {
  const payload = crypto.getRandomValues(new Uint8Array(1024));
  const t0 = performance.now();
  const signal = AbortSignal.timeout(GIVE_UP_MS);
  let conn: Awaited<ReturnType<typeof node.dial>> | undefined;
  const at: number[] = [];
  try {
    conn = await node.dial(multiaddr(target), { signal });
    at.push(performance.now() - t0);
    const stream = await conn.newStream(ECHO, { signal, runOnLimitedConnection: true });
    at.push(performance.now() - t0);
    let got = 0;
    const done = new Promise<void>((resolve, reject) => {
      stream.addEventListener("message", (evt) => {
        got += evt.data.byteLength;
        if (got >= payload.byteLength) resolve();
      });
      stream.addEventListener("close", (evt) => reject(evt.error ?? new Error("closed")));
      signal.addEventListener("abort", () => reject(new Error("no echo in 30 s")));
    });
    stream.send(payload);
    await done;
    await stream.close().catch(() => {});
    const ms = performance.now() - t0;
    at.push(ms);
    times.push(ms);
    steps.push(at);
    if (ms > STALL_MS) stalls.push({ ms, steps: at, connection: describe(conn) });
  } catch (err) {
    stalls.push({
      ms: performance.now() - t0,
      steps: at,
      failed: (err as Error).message,
      connection: conn ? describe(conn) : undefined,
    });
  }
}

function describe(conn: { status: string; streams: Stream[]; timeline: { open: number } }) {
  return {
    status: conn.status,
    streams: conn.streams.map((s) => `${s.protocol ?? "?"}:${s.direction}:${s.status}`),
    age: Date.now() - conn.timeline.open,
  };
}

const until = Date.now() + seconds * 1000;
await Promise.all(nodes.map(async (node) => {
  const own = node.peerId.toString();
  const others = targets.filter((t) => !t.endsWith(own));
  while (Date.now() < until) {
    await echoRound(node, others[Math.floor(Math.random() * others.length)]);
    await new Promise((r) => setTimeout(r, pauseMs * (0.5 + Math.random())));
  }
}));
console.log(JSON.stringify({
  result: {
    rounds: times.length + stalls.filter((s) => s.failed).length,
    times,
    steps,
    stalls,
    connections: nodes.reduce((n, node) => n + node.getConnections().length, 0),
  },
}));
await Promise.all(nodes.map((n) => n.stop()));
Deno.exit(0);
