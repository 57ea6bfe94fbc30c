/**
 * MCP tools in a meeting: offer a tool in one terminal, call it from another.
 *
 *     deno task meshmeet serve --listen /ip4/127.0.0.1/tcp/4001   # terminal 1: bootstrap
 *     deno task meshmeet code                                      # an invitation code
 *     deno run -A examples/mcp_agent.ts offer <code> --bootstrap <multiaddr>              # terminal 2
 *     deno run -A examples/mcp_agent.ts call <code> --bootstrap <multiaddr> translate \
 *       '{"text":"guten morgen","to":"en"}'                                              # terminal 3
 *
 * `offer` joins as "Ada" (or `--name`) and offers two tools from an official-SDK `McpServer`:
 * `translate` (a tiny German→English word list) and `word_count`; `--delay <ms>` makes them
 * slow, to watch failover when two offer and one is stopped. `call` joins as "Bob", waits for
 * the tool to appear in the roster, lists every member's tools, calls the tool (routed to the
 * nearest offering member, failing over to the others), prints who answered, and leaves.
 *
 * @module
 */
import { z } from "zod";
import { joinMeeting } from "../mod.ts";
import { meetingTools, offerTools } from "../src/mcp/mod.ts";
import { McpServer } from "../src/mcp/_sdk.ts";
import { parseArgs } from "../src/cli/args.ts";

const USAGE = `usage:
  deno run -A examples/mcp_agent.ts offer <code> --bootstrap <multiaddr> [--name Ada] [--delay ms]
  deno run -A examples/mcp_agent.ts call <code> --bootstrap <multiaddr> [--name Bob] [tool] [json args]`;

const WORDS: Record<string, string> = {
  guten: "good",
  morgen: "morning",
  tag: "day",
  hallo: "hello",
  welt: "world",
  danke: "thanks",
};

const [mode, ...rest] = Deno.args;
const args = parseArgs(rest, { values: ["bootstrap", "name", "delay"], lists: [] });
const [code, tool = "translate", json = '{"text":"hallo welt","to":"en"}'] = args.positional;
if ((mode !== "offer" && mode !== "call") || !code || !args.values.bootstrap) {
  console.error(USAGE);
  Deno.exit(2);
}

const meeting = await joinMeeting(code, {
  name: args.values.name ?? (mode === "offer" ? "Ada" : "Bob"),
  bootstrap: [args.values.bootstrap],
});
console.error(`joined as ${meeting.self.name} (${meeting.self.peerId})`);

if (mode === "offer") {
  const delay = Number(args.values.delay ?? 0);
  const work = () => new Promise((r) => setTimeout(r, delay));
  const server = new McpServer({ name: `tools of ${meeting.self.name}`, version: "1.0.0" });
  server.registerTool("translate", {
    description: "Translate German words to English (a tiny word list)",
    inputSchema: { text: z.string().max(1000), to: z.literal("en") },
  }, async ({ text }, extra) => {
    await work();
    const out = text.split(/\s+/).map((w) => WORDS[w.toLowerCase()] ?? w).join(" ");
    console.error(`translate(${JSON.stringify(text)}) for ${extra.authInfo?.clientId}`);
    return { content: [{ type: "text", text: out }] };
  });
  server.registerTool("word_count", {
    description: "Count the words of a text",
    inputSchema: { text: z.string() },
  }, async ({ text }) => {
    await work();
    return { content: [{ type: "text", text: String(text.split(/\s+/).filter(Boolean).length) }] };
  });
  const offer = await offerTools(meeting, server);
  console.log(
    JSON.stringify({ ready: meeting.self.peerId, tools: offer.tools.map((t) => t.name) }),
  );
  console.error("offering translate and word_count; Ctrl-C to leave");
  const stop = async () => {
    await offer.close();
    await meeting.leave();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
} else {
  const tools = meetingTools(meeting);
  try {
    await tools.waitFor(tool, { timeoutMs: 60_000 });
    for (const t of tools.list()) {
      console.error(`  ${t.memberName}: ${t.name}(${t.params.join(", ")}) digest ${t.digest}`);
    }
    const outcome = await tools.call(tool, JSON.parse(json), { timeoutMs: 30_000 });
    const text = (outcome.result.content as { type: string; text?: string }[])
      .map((c) => c.text ?? `[${c.type}]`).join("\n");
    console.log(text);
    console.error(
      `answered by ${outcome.memberName} (${outcome.peerId}) in ${outcome.ms.toFixed(1)} ms` +
        (outcome.attempts.length ? `, after ${outcome.attempts.length} failed attempt(s)` : ""),
    );
  } finally {
    await tools.close();
    await meeting.leave();
  }
  // Like the CLI: exit explicitly (the WebRTC library's native threads may outlive leave()).
  Deno.exit(0);
}
