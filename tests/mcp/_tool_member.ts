/**
 * A member that offers one slow tool, as its own process (so a test can kill it mid-call):
 *
 *     deno run -A tests/mcp/_tool_member.ts <code> <name> <bootstrap multiaddr> <delay ms>
 *
 * Prints JSON lines on stdout: `{"ready":"<peer id>"}` once the offer is made, then
 * `{"called":<n>}` each time the tool starts working.
 */
import { z } from "zod";
import { joinMeeting } from "../../mod.ts";
import { offerTools } from "../../src/mcp/mod.ts";
import { McpServer } from "../../src/mcp/_sdk.ts";

const [code, name, bootstrap, delay] = Deno.args;
const meeting = await joinMeeting(code, {
  name,
  bootstrap: [bootstrap],
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
  dialTimeoutMs: 15_000,
});
const server = new McpServer({ name: `slow-${name}`, version: "1.0.0" });
let calls = 0;
server.registerTool("slow_echo", { inputSchema: { text: z.string() } }, async ({ text }) => {
  console.log(JSON.stringify({ called: ++calls }));
  await new Promise((r) => setTimeout(r, Number(delay)));
  return { content: [{ type: "text", text: `${name}: ${text}` }] };
});
await offerTools(meeting, server);
console.log(JSON.stringify({ ready: meeting.self.peerId }));
Deno.addSignalListener("SIGTERM", async () => {
  await meeting.leave();
  Deno.exit(0);
});
