/**
 * The member a live fuzz aims at, in its own process: it joins a meeting, offers one MCP
 * tool to the meeting and serves the control API over HTTP (with the MCP endpoint), so that
 * it serves every protocol a member can: signaling (`/meshmeet/signal/1.0.0`), knocking,
 * meeting frames and the MCP channel on its links, and HTTP.
 *
 *     MESHMEET_FAULT_CODE=<code> deno run -A tests/fuzz/_live_target.ts <bootstrap> <token>
 *
 * Prints `{"event":"ready", peerId, addresses, port, topicId}`; a line `stats` on stdin
 * prints `{"event":"stats", …}` (the meeting's counters, participants, memory).
 *
 * @module
 */
import { z } from "zod";
import { joinMeeting } from "../../mod.ts";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import { offerTools } from "../../src/mcp/mod.ts";
import { McpServer } from "../../src/mcp/_sdk.ts";
import { readLines } from "../../src/_lines.ts";

const [bootstrap, token] = Deno.args;
const meeting = await joinMeeting(Deno.env.get("MESHMEET_FAULT_CODE")!, {
  name: "Target",
  bootstrap: [bootstrap],
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
  dialTimeoutMs: 15_000,
});
const mcp = new McpServer({ name: "target", version: "1.0.0" });
mcp.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({
  content: [{ type: "text", text }],
}));
await offerTools(meeting, mcp);
const api = createControlApi(meeting, { token, events: true });
const server = await serveControlApi(api, { port: 0 });
const write = (o: unknown) => console.log(JSON.stringify(o));
write({
  event: "ready",
  peerId: meeting.self.peerId,
  addresses: meeting.self.addresses,
  port: server.port,
  topicId: meeting.topicId,
});
meeting.addEventListener("message", (e) => {
  if (e.detail.text === "ping from the real peer") {
    void meeting.send(e.detail.from, "pong from the target").catch(() => {});
  }
});
for await (const line of readLines(Deno.stdin.readable)) {
  if (line.trim() !== "stats") continue;
  const mem = Deno.memoryUsage();
  write({
    event: "stats",
    stats: { ...meeting.stats, rendezvous: undefined },
    participants: meeting.participants.map((p) => ({ name: p.name, state: p.state })),
    rssMB: +(mem.rss / 2 ** 20).toFixed(1),
  });
}
await server.close();
await meeting.leave();
Deno.exit(0);
