/**
 * `meshmeet lookup` as a subprocess: by code through a bootstrap node (the code turned into
 * a topic id locally), and by topic id through a control API.
 */
import { assert, assertEquals, assertFalse, assertStringIncludes } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import { cleanup, joinLoopback, startLoopbackBootstrap } from "../integration/_harness.ts";
import { runCli } from "./_cli.ts";

Deno.test("meshmeet lookup shows who announced under a topic, by code or by topic id", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  try {
    const code = generateInvitationCode();
    meetings.push(
      ...await Promise.all([
        joinLoopback(code, boot, { name: "Ada" }),
        joinLoopback(code, boot, { name: "Bob" }),
      ]),
    );
    const topicId = meetings[0].topicId;
    const peers = meetings.map((m) => m.self.peerId).sort();
    const address = boot.addresses.find((a) => a.includes("/ws/"))!;

    const byCode = await runCli(["lookup", code, "--bootstrap", address, "--json"]);
    assertEquals(byCode.code, 0, byCode.stderr);
    const result = JSON.parse(byCode.stdout);
    assertEquals(result.topicId, topicId);
    assertEquals(result.providers.map((p: { peerId: string }) => p.peerId).sort(), peers);
    for (const p of result.providers) assert(p.record.present && p.record.valid, JSON.stringify(p));
    for (const text of [byCode.stdout, byCode.stderr]) {
      assertFalse(text.includes(code), "the code was printed");
      assertFalse(text.includes("Ada"), "a name was readable");
    }

    await using server = await serveControlApi(createControlApi(boot), { port: 0 });
    const byTopic = await runCli(["lookup", topicId, "--api", server.url]);
    assertEquals(byTopic.code, 0, byTopic.stderr);
    assertStringIncludes(byTopic.stdout, `topic ${topicId}`);
    assertStringIncludes(byTopic.stdout, "2 participant(s) announced");
    for (const peer of peers) assertStringIncludes(byTopic.stdout, `${peer}  record seq`);
    assertStringIncludes(byTopic.stderr, `asking ${server.url}`);
  } finally {
    await cleanup(meetings, [boot]);
  }
});
