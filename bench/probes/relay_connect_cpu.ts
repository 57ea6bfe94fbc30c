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
import { createParticipantLibp2p } from "../../src/node.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 50);
const listen = Deno.args.includes("--ws") ? "/ip4/127.0.0.1/tcp/0/ws" : "/ip4/127.0.0.1/tcp/0";
const ECHO = "/meshmeet-probe/echo/1.0.0";
const boot = await startBootstrapNode({ listen: [listen] });
const relay = boot.addresses[0];
const [a, b] = await Promise.all(
  [0, 1].map(() => createParticipantLibp2p({ rtcConfiguration: {} })),
);
await b.handle(ECHO, (stream) => {
  stream.addEventListener("message", (evt) => stream.send(evt.data));
  stream.addEventListener("remoteCloseWrite", () => void stream.close().catch(() => {}));
}, { runOnLimitedConnection: true });
await a.dial(multiaddr(relay));
await b.dial(multiaddr(relay));
while (!b.getMultiaddrs().some((m) => m.toString().includes("/p2p-circuit"))) {
  await new Promise((r) => setTimeout(r, 50));
}
const target = multiaddr(`${relay}/p2p-circuit/p2p/${b.peerId}`);

function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

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
