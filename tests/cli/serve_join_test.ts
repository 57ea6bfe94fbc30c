/**
 * `meshmeet serve --http` and two `meshmeet join` processes: they meet, exchange messages
 * typed on stdin and sent through a join's control API, the serve's API looks the topic up
 * and joins a third participant, debug logs never show the code or the token, and every
 * process ends cleanly (by /quit, by leaving through the API, by SIGTERM).
 */
import { assert, assertEquals, assertExists, assertFalse, assertStringIncludes } from "@std/assert";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { generateInvitationCode, normalizeInvitationCode } from "../../mod.ts";
import { CliProcess, scrapeMetrics } from "./_cli.ts";

const JOIN = ["--bind-address", "127.0.0.1", "--json"];

Deno.test("meshmeet serve --http and two meshmeet join processes exchange messages", async () => {
  const procs: CliProcess[] = [];
  try {
    const serve = new CliProcess("serve", ["serve", "--http", "127.0.0.1:0", "--json"]);
    procs.push(serve);
    const listening = await serve.waitForEvent((e) => e.event === "listening", "addresses");
    const serveHttp = await serve.waitForEvent((e) => e.event === "http", "the API URL");
    const addresses = listening.addresses as string[];
    const bootstrap = addresses.find((a) => a.includes("/ws/"))!;
    const serveUrl = serveHttp.url as string;
    const serveToken = serveHttp.token as string;
    assert(serveUrl.startsWith("http://127.0.0.1:"), serveUrl);
    assert(serveToken.length >= 16);

    const code = generateInvitationCode();
    const ada = new CliProcess(
      "ada",
      ["join", code, "--name", "Ada", "--bootstrap", bootstrap, "--http", "0", ...JOIN],
      { MESHMEET_DEBUG: "meshmeet:*" },
    );
    const bob = new CliProcess("bob", [
      "join",
      code,
      "--name",
      "Bob",
      "--bootstrap",
      bootstrap,
      ...JOIN,
    ]);
    procs.push(ada, bob);
    const adaHttp = await ada.waitForEvent((e) => e.event === "http", "Ada's API");
    const adaUrl = adaHttp.url as string;
    const adaAuth = { Authorization: `Bearer ${adaHttp.token}` };
    const joined = await ada.waitForEvent((e) => e.event === "joined", "Ada to join");
    const topicId = joined.topicId as string;
    await ada.waitForEvent((e) => e.event === "peer:join" && e.name === "Bob", "Ada to meet Bob");
    await bob.waitForEvent((e) => e.event === "peer:join" && e.name === "Ada", "Bob to meet Ada");

    // Typed on Bob's terminal, received by Ada.
    await bob.type("hello from Bob");
    const heard = await ada.waitForEvent((e) => e.event === "message", "Ada to get Bob's line");
    assertEquals([heard.name, heard.text], ["Bob", "hello from Bob"]);
    const sent = await bob.waitForEvent((e) => e.event === "sent", "Bob's delivery report");
    assertEquals((sent.delivered as string[]).length, 1);

    // Through Ada's control API: her meeting, then a message to Bob.
    const meeting = await (await fetch(`${adaUrl}/meetings/${topicId}`)).json();
    assertEquals(meeting.participants.map((p: { name: string }) => p.name), ["Bob"]);
    assertEquals(meeting.participants[0].path, "direct");
    const res = await fetch(`${adaUrl}/meetings/${topicId}/messages`, {
      method: "POST",
      headers: { ...adaAuth, "Content-Type": "application/json" },
      body: JSON.stringify({ to: "Bob", text: "hi Bob, via Ada's API" }),
    });
    assertEquals((await res.json()).delivered.length, 1);
    const viaApi = await bob.waitForEvent(
      (e) => e.event === "message" && e.text === "hi Bob, via Ada's API",
      "Bob to get the API message",
    );
    assertEquals(viaApi.name, "Ada");

    // The serve process: what its DHT knows, its metrics, and a join for a local app.
    const lookup = await (await fetch(`${serveUrl}/topics/${topicId}`)).json();
    assertEquals(lookup.providers.length, 2, JSON.stringify(lookup));
    assert(lookup.providers.every((p: { record: { present: boolean } }) => p.record.present));
    const metrics = parsePrometheusTextFormat(await (await fetch(`${serveUrl}/metrics`)).text());
    const routing = metrics.find((f: { name: string }) =>
      f.name === "meshmeet_dht_routing_table_size"
    );
    assertEquals(routing.metrics[0].labels, { node: "bootstrap", mode: "server" });
    const value = await scrapeMetrics(serveUrl);
    assertEquals(value("meshmeet_relay_reservations"), 2); // Ada's and Bob's
    assert(value("process_resident_memory_bytes") > 20 * 2 ** 20);
    assert(value("meshmeet_heap_used_bytes") > 2 ** 20);
    assert(value("process_open_fds") > 3 && value("meshmeet_process_threads") > 1);
    const opJoin = await fetch(`${serveUrl}/meetings`, {
      method: "POST",
      headers: { Authorization: `Bearer ${serveToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ code, name: "Op" }),
    });
    assertEquals(opJoin.status, 201, await opJoin.clone().text());
    assertFalse((await opJoin.text()).includes(code));
    await ada.waitForEvent((e) => e.event === "peer:join" && e.name === "Op", "Ada to meet Op");

    // Bob quits from his terminal: Ada sees him leave at once.
    await bob.type("/quit");
    const bobStatus = await bob.status;
    assertEquals(bobStatus.code, 0, bob.stderr);
    assertExists(bob.events.find((e) => e.event === "left"));
    const left = await ada.waitForEvent(
      (e) => e.event === "peer:leave" && e.name === "Bob",
      "Bob's leave",
    );
    assertEquals(left.reason, "left");

    // Ada leaves through her own API: her process ends by itself.
    const leave = await fetch(`${adaUrl}/meetings/${topicId}`, {
      method: "DELETE",
      headers: adaAuth,
    });
    assertEquals(await leave.json(), { topicId, left: true });
    const adaStatus = await ada.status;
    assertEquals(adaStatus.code, 0, ada.stderr);

    // Debug logs were on for Ada, and never showed the code or the API token.
    assertStringIncludes(ada.stderr, "meshmeet:rendezvous");
    assertStringIncludes(ada.stderr, "meshmeet:http");
    for (const secret of [code, normalizeInvitationCode(code), String(adaHttp.token)]) {
      assertFalse(ada.stderr.includes(secret), "a secret reached the log");
      for (const p of [bob, serve]) assertFalse(p.stderr.includes(code));
    }

    const serveStatus = await serve.stop();
    assertEquals(serveStatus.code, 0, serve.stderr);
    assertExists(serve.events.find((e) => e.event === "stopped"));
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
});
