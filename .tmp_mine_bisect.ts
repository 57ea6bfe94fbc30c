import { createParticipantLibp2p } from "./src/node.ts";
import { deriveTopicKeys } from "./src/topic.ts";
import { generateInvitationCode } from "./mod.ts";
import { startServer, stopServers } from "./tests/faults/_servers.ts";
import { multiaddr } from "@multiformats/multiaddr";
const gc = (globalThis as { gc?: () => void }).gc!;
const mode = Deno.args[0];
const server = await startServer("boot");
for (let round = 1; round <= 30; round++) {
  if (mode === "kdf") await deriveTopicKeys(generateInvitationCode());
  if (mode === "node") {
    const n = await createParticipantLibp2p({ rtcConfiguration: { iceServers: [] } });
    await n.dial(server.addresses.map((a) => multiaddr(a)));
    await new Promise((r) => setTimeout(r, 300));
    await n.stop();
  }
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) gc();
  const m = Deno.memoryUsage();
  if (round % 5 === 0) console.log(mode, JSON.stringify({ round, rssMB: +(m.rss / 2 ** 20).toFixed(1), heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), heapTotal: +(m.heapTotal / 2 ** 20).toFixed(1) }));
}
await stopServers([server]);
Deno.exit(0);
