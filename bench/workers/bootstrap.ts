/**
 * Worker: a meshmeet bootstrap/relay node on 127.0.0.1 (WebSockets and TCP). Emits
 * `ready` with its addresses; closing stdin stops it.
 *
 * @module
 */
import { startBootstrapNode } from "../../mod.ts";
import { emit, serve } from "./_serve.ts";

const boot = await startBootstrapNode({
  listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
});
emit("ready", { addresses: boot.addresses, peerId: boot.peerId });
await serve({
  connections: () => boot.libp2p.getConnections().length,
}, () => boot.stop());
