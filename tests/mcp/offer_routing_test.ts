// The MCP layer over in-memory stand-ins for meetings (tests/mcp/_fake_mesh.ts): allow lists
// given as a function, the per-member concurrency limit, offers that follow the server's tool
// list, results over the message size limit, and failover when a member goes quiet or its
// link drops. The same code runs over real meeting links in tools_test.ts and failover_test.ts.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { z } from "zod";
import { McpError, McpServer } from "../../src/mcp/_sdk.ts";
import { meetingTools, offerTools, ToolCallError } from "../../src/mcp/mod.ts";
import { FakeMember, heartbeats, mesh } from "./_fake_mesh.ts";

const text = (r: Record<string, unknown>) => (r.content as { text: string }[])[0].text;

function slowServer(name: string, gate?: Promise<void>) {
  const server = new McpServer({ name, version: "1.0.0" });
  server.registerTool("work", { inputSchema: { n: z.number() } }, async ({ n }) => {
    await gate;
    return { content: [{ type: "text", text: `${name}:${n}` }] };
  });
  return server;
}

Deno.test("offerTools() enforces an allow function and the per-member concurrency limit", async () => {
  const [ada, bob, cyd] = ["Ada", "Bob", "Cyd"].map((n) => new FakeMember(n));
  mesh(ada, bob, cyd);
  const gate = Promise.withResolvers<void>();
  const offer = await offerTools(ada.asMeeting(), slowServer("Ada", gate.promise), {
    allow: (tool, peerId) => tool === "work" && peerId === bob.self.peerId,
    maxConcurrentPerPeer: 1,
  });
  const bobTools = meetingTools(bob.asMeeting());
  const cydTools = meetingTools(cyd.asMeeting());
  await bobTools.waitFor("work", { timeoutMs: 2000 });
  assertEquals(cydTools.list(), []);
  const client = await bobTools.connect(ada.self.peerId);
  const first = client.callTool({ name: "work", arguments: { n: 1 } });
  const busy = await assertRejects(
    () => client.callTool({ name: "work", arguments: { n: 2 } }),
    McpError,
  );
  assertStringIncludes(busy.message, "Too many requests in progress");
  gate.resolve();
  assertEquals(text(await first), "Ada:1");
  assertEquals(text(await client.callTool({ name: "work", arguments: { n: 3 } })), "Ada:3");
  const cydClient = await cydTools.connect(ada.self.peerId);
  assertEquals((await cydClient.listTools()).tools, []);
  await Promise.all([client.close(), cydClient.close(), bobTools.close(), cydTools.close()]);
  await offer.close();
});

Deno.test("offerTools() announces tools added later, and withdrawing empties the roster", async () => {
  const [ada, bob] = ["Ada", "Bob"].map((n) => new FakeMember(n));
  mesh(ada, bob);
  const server = slowServer("Ada");
  const offer = await offerTools(ada.asMeeting(), server);
  const tools = meetingTools(bob.asMeeting());
  await tools.waitFor("work", { timeoutMs: 2000 });
  server.registerTool("later", { description: "added after the offer" }, () => ({
    content: [{ type: "text", text: "late" }],
  }));
  const [later] = await tools.waitFor("later", { timeoutMs: 2000 });
  assertEquals(later.description, "added after the offer");
  assertEquals(offer.tools.map((t) => t.name).sort(), ["later", "work"]);
  await offer.close();
  assertEquals(tools.list(), []);
  await tools.close();
});

Deno.test("offerTools() answers a result over the message limit with an MCP error", async () => {
  const [ada, bob] = ["Ada", "Bob"].map((n) => new FakeMember(n));
  mesh(ada, bob);
  ada.maxMessageBytes = 2000;
  const server = new McpServer({ name: "big", version: "1.0.0" });
  server.registerTool("big", {}, () => ({ content: [{ type: "text", text: "x".repeat(5000) }] }));
  const offer = await offerTools(ada.asMeeting(), server);
  const tools = meetingTools(bob.asMeeting());
  await tools.waitFor("big", { timeoutMs: 2000 });
  const err = await assertRejects(() => tools.call("big"), McpError);
  assertStringIncludes(err.message, "too large for a meeting message");
  await tools.close();
  await offer.close();
});

Deno.test("MeetingTools.call() fails over when a member goes quiet or its link drops mid-call", async () => {
  const [ada, bob, cyd] = ["Ada", "Bob", "Cyd"].map((n) => new FakeMember(n));
  mesh(ada, bob, cyd);
  const stop = heartbeats(ada, bob, cyd);
  const hang = new Promise<void>(() => {});
  const offers = await Promise.all([
    offerTools(ada.asMeeting(), slowServer("Ada", hang)),
    offerTools(cyd.asMeeting(), slowServer("Cyd")),
  ]);
  const tools = meetingTools(bob.asMeeting());
  try {
    while (tools.filter({ name: "work" }).length < 2) await new Promise((r) => setTimeout(r, 10));
    // Ada is first (equal RTT, earlier in the roster); her tool never answers.
    assertEquals(tools.filter({ name: "work" })[0].memberName, "Ada");
    // 1. Ada's process hangs: nothing heard from her for suspectAfterMs.
    const t0 = performance.now();
    const pending = tools.call("work", { n: 1 }, { suspectAfterMs: 500 });
    await new Promise((r) => setTimeout(r, 50));
    ada.dead = true;
    const quiet = await pending;
    const ms = performance.now() - t0;
    assertEquals([quiet.memberName, text(quiet.result)], ["Cyd", "Cyd:1"]);
    assertEquals(quiet.attempts.map((a) => a.peerId), [ada.self.peerId]);
    assertStringIncludes(quiet.attempts[0].error.message, "nothing heard from Ada");
    assert(ms < 2000, `failover took ${ms} ms`);
    // 2. Ada is back but her link drops while she works.
    ada.dead = false;
    const pending2 = tools.call("work", { n: 2 });
    await new Promise((r) => setTimeout(r, 50));
    bob.links.get(ada.self.peerId)!.state = "reconnecting";
    const dropped = await pending2;
    assertEquals(dropped.memberName, "Cyd");
    assertStringIncludes(dropped.attempts[0].error.message, "is reconnecting");
    // 3. Nobody can answer in time: a ToolCallError naming who was tried.
    cyd.dead = true;
    bob.links.get(ada.self.peerId)!.state = "connected";
    const failed = await assertRejects(
      () => tools.call("work", { n: 3 }, { timeoutMs: 1500, suspectAfterMs: 400 }),
      ToolCallError,
    );
    assertEquals(failed.attempts.length >= 1, true);
    // 4. The caller's AbortSignal wins over everything.
    cyd.dead = false;
    const abort = new AbortController();
    const aborted = tools.call("work", { n: 4 }, { signal: abort.signal, peerId: ada.self.peerId });
    abort.abort(new Error("caller gave up"));
    await assertRejects(() => aborted, Error, "caller gave up");
  } finally {
    stop();
    await tools.close();
    ada.dead = cyd.dead = false;
    await Promise.all(offers.map((o) => o.close()));
  }
});
