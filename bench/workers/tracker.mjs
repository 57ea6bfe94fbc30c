// Worker (Node): a self-hosted WebSocket BitTorrent tracker (bittorrent-tracker) on
// 127.0.0.1 for trystero's torrent strategy. Emits `ready` with its ws:// URL.
import Server from "bittorrent-tracker/server";
import { emit, serve } from "./_serve.mjs";

const server = new Server({ udp: false, http: false, ws: true, stats: false, trustProxy: false });
server.on("error", () => {});
server.on("warning", () => {});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.ws.address();
emit("ready", { url: `ws://127.0.0.1:${port}` });
serve({
  peers: ({ infoHash } = {}) =>
    Object.values(server.torrents).map((t) => ({
      infoHash: t.infoHash,
      peers: Object.keys(t.peers).length,
    }))
      .filter((t) => !infoHash || t.infoHash === infoHash),
}, () => new Promise((resolve) => server.close(resolve)));
