// Repro for "a bootstrap node's process ends by itself after stop()": starts a bootstrap
// node, runs a participant in another process (joins with the node as bootstrap, leaves),
// stops the node and prints one JSON line. It must then exit by itself (no Deno.exit()).
// Usage: deno run -A tests/runtime/_boot_exit_probe.ts
import { startBootstrapNode } from "../../mod.ts";

const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
const client = new URL("./_boot_exit_client.ts", import.meta.url).pathname;
const out = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", client, ...boot.addresses],
  stdout: "piped",
  stderr: "inherit",
}).output();
const connectionsBefore = boot.libp2p.getConnections().length;
const t0 = performance.now();
await boot.stop();
console.log(JSON.stringify({
  client: out.code,
  clientOut: new TextDecoder().decode(out.stdout).trim(),
  connectionsBefore,
  stoppedAtMs: Math.round(performance.now() - t0),
  stoppedAtEpoch: Date.now(),
}));
