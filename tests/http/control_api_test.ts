/**
 * In-memory tests of the control API (`app.request()`): every endpoint, auth, bad input,
 * unknown ids, limits. Meetings are fakes (see `_fake_meeting.ts`); a real bootstrap node
 * backs the status and topic-lookup tests.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertFalse,
  assertLess,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { BootstrapError, InvalidInvitationCodeError } from "../../src/errors.ts";
import {
  type ControlApiOptions,
  type ControlNode,
  createControlApi,
  VERSION,
} from "../../src/http/mod.ts";
import type { Meeting } from "../../src/meeting.ts";
import { deriveTopicKeys } from "../../src/topic.ts";
import { startLoopbackBootstrap } from "../integration/_harness.ts";
import { FakeMeeting, participant, PEER_BOB, PEER_CYD, TOPIC_A, TOPIC_B } from "./_fake_meeting.ts";

const TOKEN = "test-token-0123456789";
const CODE = "maple-harbor-sunset-meadow-pilot-4821";
const auth = { Authorization: `Bearer ${TOKEN}` };
const jsonAuth = { ...auth, "Content-Type": "application/json" };

interface Fixture {
  a: FakeMeeting;
  b: FakeMeeting;
  node: ControlNode;
  joins: { code: string; name?: string }[];
  api: ReturnType<typeof createControlApi>;
}

function setup(options: ControlApiOptions = { token: TOKEN, events: true }): Fixture {
  const a = new FakeMeeting(TOPIC_A);
  a.participants = [participant(PEER_BOB, "Bob"), participant(PEER_CYD, "Cyd", { rtt: 3 })];
  const b = new FakeMeeting(TOPIC_B);
  const joins: { code: string; name?: string }[] = [];
  const node: ControlNode = {
    meetings: new Map<string, Meeting>([[TOPIC_A, a.asMeeting()], [TOPIC_B, b.asMeeting()]]),
    join: async (code, opts) => {
      joins.push({ code, name: opts.name });
      if (code.startsWith("unreachable")) {
        throw new BootstrapError("Cannot join meeting: no bootstrap node answered");
      }
      return new FakeMeeting((await deriveTopicKeys(code)).topicId, opts.name).asMeeting();
    },
  };
  return { a, b, node, joins, api: createControlApi(node, options) };
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  assertMatch(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assertExists(body.error, `expected { error } in ${JSON.stringify(body)}`);
  assertEquals(typeof body.error.code, "string");
  assertEquals(typeof body.error.message, "string");
  return body.error;
}

async function expectError(
  res: Response | Promise<Response>,
  status: number,
  code: string,
): Promise<string> {
  const r = await res;
  const error = await errorOf(r);
  assertEquals([r.status, error.code], [status, code], error.message);
  return error.message;
}

// ---- index, status, meetings ------------------------------------------------------------

Deno.test("createControlApi() GET / links the OpenAPI document and the docs page", async () => {
  const { api } = setup();
  const res = await api.request("/");
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.openapi, "/openapi.json");
  assertEquals(body.docs, "/docs");
});

Deno.test("createControlApi() GET /status lists meetings and never shows ICE credentials", async () => {
  const { api } = setup();
  const res = await api.request("/status");
  assertEquals(res.status, 200);
  const text = await res.text();
  assertFalse(text.includes("hunter2"), "TURN credential leaked");
  assertFalse(text.includes('"username"'), "TURN username leaked");
  const status = JSON.parse(text);
  assertEquals(status.version, VERSION);
  assertMatch(status.runtime, /^deno /);
  assertEquals(status.node, null);
  assertEquals(status.canJoin, true);
  assertEquals(status.events, true);
  assertEquals(status.meetings.map((m: { topicId: string }) => m.topicId), [TOPIC_A, TOPIC_B]);
  const a = status.meetings[0];
  assertEquals(a.participantCount, 2);
  assertEquals(a.self.publicAddress, "203.0.113.7:5000");
  assertEquals(a.self.stun, {
    status: "ok",
    address: "203.0.113.7:5000",
    server: "127.0.0.1:3478",
  });
  assertEquals(a.self.iceServers, ["stun:127.0.0.1:3478", "turn:127.0.0.1:3478"]);
  assertEquals(a.dht, { mode: "client", routingTableSize: 1 });
  assert(status.uptimeSeconds >= 0);
});

Deno.test("createControlApi() GET /status of a bootstrap node shows its DHT server", async () => {
  await using boot = await startLoopbackBootstrap();
  const api = createControlApi(boot);
  const status = await (await api.request("/status")).json();
  assertEquals(status.node.role, "bootstrap");
  assertEquals(status.node.peerId, boot.peerId);
  assertEquals(status.node.dht.mode, "server");
  assertEquals(typeof status.node.dht.routingTableSize, "number");
  assert(status.node.addresses.length >= 1);
  assertEquals(status.node.publicAddresses, [], "loopback addresses are not public");
  assertEquals(status.meetings, []);
  assertEquals(status.canJoin, false);
});

Deno.test("createControlApi() GET /meetings and /meetings/{topicId} show participants", async () => {
  const { api } = setup();
  const list = await (await api.request("/meetings")).json();
  assertEquals(list.length, 2);
  const res = await api.request(`/meetings/${TOPIC_A}`);
  assertEquals(res.status, 200);
  const m = await res.json();
  assertEquals(m.topicId, TOPIC_A);
  assertEquals(m.participants.length, 2);
  const bob = m.participants[0];
  assertEquals(bob.name, "Bob");
  assertEquals(bob.state, "connected");
  assertEquals(bob.path, "direct");
  assertEquals(bob.selectedCandidatePair.local.type, "host");
  assertEquals(bob.rtt, 1.5);
  assertEquals(typeof bob.lastSeen, "number");
  assertEquals(bob.ice, null, "a fake has no peer connection");
  assertEquals(m.stats.reconnects, 2);
});

Deno.test("createControlApi() GET /meetings/{topicId} answers 404 for an unknown meeting", async () => {
  const { api } = setup();
  const message = await expectError(
    api.request(`/meetings/${"ff".repeat(32)}`),
    404,
    "meeting_not_found",
  );
  assertStringIncludes(message, "ffffffffffff");
});

Deno.test("createControlApi() GET /meetings/{topicId} answers 400 for a malformed topic id", async () => {
  const { api } = setup();
  const message = await expectError(api.request("/meetings/xyz"), 400, "invalid_request");
  assertStringIncludes(message, "topicId");
  assertStringIncludes(message, "64 lower-case hex");
});

Deno.test("createControlApi() forgets a meeting that was left behind its back", async () => {
  const { api, a, node } = setup();
  await a.leave();
  await expectError(api.request(`/meetings/${TOPIC_A}`), 404, "meeting_not_found");
  assertFalse(node.meetings.has(TOPIC_A));
});

Deno.test("createControlApi() GET a participant shows it, 404 for an unknown one", async () => {
  const { api } = setup();
  const res = await api.request(`/meetings/${TOPIC_A}/participants/${PEER_CYD}`);
  assertEquals(res.status, 200);
  assertEquals((await res.json()).rtt, 3);
  await expectError(
    api.request(`/meetings/${TOPIC_A}/participants/12D3KooWNobody`),
    404,
    "participant_not_found",
  );
  await expectError(
    api.request(`/meetings/${TOPIC_A}/participants/not-a-peer-id!`),
    400,
    "invalid_request",
  );
});

// ---- auth --------------------------------------------------------------------------------

const writes: Array<[string, string, string | undefined]> = [
  ["POST", "/meetings", JSON.stringify({ code: CODE })],
  ["DELETE", `/meetings/${TOPIC_A}`, undefined],
  ["POST", `/meetings/${TOPIC_A}/messages`, JSON.stringify({ text: "hi" })],
  ["GET", "/events", undefined],
];

Deno.test("createControlApi() answers 401 with WWW-Authenticate to writes without a token", async () => {
  const { api, a, joins } = setup();
  for (const [method, path, body] of writes) {
    const headers = body ? { "Content-Type": "application/json" } : undefined;
    const res = await api.request(path, { method, headers, body });
    assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="meshmeet"', path);
    await expectError(res, 401, "unauthorized");
  }
  const basic = await api.request("/meetings", {
    method: "POST",
    headers: { Authorization: "Basic dXNlcjpwYXNz", "Content-Type": "application/json" },
    body: JSON.stringify({ code: CODE }),
  });
  await expectError(basic, 401, "unauthorized");
  assertEquals(joins, []);
  assertEquals(a.sent, []);
  assertFalse(a.left);
});

Deno.test("createControlApi() answers 403 to writes with a wrong token", async () => {
  const { api, a, joins } = setup();
  for (const [method, path, body] of writes) {
    const res = await api.request(path, {
      method,
      headers: { Authorization: "Bearer wrong-token", "Content-Type": "application/json" },
      body,
    });
    await expectError(res, 403, "forbidden");
  }
  assertEquals(joins, []);
  assertEquals(a.sent, []);
  assertFalse(a.left);
});

Deno.test("createControlApi() without a token refuses every write with 403", async () => {
  const { api, a } = setup({});
  const res = await api.request(`/meetings/${TOPIC_A}`, { method: "DELETE", headers: auth });
  const message = await expectError(res, 403, "writes_disabled");
  assertStringIncludes(message, "no token configured");
  assertFalse(a.left);
});

Deno.test("createControlApi() lets reads through without a token", async () => {
  const { api } = setup();
  for (const path of ["/", "/status", "/meetings", `/meetings/${TOPIC_A}`, "/metrics"]) {
    assertEquals((await api.request(path)).status, 200, path);
  }
});

// ---- join --------------------------------------------------------------------------------

Deno.test("createControlApi() POST /meetings joins and never returns the code", async () => {
  const { api, joins, node } = setup();
  const res = await api.request("/meetings", {
    method: "POST",
    headers: jsonAuth,
    body: JSON.stringify({ code: CODE, name: "Eve" }),
  });
  assertEquals(res.status, 201);
  const text = await res.text();
  assertFalse(text.includes("harbor"), "the code came back");
  const m = JSON.parse(text);
  const { topicId } = await deriveTopicKeys(CODE);
  assertEquals(m.topicId, topicId);
  assertEquals(m.self.name, "Eve");
  assertEquals(res.headers.get("location"), `/meetings/${topicId}`);
  assertEquals(joins, [{ code: CODE, name: "Eve" }]);
  assert(node.meetings.has(topicId));
});

Deno.test("createControlApi() POST /meetings answers 409 for a meeting it is already in", async () => {
  const { api } = setup();
  const join = () =>
    api.request("/meetings", {
      method: "POST",
      headers: jsonAuth,
      body: JSON.stringify({ code: CODE }),
    });
  assertEquals((await join()).status, 201);
  await expectError(join(), 409, "already_joined");
});

Deno.test("createControlApi() POST /meetings rejects bad bodies with 400/415", async () => {
  const { api, joins } = setup();
  const post = (body: string, headers: Record<string, string> = jsonAuth) =>
    api.request("/meetings", { method: "POST", headers, body });
  assertStringIncludes(
    await expectError(post("{not json"), 400, "invalid_json"),
    "not valid JSON",
  );
  assertStringIncludes(await expectError(post("{}"), 400, "invalid_request"), "code");
  assertStringIncludes(
    await expectError(post(JSON.stringify({ code: 42 })), 400, "invalid_request"),
    "code",
  );
  assertStringIncludes(
    await expectError(post(JSON.stringify({ code: CODE, extra: 1 })), 400, "invalid_request"),
    "extra",
  );
  assertStringIncludes(
    await expectError(
      post(JSON.stringify({ code: CODE, name: "x".repeat(65) })),
      400,
      "invalid_request",
    ),
    "name",
  );
  assertStringIncludes(
    await expectError(post(JSON.stringify([CODE])), 400, "invalid_request"),
    "object",
  );
  assertStringIncludes(
    await expectError(post(JSON.stringify({ code: CODE }), auth), 415, "unsupported_media_type"),
    "application/json",
  );
  assertStringIncludes(
    await expectError(
      post(JSON.stringify({ code: CODE }), { ...auth, "Content-Type": "text/plain" }),
      415,
      "unsupported_media_type",
    ),
    "text/plain",
  );
  assertEquals(joins, []);
});

Deno.test("createControlApi() POST /meetings answers 400 invalid_code without echoing the code", async () => {
  const { api, joins } = setup();
  const secret = "ab";
  const message = await expectError(
    api.request("/meetings", {
      method: "POST",
      headers: jsonAuth,
      body: JSON.stringify({ code: secret }),
    }),
    400,
    "invalid_code",
  );
  assertFalse(message.includes(`"${secret}"`));
  assertEquals(joins, []);
  // The error class the mapping relies on:
  assertEquals(new InvalidInvitationCodeError().name, "InvalidInvitationCodeError");
});

Deno.test("createControlApi() POST /meetings answers 502 when the bootstrap nodes fail", async () => {
  const { api } = setup();
  await expectError(
    api.request("/meetings", {
      method: "POST",
      headers: jsonAuth,
      body: JSON.stringify({ code: "unreachable-harbor-sunset-meadow-pilot-1" }),
    }),
    502,
    "bootstrap_unreachable",
  );
});

Deno.test("createControlApi() POST /meetings answers 405 when the node cannot join", async () => {
  const api = createControlApi({ meetings: new Map() }, { token: TOKEN });
  await expectError(
    api.request("/meetings", {
      method: "POST",
      headers: jsonAuth,
      body: JSON.stringify({ code: CODE }),
    }),
    405,
    "join_unsupported",
  );
});

// ---- leave --------------------------------------------------------------------------------

Deno.test("createControlApi() DELETE /meetings/{topicId} leaves; then the meeting is gone", async () => {
  const { api, a, node } = setup();
  const res = await api.request(`/meetings/${TOPIC_A}`, { method: "DELETE", headers: auth });
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { topicId: TOPIC_A, left: true });
  assert(a.left);
  assertFalse(node.meetings.has(TOPIC_A));
  await expectError(
    api.request(`/meetings/${TOPIC_A}`, { method: "DELETE", headers: auth }),
    404,
    "meeting_not_found",
  );
  await expectError(
    api.request("/meetings/nope", { method: "DELETE", headers: auth }),
    400,
    "invalid_request",
  );
});

// ---- send ---------------------------------------------------------------------------------

function send(api: Fixture["api"], body: unknown, topic = TOPIC_A) {
  return api.request(`/meetings/${topic}/messages`, {
    method: "POST",
    headers: jsonAuth,
    body: JSON.stringify(body),
  });
}

Deno.test("createControlApi() POST messages broadcasts text, JSON and bytes", async () => {
  const { api, a } = setup();
  let res = await send(api, { text: "hello" });
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { delivered: [PEER_BOB, PEER_CYD], failed: [] });
  res = await send(api, { json: { kind: "ping", n: 1 }, channel: 7 });
  assertEquals(res.status, 200);
  res = await send(api, { base64: btoa("\x00\x01\xff") });
  assertEquals(res.status, 200);
  assertEquals(a.sent, [
    { to: "*", data: "hello", channel: 0 },
    { to: "*", data: { kind: "ping", n: 1 }, channel: 7 },
    { to: "*", data: new Uint8Array([0, 1, 255]), channel: 0 },
  ]);
});

Deno.test("createControlApi() POST messages sends to one participant by peer id or name", async () => {
  const { api, a } = setup();
  assertEquals(await (await send(api, { to: "Cyd", text: "hi Cyd" })).json(), {
    delivered: [PEER_CYD],
    failed: [],
  });
  assertEquals((await send(api, { to: PEER_BOB, text: "hi Bob" })).status, 200);
  assertEquals(a.sent.map((s) => s.to), [PEER_CYD, PEER_BOB]);
});

Deno.test("createControlApi() POST messages lists failed deliveries instead of a 5xx", async () => {
  const { api, a } = setup();
  a.unreachable.add(PEER_CYD);
  const one = await (await send(api, { to: PEER_CYD, text: "x" })).json();
  assertEquals(one.delivered, []);
  assertEquals(one.failed[0].peerId, PEER_CYD);
  assertStringIncludes(one.failed[0].error, "did not acknowledge");
  const all = await (await send(api, { text: "x" })).json();
  assertEquals(all.delivered, [PEER_BOB]);
  assertEquals(all.failed.length, 1);
});

Deno.test("createControlApi() POST messages rejects bad bodies and unknown targets", async () => {
  const { api, a } = setup();
  assertStringIncludes(
    await expectError(send(api, { text: "a", json: 1 }), 400, "invalid_request"),
    "exactly one of text, json or base64",
  );
  await expectError(send(api, {}), 400, "invalid_request");
  assertStringIncludes(
    await expectError(send(api, { text: "a", channel: 300 }), 400, "invalid_request"),
    "channel",
  );
  assertStringIncludes(
    await expectError(send(api, { base64: "not base64!" }), 400, "invalid_request"),
    "base64",
  );
  assertStringIncludes(
    await expectError(send(api, { to: "Zed", text: "a" }), 404, "participant_not_found"),
    '"Zed"',
  );
  await expectError(send(api, { text: "a" }, "ee".repeat(32)), 404, "meeting_not_found");
  assertEquals(a.sent, []);
});

Deno.test("createControlApi() POST messages answers 409 for an ambiguous name", async () => {
  const { api, a } = setup();
  a.participants.push(participant("12D3KooWOtherBob", "Bob"));
  await expectError(send(api, { to: "Bob", text: "?" }), 409, "ambiguous_name");
});

Deno.test("createControlApi() answers 413 for a message over the meeting's limit", async () => {
  const { api, a } = setup();
  a.maxMessageBytes = 10;
  await expectError(send(api, { to: "Bob", text: "x".repeat(11) }), 413, "message_too_large");
});

Deno.test("createControlApi() answers 413 for a body over maxBodyBytes", async () => {
  const { api, a } = setup({ token: TOKEN, maxBodyBytes: 1000 });
  await expectError(send(api, { text: "x".repeat(2000) }), 413, "payload_too_large");
  // Also when the body is streamed without a Content-Length.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(JSON.stringify({ text: "y".repeat(5000) })));
      controller.close();
    },
  });
  const res = await api.request(`/meetings/${TOPIC_A}/messages`, {
    method: "POST",
    headers: jsonAuth,
    body,
    duplex: "half",
  } as RequestInit);
  await expectError(res, 413, "payload_too_large");
  assertEquals(a.sent, []);
});

Deno.test("createControlApi() default body limit refuses a 2 MiB body", async () => {
  const { api } = setup();
  await expectError(send(api, { text: "z".repeat(2 * 1024 * 1024) }), 413, "payload_too_large");
});

// ---- topics --------------------------------------------------------------------------------

Deno.test("createControlApi() GET /topics/{topicId} refuses an invitation code", async () => {
  const { api } = setup();
  const message = await expectError(api.request(`/topics/${CODE}`), 400, "invalid_request");
  assertStringIncludes(message, "never an invitation code");
  assertFalse(message.includes("harbor"), "the code was echoed");
});

Deno.test("createControlApi() GET /topics/{topicId} answers 409 without a DHT node", async () => {
  const api = createControlApi({ meetings: new Map() });
  await expectError(api.request(`/topics/${TOPIC_A}`), 409, "no_dht_node");
});

Deno.test("createControlApi() GET /topics/{topicId} asks the bootstrap node's DHT", async () => {
  await using boot = await startLoopbackBootstrap();
  const api = createControlApi(boot);
  const res = await api.request(`/topics/${TOPIC_A}?timeoutMs=3000`);
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.topicId, TOPIC_A);
  assertEquals(body.via, boot.peerId);
  assertMatch(body.cid, /^b/);
  assertEquals(body.providers, []);
  await expectError(api.request(`/topics/${TOPIC_A}?timeoutMs=5`), 400, "invalid_request");
  await expectError(api.request(`/topics/${TOPIC_A}?timeoutMs=abc`), 400, "invalid_request");
});

// ---- events --------------------------------------------------------------------------------

async function* sseEvents(res: Response): AsyncGenerator<{ event: string; data: unknown }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let i;
      while ((i = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data !== undefined) yield { event, data: JSON.parse(data) };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

Deno.test("createControlApi() GET /events streams joins, states, messages and leaves", async () => {
  const { api, a, b } = setup();
  const res = await api.request(`/events?topic=${TOPIC_A}`, { headers: auth });
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const events = sseEvents(res);
  const next = async () => (await events.next()).value!;
  assertEquals((await next()).event, "ready");
  const joined = await next();
  assertEquals(joined.event, "meeting:join");
  assertEquals((joined.data as { topicId: string }).topicId, TOPIC_A);
  b.emit("message", {
    from: PEER_BOB,
    name: "Bob",
    data: "other meeting",
    text: undefined,
    channel: 0,
  });
  a.emit("peer:join", participant("12D3KooWDan", "Dan"));
  a.emit("connection:state", { peerId: "12D3KooWDan", state: "reconnecting", path: undefined });
  a.emit("message", { from: PEER_BOB, name: "Bob", data: { n: 1 }, text: undefined, channel: 2 });
  a.emit("message", {
    from: PEER_BOB,
    name: "Bob",
    data: new Uint8Array([1, 2]),
    text: undefined,
    channel: 0,
  });
  a.emit("peer:leave", { peerId: "12D3KooWDan", name: "Dan", reason: "timeout" });
  a.emit("connection:failed", {
    peerId: "12D3KooWEve",
    name: "Eve",
    error: new Error("Cannot connect to 12D3KooWEve: direct, turn and relay failed"),
  });
  const got = [await next(), await next(), await next(), await next(), await next(), await next()];
  assertEquals(got.map((e) => e.event), [
    "peer:join",
    "connection:state",
    "message",
    "message",
    "peer:leave",
    "connection:failed",
  ]);
  assertEquals(got[5].data, {
    topicId: TOPIC_A,
    peerId: "12D3KooWEve",
    name: "Eve",
    error: "Cannot connect to 12D3KooWEve: direct, turn and relay failed",
  });
  assertEquals((got[0].data as { name: string }).name, "Dan");
  assertEquals(got[2].data, {
    topicId: TOPIC_A,
    from: PEER_BOB,
    name: "Bob",
    channel: 2,
    json: { n: 1 },
  });
  assertEquals((got[3].data as { base64: string }).base64, "AQI=");
  assertEquals((got[4].data as { reason: string }).reason, "timeout");
  // Leaving through the API ends that meeting's events.
  await api.request(`/meetings/${TOPIC_A}`, { method: "DELETE", headers: auth });
  assertEquals((await next()).event, "meeting:leave");
  api.close();
  assertEquals((await events.next()).done, true, "close() ends the stream");
});

Deno.test("createControlApi() GET /events filters by type and rejects unknown types", async () => {
  const { api, a } = setup();
  await expectError(
    api.request("/events?types=peer:join,bogus", { headers: auth }),
    400,
    "invalid_request",
  );
  await expectError(api.request("/events?topic=abc", { headers: auth }), 400, "invalid_request");
  const res = await api.request("/events?types=message", { headers: auth });
  const events = sseEvents(res);
  assertEquals((await events.next()).value!.event, "ready");
  a.emit("peer:leave", { peerId: PEER_BOB, name: "Bob", reason: "left" });
  a.emit("message", { from: PEER_CYD, name: "Cyd", data: "hi", text: "hi", channel: 0 });
  const e = (await events.next()).value!;
  assertEquals(e.event, "message");
  assertEquals((e.data as { text: string }).text, "hi");
  await events.return(undefined);
  api.close();
});

Deno.test("createControlApi() GET /events is off unless enabled", async () => {
  const { api } = setup({ token: TOKEN });
  const message = await expectError(
    api.request("/events", { headers: auth }),
    404,
    "events_disabled",
  );
  assertStringIncludes(message, "--events");
});

// ---- metrics, OpenAPI, docs, CORS, errors ------------------------------------------------

interface PromFamily {
  name: string;
  type: string;
  metrics: Array<
    {
      value?: string;
      labels?: Record<string, string>;
      buckets?: Record<string, string>;
      count?: string;
    }
  >;
}

Deno.test("createControlApi() GET /metrics is Prometheus text that a parser reads", async () => {
  const { api, a } = setup();
  a.emit(
    "peer:join",
    participant("12D3KooWDan", "Dan", { discoveredAt: 1_000_000, connectedAt: 1_000_300 }),
  );
  a.emit("message", { from: PEER_BOB, name: "Bob", data: "hello", text: "hello", channel: 0 });
  a.emit("connection:failed", { peerId: "12D3KooWEve", name: "Eve", error: new Error("x") });
  await api.request("/status");
  const res = await api.request("/metrics");
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const families: PromFamily[] = parsePrometheusTextFormat(await res.text());
  const family = (name: string) => {
    const f = families.find((x) => x.name === name);
    assertExists(f, `no ${name} in ${families.map((x) => x.name).join(", ")}`);
    return f;
  };
  const sample = (name: string, labels: Record<string, string>) =>
    family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  const topic = TOPIC_A.slice(0, 12);
  assertEquals(family("meshmeet_info").metrics[0].labels?.version, VERSION);
  assertEquals(sample("meshmeet_meetings", {})?.value, "2");
  assertEquals(sample("meshmeet_reconnects_total", { topic })?.value, "2");
  assertEquals(sample("meshmeet_handshake_failures_total", { topic })?.value, "1");
  assertEquals(sample("meshmeet_messages_sent_total", { topic })?.value, "7");
  assertEquals(sample("meshmeet_messages_received_total", { topic })?.value, "5");
  assertEquals(sample("meshmeet_message_bytes_received_total", { topic })?.value, "6");
  assertEquals(sample("meshmeet_dht_lookups_total", { topic })?.value, "4");
  assertEquals(sample("meshmeet_connection_failures_total", { topic })?.value, "1");
  assertEquals(sample("meshmeet_dht_records_total", { topic, result: "rejected" })?.value, "1");
  assertEquals(
    sample("meshmeet_participants", { topic, state: "connected", path: "direct" })?.value,
    "2",
  );
  assertEquals(sample("meshmeet_join_step_seconds", { topic, step: "kdf" })?.value, "0.11");
  assertEquals(family("meshmeet_peer_connect_seconds").type, "HISTOGRAM");
  // Bob and Cyd (100 ms each, counted when the API started) plus Dan (300 ms).
  // parse-prometheus-text-format merges the series of a histogram and drops labelled
  // _count/_sum lines, so this reads the buckets of the only series (meeting A's).
  const connect = family("meshmeet_peer_connect_seconds").metrics;
  assertEquals(connect.length, 1);
  assertEquals(connect[0].buckets, {
    "0.005": "0",
    "0.01": "0",
    "0.025": "0",
    "0.05": "0",
    "0.1": "2",
    "0.25": "2",
    "0.5": "3",
    "1": "3",
    "2.5": "3",
    "5": "3",
    "10": "3",
    "30": "3",
    "60": "3",
    "+Inf": "3",
  });
  assertEquals(family("meshmeet_peer_discovery_seconds").type, "HISTOGRAM");
  assertEquals(
    sample("meshmeet_http_requests_total", { method: "GET", route: "/status", status: "200" })
      ?.value,
    "1",
  );
});

Deno.test("createControlApi() GET /metrics drops the series of a meeting that was left", async () => {
  const { api, a } = setup();
  await a.leave();
  const text = await (await api.request("/metrics")).text();
  assertFalse(text.includes(`topic="${TOPIC_A.slice(0, 12)}"`));
  assertStringIncludes(text, `topic="${TOPIC_B.slice(0, 12)}"`);
});

Deno.test("createControlApi() GET /openapi.json describes every route", async () => {
  const { api } = setup();
  const doc = await (await api.request("/openapi.json")).json();
  assertEquals(doc.openapi, "3.1.0");
  assertEquals(doc.info.version, VERSION);
  assertEquals(Object.keys(doc.paths).sort(), [
    "/events",
    "/mcp",
    "/meetings",
    "/meetings/{topicId}",
    "/meetings/{topicId}/messages",
    "/meetings/{topicId}/participants/{peerId}",
    "/metrics",
    "/status",
    "/topics/{topicId}",
  ]);
  assertEquals(doc.components.securitySchemes.bearerAuth.scheme, "bearer");
  assertEquals(doc.paths["/meetings"].post.security, [{ bearerAuth: [] }]);
  // Open reads declare that they need nothing (redocly's security-defined rule).
  assertEquals(doc.paths["/meetings"].get.security, []);
  assertEquals(doc.paths["/mcp"].post.security, [{ bearerAuth: [] }]);
  assertEquals(doc.servers, [{ url: "http://localhost", description: "This node" }]);
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p as object));
  const ids = operations.map((o) => (o as { operationId?: string }).operationId);
  assert(ids.every((id) => typeof id === "string"), "every operation has an operationId");
  assertEquals(new Set(ids).size, ids.length, "operationIds are unique");
  assertExists(doc.components.schemas.Participant);
  assertExists(doc.paths["/meetings/{topicId}/messages"].post.responses["413"]);
});

Deno.test("createControlApi() GET /docs serves the interactive reference", async () => {
  const { api } = setup();
  const res = await api.request("/docs");
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type") ?? "", /text\/html/);
  assertStringIncludes(await res.text(), "/openapi.json");
});

Deno.test("createControlApi() sends CORS headers only when configured", async () => {
  const { api } = setup();
  const plain = await api.request("/status", { headers: { Origin: "https://example.test" } });
  assertEquals(plain.headers.get("access-control-allow-origin"), null);
  await plain.body?.cancel();
  const { api: open } = setup({ corsOrigins: "https://app.example.test" });
  const res = await open.request("/status", { headers: { Origin: "https://app.example.test" } });
  assertEquals(res.headers.get("access-control-allow-origin"), "https://app.example.test");
  await res.body?.cancel();
  const preflight = await open.request("/meetings", {
    method: "OPTIONS",
    headers: { Origin: "https://app.example.test", "Access-Control-Request-Method": "POST" },
  });
  assertLess(preflight.status, 300);
  await preflight.body?.cancel();
});

Deno.test("createControlApi() answers unknown routes with a JSON 404", async () => {
  const { api } = setup();
  const message = await expectError(api.request("/nope/maple-harbor"), 404, "not_found");
  assertFalse(message.includes("harbor"), "the path is not echoed");
  await expectError(api.request("/status", { method: "PUT" }), 404, "not_found");
});

Deno.test("createControlApi() never answers bad input with a 5xx", async () => {
  const { api } = setup();
  const bodies = [
    "",
    "null",
    "[]",
    '"x"',
    "1e999",
    "{",
    '{"text":null}',
    '{"to":[],"text":"a"}',
    '{"json":{"deep":[1,2,{"x":null}]},"channel":-1}',
    '{"code":"' + "\u0000".repeat(10) + '"}',
    '{"code":"' + "é".repeat(300) + '"}',
    '{"__proto__":{"admin":true},"text":"a"}',
  ];
  const paths = [
    "/meetings",
    `/meetings/${TOPIC_A}/messages`,
    "/meetings/%00/messages",
    `/meetings/${TOPIC_A.toUpperCase()}/messages`,
  ];
  for (const path of paths) {
    for (const body of bodies) {
      for (const headers of [jsonAuth, auth, { "Content-Type": "application/json" }]) {
        const res = await api.request(path, { method: "POST", headers, body });
        assertLess(res.status, 500, `${path} ${body} → ${res.status}`);
        assert(res.status >= 200);
        await res.body?.cancel();
      }
    }
  }
  for (
    const path of ["/topics/%ZZ", "/meetings/%", "/topics/" + "a".repeat(10_000), "/events?topic=1"]
  ) {
    const res = await api.request(path, { headers: auth });
    assertLess(res.status, 500, `${path} → ${res.status}`);
    await res.body?.cancel();
  }
});

Deno.test("createControlApi() rejects a target that is not a node", () => {
  let error: unknown;
  try {
    createControlApi({} as ControlNode);
  } catch (err) {
    error = err;
  }
  assert(error instanceof TypeError);
  assertStringIncludes(error.message, "target must be");
});
