/**
 * The MCP check of the contract suite: a member offers a tool with the official SDK's
 * `McpServer`, two others find it in the roster and call it over their meeting links (a
 * routed call and a plain SDK `Client`), and bad input gets an MCP error. Written against
 * the package's exports so it runs in Deno (sources) and on Node (the npm build).
 *
 * @module
 */
import { z } from "zod";
import type * as Core from "../../mod.ts";
import type * as Mcp from "../../src/mcp/mod.ts";

function _check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`MCP check failed: ${what}`);
}

/**
 * Run the check.
 *
 * @returns A one-line summary with the call latencies.
 */
export async function mcpCheck(
  core: typeof Core,
  mcp: typeof Mcp,
  options: { bootstrap: string[]; rtcConfiguration: Core.JoinMeetingOptions["rtcConfiguration"] },
): Promise<string> {
  const code = core.generateInvitationCode();
  const join = (name: string) =>
    core.joinMeeting(code, { ...options, name, dialTimeoutMs: 15_000 });
  const [ada, bob, cyd] = await Promise.all([join("Ada"), join("Bob"), join("Cyd")]);
  try {
    const server = new mcp.McpServer({ name: "adder", version: "1.0.0" });
    server.registerTool(
      "add",
      { inputSchema: { a: z.number(), b: z.number() } },
      ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }),
    );
    const offer = await mcp.offerTools(ada, server);
    const bobTools = mcp.meetingTools(bob);
    const cydTools = mcp.meetingTools(cyd);
    await Promise.all([
      bobTools.waitFor("add", { timeoutMs: 60_000 }),
      cydTools.waitFor("add", { timeoutMs: 60_000 }),
    ]);
    const [fromBob, fromCyd] = await Promise.all([
      bobTools.call("add", { a: 2, b: 3 }),
      cydTools.call("add", { a: 40, b: 2 }),
    ]);
    const text = (r: Mcp.ToolCallOutcome) => (r.result.content as { text: string }[])[0].text;
    _check(text(fromBob) === "5" && text(fromCyd) === "42", "sums");
    _check(fromBob.peerId === ada.self.peerId && fromBob.memberName === "Ada", "answered by Ada");
    const client = await cydTools.connect(ada.self.peerId);
    const listed = (await client.listTools()).tools.map((t: { name: string }) => t.name);
    _check(JSON.stringify(listed) === '["add"]', `tools/list gave ${JSON.stringify(listed)}`);
    const bad = await client.callTool({ name: "add", arguments: { a: "x" } });
    _check(bad.isError === true, "bad input gives an MCP error result");
    await client.close();
    await Promise.all([bobTools.close(), cydTools.close(), offer.close()]);
    return `MCP: Bob ${fromBob.ms.toFixed(1)} ms, Cyd ${fromCyd.ms.toFixed(1)} ms (first calls)`;
  } finally {
    await Promise.allSettled([ada.leave(), bob.leave(), cyd.leave()]);
  }
}
