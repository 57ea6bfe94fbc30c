// An AI client in a meeting, driven by the official SDK's Client: `meshmeet mcp` as a stdio
// subprocess, and the control API's `/mcp` over Streamable HTTP (with and without the token).
// Bob, a member in this process, offers a tool and talks to the agent.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { z } from "zod";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import { offerTools } from "../../src/mcp/mod.ts";
import { Client, McpServer } from "../../src/mcp/_sdk.ts";
import { StdioClientTransport, StreamableHTTPClientTransport } from "./_sdk_client.ts";
import {
  cleanup,
  joinLoopback,
  recordEvents,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const TOKEN = crypto.randomUUID();

type Result = Awaited<ReturnType<Client["callTool"]>>;
const textOf = (r: Result) =>
  (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n");
const jsonOf = (r: Result) => JSON.parse((r.content as { text: string }[])[0].text);

async function offerEcho(bob: Meeting) {
  const server = new McpServer({ name: "bob", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: "text", text: `Bob echoes ${text}` }],
  }));
  return await offerTools(bob, server);
}

/** What both bridges must do, asked through an SDK client connected as `agentName`. */
async function exerciseAgent(client: Client, bob: Meeting, agentName: string) {
  const names = (await client.listTools()).tools.map((t) => t.name).sort();
  assertEquals(names, [
    "broadcast",
    "call_remote_tool",
    "list_remote_tools",
    "participants",
    "recent_messages",
    "send",
  ]);
  // participants: Bob is there (wait for the agent's link to Bob).
  let agentId = "";
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const view = jsonOf(await client.callTool({ name: "participants", arguments: {} }));
    agentId = view.self.peerId;
    if (
      view.participants.some((p: { name: string; state: string }) =>
        p.name === "Bob" && p.state === "connected"
      )
    ) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert(bob.participants.some((p) => p.peerId === agentId), "Bob sees the agent");

  // send and broadcast reach Bob.
  const received = recordEvents(bob, ["message"]);
  const sent = jsonOf(
    await client.callTool({ name: "send", arguments: { to: "Bob", text: "hi Bob" } }),
  );
  assertEquals(sent.delivered, [bob.self.peerId]);
  const all = jsonOf(await client.callTool({ name: "broadcast", arguments: { json: { n: 1 } } }));
  assertEquals(all.delivered, [bob.self.peerId]);
  assertEquals(received.map((m) => [m.detail.name, m.detail.data]), [
    [agentName, "hi Bob"],
    [agentName, { n: 1 }],
  ]);
  // Bad input gets an MCP error result, not a crash; the bridge keeps answering.
  const bad = await client.callTool({ name: "send", arguments: { to: "Nobody", text: "x" } });
  assertEquals(bad.isError, true);
  assertStringIncludes(textOf(bad), "No participant");
  const invalid = await client.callTool({ name: "recent_messages", arguments: { limit: -3 } });
  assertEquals(invalid.isError, true);

  // Messages that arrive between calls wait in the buffer.
  await bob.send(agentId, "first");
  await bob.send(agentId, { second: true });
  const page = jsonOf(await client.callTool({ name: "recent_messages", arguments: {} }));
  assertEquals(page.messages.map((m: { text?: string; json?: unknown }) => m.text ?? m.json), [
    "first",
    { second: true },
  ]);
  assertEquals(page.messages[0].name, "Bob");
  const none = jsonOf(
    await client.callTool({ name: "recent_messages", arguments: { since: page.next } }),
  );
  assertEquals(none.messages, []);

  // Remote tools: listed from the roster and called through the meeting.
  let listed: { name: string; memberName: string }[] = [];
  while (Date.now() < deadline && listed.length === 0) {
    listed = jsonOf(await client.callTool({ name: "list_remote_tools", arguments: {} }));
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  assertEquals(listed.map((t) => [t.name, t.memberName]), [["echo", "Bob"]]);
  const called = await client.callTool({
    name: "call_remote_tool",
    arguments: { name: "echo", arguments: { text: "ping" } },
  });
  assertEquals(called.isError, undefined);
  assertStringIncludes(textOf(called), "Bob echoes ping");
  assertStringIncludes(textOf(called), `answered by Bob (${bob.self.peerId})`);
  const missing = await client.callTool({ name: "call_remote_tool", arguments: { name: "nope" } });
  assertEquals(missing.isError, true);
  assertStringIncludes(textOf(missing), "no member of the meeting offers it");
}

Deno.test("meshmeet mcp: the SDK's Client drives the stdio bridge in a subprocess", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const bob = await joinLoopback(code, boot, { name: "Bob" });
  const offer = await offerEcho(bob);
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: [
      "run",
      "-A",
      CLI,
      "mcp",
      code,
      "--name",
      "Agent",
      "--bootstrap",
      boot.addresses.find((a) => !a.includes("/ws"))!,
      "--bind-address",
      "127.0.0.1",
    ],
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr.push(new TextDecoder().decode(chunk)));
  const client = new Client({ name: "test", version: "1.0.0" });
  try {
    await client.connect(transport, { timeout: 60_000 });
    await exerciseAgent(client, bob, "Agent");
    // Closing stdin ends the process, which leaves the meeting.
    await client.close();
    await waitUntil(() => bob.participants.length === 0, "the agent to leave", 20_000);
    assertStringIncludes(stderr.join(""), "left the meeting");
  } catch (err) {
    console.error(stderr.join(""));
    throw err;
  } finally {
    await client.close().catch(() => {});
    await offer.close();
    await cleanup([bob], [boot]);
  }
});

Deno.test("createControlApi() /mcp: Streamable HTTP with the token; 401/403 without it", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  const [bob, ada] = await Promise.all([
    joinLoopback(code, boot, { name: "Bob" }),
    joinLoopback(code, boot, { name: "Ada" }),
  ]);
  meetings.push(bob, ada);
  const offer = await offerEcho(bob);
  const api = createControlApi(ada, { token: TOKEN });
  const server = await serveControlApi(api, { port: 0 });
  const url = new URL("/mcp", server.url);
  try {
    // Without a token, and with a wrong one: the SDK client cannot even initialize.
    const anonymous = new Client({ name: "anon", version: "1.0.0" });
    await assertRejects(() => anonymous.connect(new StreamableHTTPClientTransport(url)));
    const raw = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assertEquals(raw.status, 401);
    await raw.body?.cancel();
    const wrong = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        Authorization: "Bearer wrong-token",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assertEquals(wrong.status, 403);
    await wrong.body?.cancel();
    // A made-up session id is refused.
    const stale = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        Authorization: `Bearer ${TOKEN}`,
        "Mcp-Session-Id": "no-such-session",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assertEquals(stale.status, 404);
    await stale.body?.cancel();

    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
      }),
    );
    try {
      await exerciseAgent(client, bob, "Ada");
    } finally {
      await client.close();
    }
  } finally {
    api.close();
    await server.close();
    await offer.close();
    await cleanup(meetings, [boot]);
  }
});
