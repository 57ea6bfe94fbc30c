/**
 * The control API over a real socket with real meetings behind it: a bootstrap node, a
 * participant joined through `POST /meetings`, another joined directly, messages both ways,
 * the event stream, the topic lookup through the DHT, metrics, and leaving.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertFalse,
  assertGreater,
  assertStringIncludes,
} from "@std/assert";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { createControlApi, serveControlApi } from "../../src/http/mod.ts";
import {
  cleanup,
  joinLoopback,
  ownAddresses,
  recordEvents,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";

const TOKEN = crypto.randomUUID();

/** Read server-sent events from a fetch response into an array, until the body ends. */
function collectEvents(res: Response): {
  events: { event: string; data: Record<string, unknown> }[];
  done: Promise<void>;
} {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const done = (async () => {
    let buffer = "";
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  return { events, done };
}

Deno.test("createControlApi() over a real socket: join, participants, send, events, lookup, metrics, leave", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings = new Map<string, Meeting>();
  const others: Meeting[] = [];
  const api = createControlApi({
    bootstrap: boot,
    meetings,
    join: (code, options) => joinLoopback(code, boot, options),
  }, { token: TOKEN, events: true });
  const server = await serveControlApi(api, { port: 0 });
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const url = (path: string) => `${server.url}${path}`;
  let stream: ReturnType<typeof collectEvents> | undefined;
  try {
    assertEquals(server.hostname, "127.0.0.1");
    const status = await (await fetch(url("/status"))).json();
    assertEquals(status.node.peerId, boot.peerId);
    assertEquals(status.node.dht.mode, "server");

    const eventsRes = await fetch(url("/events"), { headers: auth });
    assertEquals(eventsRes.status, 200);
    stream = collectEvents(eventsRes);

    // Ada joins through the API; the code goes in and never comes back out.
    const code = generateInvitationCode();
    const joinRes = await fetch(url("/meetings"), {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ code, name: "Ada" }),
    });
    const joinText = await joinRes.text();
    assertEquals(joinRes.status, 201, joinText);
    assertFalse(joinText.includes(code));
    const { topicId, self: ada } = JSON.parse(joinText);
    assertExists(meetings.get(topicId));

    const bob = await joinLoopback(code, boot, { name: "Bob" });
    others.push(bob);
    const bobReceived = recordEvents(bob, ["message", "peer:leave"]);
    await waitUntil(
      () => stream!.events.some((e) => e.event === "peer:join" && e.data.name === "Bob"),
      "the event stream to report Bob's join",
      30_000,
    );

    const meeting = await (await fetch(url(`/meetings/${topicId}`))).json();
    assertEquals(meeting.participants.length, 1);
    const p = meeting.participants[0];
    assertEquals([p.peerId, p.name, p.state, p.path], [
      bob.self.peerId,
      "Bob",
      "connected",
      "direct",
    ]);
    // libwebrtc cannot bind ICE to one address (see ownAddresses()): a host pair on this host.
    assertEquals(p.selectedCandidatePair.local.type, "host");
    assert(ownAddresses().has(p.selectedCandidatePair.local.address), "a local address");
    assertEquals(p.ice.connectionState, "connected");
    assertEquals(typeof p.lastSeen, "number");

    // Ada → Bob through the API, acknowledged.
    const sendRes = await fetch(url(`/meetings/${topicId}/messages`), {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ to: "Bob", text: "hello Bob, from the API" }),
    });
    assertEquals(await sendRes.json(), { delivered: [bob.self.peerId], failed: [] });
    await waitUntil(() => bobReceived.some((e) => e.type === "message"), "Bob to get it");
    const got = bobReceived.find((e) => e.type === "message")!.detail as { text?: string };
    assertEquals(got.text, "hello Bob, from the API");

    // Bob → Ada shows up on the event stream.
    await bob.send(ada.peerId, { greeting: "hi Ada" });
    await waitUntil(
      () => stream!.events.some((e) => e.event === "message" && e.data.from === bob.self.peerId),
      "the event stream to carry Bob's message",
    );
    const message = stream.events.find((e) => e.event === "message")!;
    assertEquals(message.data, {
      topicId,
      from: bob.self.peerId,
      name: "Bob",
      channel: 0,
      json: { greeting: "hi Ada" },
    });

    // What the DHT knows: both announced, records present, nothing readable.
    const lookupRes = await fetch(url(`/topics/${topicId}`));
    const lookupText = await lookupRes.text();
    assertEquals(lookupRes.status, 200, lookupText);
    const lookup = JSON.parse(lookupText);
    assertEquals(
      lookup.providers.map((x: { peerId: string }) => x.peerId).sort(),
      [ada.peerId, bob.self.peerId].sort(),
    );
    for (const provider of lookup.providers) {
      assert(provider.record.present, JSON.stringify(provider));
      assert(provider.record.valid);
      assertFalse(provider.record.expired);
      assertGreater(provider.record.expiresAt, Date.now());
    }
    for (const secret of ["Ada", "Bob", code]) assertFalse(lookupText.includes(secret), secret);

    // Metrics of the live meeting, read by a Prometheus parser.
    const metricsText = await (await fetch(url("/metrics"))).text();
    const families: {
      name: string;
      metrics: {
        value?: string;
        labels?: Record<string, string>;
        buckets?: Record<string, string>;
      }[];
    }[] = parsePrometheusTextFormat(metricsText);
    const family = (name: string) => families.find((f) => f.name === name)!;
    const topic = topicId.slice(0, 12);
    const value = (name: string, labels: Record<string, string>) =>
      Number(
        family(name).metrics.find((m) =>
          Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
        )?.value,
      );
    assertEquals(value("meshmeet_participants", { topic, state: "connected", path: "direct" }), 1);
    assertEquals(value("meshmeet_messages_sent_total", { topic }), 1);
    assertEquals(value("meshmeet_messages_received_total", { topic }), 1);
    assertGreater(value("meshmeet_message_bytes_received_total", { topic }), 0);
    assertGreater(value("meshmeet_webrtc_bytes_total", { topic, direction: "out" }), 0);
    assertGreater(value("meshmeet_webrtc_bytes_total", { topic, direction: "in" }), 0);
    assertGreater(value("meshmeet_dht_lookups_total", { topic }), 0);
    assertEquals(family("meshmeet_peer_connect_seconds").metrics[0].buckets?.["+Inf"], "1");
    assertStringIncludes(
      metricsText,
      'meshmeet_dht_query_duration_seconds_count{query="find_providers"',
    );

    // Leaving through the API: Bob sees Ada go at once, the stream says so.
    const leaveRes = await fetch(url(`/meetings/${topicId}`), { method: "DELETE", headers: auth });
    assertEquals(await leaveRes.json(), { topicId, left: true });
    assertFalse(meetings.has(topicId));
    await waitUntil(() => bobReceived.some((e) => e.type === "peer:leave"), "Bob to see Ada leave");
    await waitUntil(
      () => stream!.events.some((e) => e.event === "meeting:leave"),
      "the stream to report the leave",
    );
  } finally {
    await server.close();
    await stream?.done.catch(() => {});
    await cleanup([...meetings.values(), ...others], [boot]);
  }
});
