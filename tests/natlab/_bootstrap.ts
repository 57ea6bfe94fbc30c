// A bootstrap node for NAT lab scenarios, run inside the lab's internet namespace.
// Env: LISTEN (comma-separated multiaddrs), ICE_SERVERS (JSON, advertised to joiners).
// Prints one JSON line {"event":"listening","addresses":[...]} and runs until SIGTERM.
import { startBootstrapNode } from "../../mod.ts";

const node = await startBootstrapNode({
  listen: Deno.env.get("LISTEN")!.split(","),
  iceServers: JSON.parse(Deno.env.get("ICE_SERVERS") ?? "[]"),
});
console.log(JSON.stringify({ event: "listening", peerId: node.peerId, addresses: node.addresses }));
await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
await node.stop();
Deno.exit(0);
