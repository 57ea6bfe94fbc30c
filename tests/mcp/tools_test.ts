// MCP tools over real meeting links: a member offers tools with the official SDK's McpServer,
// two others find them in the roster and call them (routed calls and plain SDK Clients), the
// owner's allow list holds, bad input gets an MCP error, and a non-member reaches nothing.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { McpError, McpServer } from "../../src/mcp/_sdk.ts";
import { z } from "zod";
import {
  generateInvitationCode,
  type Meeting,
  MembershipProofError,
  PeerNotFoundError,
} from "../../mod.ts";
import { MCP_CHANNEL, meetingTools, offerTools, ToolNotFoundError } from "../../src/mcp/mod.ts";
import {
  cleanup,
  joinAll,
  joinLoopback,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";

function translator(): McpServer {
  const server = new McpServer({ name: "translator", version: "1.0.0" });
  server.registerTool("translate", {
    description: "Translate a text",
    inputSchema: { text: z.string(), to: z.string().length(2) },
  }, ({ text, to }, extra) => ({
    content: [{ type: "text", text: `${text}@${to} for ${extra.authInfo?.clientId}` }],
  }));
  server.registerTool("secret", { inputSchema: { q: z.string() } }, ({ q }) => ({
    content: [{ type: "text", text: `secret:${q}` }],
  }));
  return server;
}

const text = (r: Record<string, unknown>) =>
  (r.content as { type: string; text: string }[])[0].text;

Deno.test("offerTools()/meetingTools(): members list and call a member's tools over meeting links; a non-member cannot", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  try {
    const code = generateInvitationCode();
    const [ada, bob, cyd] = await joinAll(code, boot, ["Ada", "Bob", "Cyd"]);
    meetings.push(ada, bob, cyd);
    await waitUntil(
      () =>
        [ada, bob, cyd].every((m) =>
          m.participants.filter((p) => p.state === "connected").length === 2
        ),
      "a full mesh of three",
      40_000,
    );
    const bobId = bob.self.peerId;
    const offer = await offerTools(ada, translator(), { allow: { secret: [bobId] } });
    assertEquals(offer.tools.map((t) => t.name).sort(), ["secret", "translate"]);

    // Discovery from the roster: no call needed, and Cyd does not see the tool kept for Bob.
    const bobTools = meetingTools(bob);
    const cydTools = meetingTools(cyd);
    await bobTools.waitFor("secret", { timeoutMs: 10_000 });
    await cydTools.waitFor("translate", { timeoutMs: 10_000 });
    assertEquals(bobTools.list().map((t) => t.name).sort(), ["secret", "translate"]);
    assertEquals(cydTools.list().map((t) => t.name), ["translate"]);
    const [entry] = cydTools.filter({ accepts: ["text", "to"] });
    assertEquals(entry.peerId, ada.self.peerId);
    assertEquals(entry.memberName, "Ada");
    assertEquals(entry.description, "Translate a text");
    assertEquals(entry.digest, bobTools.filter({ name: "translate" })[0].digest);
    assertEquals(entry.digest.length, 16);
    assertEquals(cydTools.filter({ accepts: ["nope"] }), []);
    assertEquals(cydTools.filter({ name: /^trans/ }).length, 1);

    // Routed calls from two members at once; the tool sees who called.
    const [fromBob, fromCyd] = await Promise.all([
      bobTools.call("translate", { text: "hallo", to: "en" }),
      cydTools.call("translate", { text: "hoi", to: "en" }, { timeoutMs: 15_000 }),
    ]);
    assertEquals(text(fromBob.result), `hallo@en for ${bobId}`);
    assertEquals(fromBob.peerId, ada.self.peerId);
    assertEquals(fromBob.memberName, "Ada");
    assertEquals(fromBob.attempts, []);
    assertEquals(text(fromCyd.result), `hoi@en for ${cyd.self.peerId}`);
    assertEquals(text((await bobTools.call("secret", { q: "x" })).result), "secret:x");

    // The allow list holds below the server: Cyd's routed call finds nobody, and a direct
    // SDK client gets an MCP error and does not see the tool in tools/list.
    await assertRejects(() => cydTools.call("secret", { q: "x" }), ToolNotFoundError);
    const cydClient = await cydTools.connect(ada.self.peerId);
    try {
      assertEquals((await cydClient.listTools()).tools.map((t) => t.name), ["translate"]);
      const denied = await assertRejects(
        () => cydClient.callTool({ name: "secret", arguments: { q: "x" } }),
        McpError,
      );
      assert(denied.message.includes("not offered to"), denied.message);
      // Bad input: an MCP error result, and Ada's server keeps answering.
      const bad = await cydClient.callTool({
        name: "translate",
        arguments: { text: 5, to: "eng" },
      });
      assertEquals(bad.isError, true);
      assert(text(bad).includes("validation"), text(bad));
      const unknown = await cydClient.callTool({ name: "nope", arguments: {} });
      assertEquals(unknown.isError, true);
      const ok = await cydClient.callTool({
        name: "translate",
        arguments: { text: "a", to: "de" },
      });
      assertEquals(text(ok), `a@de for ${cyd.self.peerId}`);
    } finally {
      await cydClient.close();
    }

    // Garbage on the MCP channel is dropped; Ada still answers afterwards.
    await bob.send(ada.self.peerId, { t: "rpc", s: "x", d: "c2s", m: "junk" }, {
      channel: MCP_CHANNEL,
    });
    await bob.send(ada.self.peerId, "not an envelope", { channel: MCP_CHANNEL });
    assertEquals(
      text((await bobTools.call("translate", { text: "b", to: "fr" })).result),
      `b@fr for ${bobId}`,
    );

    // A non-member (another code, same bootstrap) sees no tools, cannot open a session, and
    // cannot become a participant by dialing Ada: the membership proof fails.
    const eve = await joinLoopback(generateInvitationCode(), boot, { name: "Eve" });
    meetings.push(eve);
    const eveTools = meetingTools(eve);
    assertEquals(eveTools.list(), []);
    await assertRejects(
      () => eveTools.call("translate", { text: "x", to: "en" }),
      ToolNotFoundError,
    );
    await assertRejects(() => eveTools.connect(ada.self.peerId), PeerNotFoundError);
    const adaAddress = ada.self.addresses.find((a) => a.includes("/p2p-circuit"));
    assert(adaAddress, "Ada has a relay address");
    // A first dial can time out before any handshake (see the contract suite): retry those.
    let refused: Error | undefined;
    for (let i = 0; i < 3; i++) {
      refused = await eve.connect(adaAddress).then(() => undefined, (err) => err);
      if (!/Timeout|ConnectionFailed/.test(refused?.name ?? "")) break;
    }
    assert(
      refused instanceof MembershipProofError,
      `expected MembershipProofError, got ${refused}`,
    );
    assertEquals(eveTools.list(), []);
    await assertRejects(() => eveTools.connect(ada.self.peerId), PeerNotFoundError);

    // Withdrawing the offer empties the others' view.
    await offer.close();
    await waitUntil(
      () => bobTools.list().length === 0 && cydTools.list().length === 0,
      "offer withdrawn",
      10_000,
    );
    await assertRejects(
      () => bobTools.call("translate", { text: "x", to: "en" }),
      ToolNotFoundError,
    );
    await Promise.all([bobTools.close(), cydTools.close(), eveTools.close()]);
  } finally {
    await cleanup(meetings, [boot]);
  }
});
