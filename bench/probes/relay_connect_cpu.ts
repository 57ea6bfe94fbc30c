/**
 * Probe: CPU per relayed libp2p connection. A relay and two participant nodes in this
 * process; node A opens `n` relayed connections to node B one after another (each a fresh
 * connection: dial, one echo stream, close). Prints wall and CPU milliseconds per connection.
 * With `--cpu-prof` on the command line, Deno writes a profile to look at.
 *
 * `deno run -A [--cpu-prof] bench/probes/relay_connect_cpu.ts [n] [--ws]` (`--ws`: the relay
 * listens on WebSockets instead of TCP)
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import { startBootstrapNode } from "../../mod.ts";
import { sampleProc } from "../_host.ts";
import { circuitAddress, ECHO, reservedNodes, serveEcho } from "./_relayed.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 50);
const listen = Deno.args.includes("--ws") ? "/ip4/127.0.0.1/tcp/0/ws" : "/ip4/127.0.0.1/tcp/0";
const boot = await startBootstrapNode({ listen: [listen] });
const relay = boot.addresses[0];
const [a, b] = await reservedNodes(relay, 2, serveEcho);
const target = multiaddr(circuitAddress(relay, b));
const cpuMs = () => sampleProc("self")!.cpuSeconds * 1000;

async function once(): Promise<void> {
  const conn = await a.dial(target);
  const stream = await conn.newStream(ECHO, { runOnLimitedConnection: true });
  const echoed = new Promise<void>((resolve) =>
    stream.addEventListener("message", () => resolve(), { once: true })
  );
  stream.send(new Uint8Array(100));
  await echoed;
  await conn.close();
}

for (let i = 0; i < 5; i++) await once(); // warm up
const c0 = cpuMs();
const t0 = performance.now();
for (let i = 0; i < n; i++) await once();
const wall = (performance.now() - t0) / n;
const cpu = (cpuMs() - c0) / n;
console.log(
  `${n} relayed connections (relay and both ends in this process, ${listen}): ${
    wall.toFixed(1)
  } ms wall, ` +
    `${cpu.toFixed(1)} ms CPU each`,
);
await Promise.all([a.stop(), b.stop()]);
await boot.stop();
