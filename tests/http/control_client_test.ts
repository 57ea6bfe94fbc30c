// The generated typed client (src/http/control_client.ts) against the real control API app
// in memory (fake meetings behind it), and the generator's drift check: the client must be
// regenerated whenever the OpenAPI document changes.
import { assertEquals, assertRejects } from "@std/assert";
import type { Meeting } from "../../mod.ts";
import { ControlApiClient, ControlApiError, createControlApi } from "../../src/http/mod.ts";
import { FakeMeeting, participant, PEER_BOB, TOPIC_A } from "./_fake_meeting.ts";

const TOKEN = "client-test-token";

function setup() {
  const a = new FakeMeeting(TOPIC_A);
  a.participants = [participant(PEER_BOB, "Bob")];
  const api = createControlApi({ meetings: new Map<string, Meeting>([[TOPIC_A, a.asMeeting()]]) }, {
    token: TOKEN,
  });
  const fetch = (r: Request) => api.request(r);
  return { a, api, fetch };
}

Deno.test("ControlApiClient reads, sends and reports API errors with their code", async () => {
  const { a, fetch } = setup();
  const client = new ControlApiClient("http://127.0.0.1:8787", { token: TOKEN, fetch });
  const status = await client.getStatus();
  assertEquals(status.meetings.map((m) => m.topicId), [TOPIC_A]);
  const meetings = await client.listMeetings();
  assertEquals(meetings[0].participantCount, 1);
  const meeting = await client.getMeeting(TOPIC_A);
  assertEquals(meeting.participants.map((p) => p.name), ["Bob"]);
  const bob = await client.getParticipant(TOPIC_A, PEER_BOB);
  assertEquals(bob.path, "direct");
  const sent = await client.sendMessage(TOPIC_A, { to: "Bob", text: "hi" });
  assertEquals(sent.delivered, [PEER_BOB]);
  assertEquals(a.sent.map((m) => m.data), ["hi"]);
  const metrics = await client.getMetrics();
  assertEquals(metrics.includes("meshmeet_info"), true);

  const missing = await assertRejects(() => client.getMeeting("ff".repeat(32)), ControlApiError);
  assertEquals([missing.status, missing.code], [404, "meeting_not_found"]);
  const anonymous = new ControlApiClient("http://127.0.0.1:8787", { fetch });
  const denied = await assertRejects(
    () => anonymous.sendMessage(TOPIC_A, { text: "x" }),
    ControlApiError,
  );
  assertEquals([denied.status, denied.code], [401, "unauthorized"]);
  const left = await client.leaveMeeting(TOPIC_A);
  assertEquals(left, { topicId: TOPIC_A, left: true });
});

Deno.test("src/http/control_client.ts is generated from the current OpenAPI document", async () => {
  const gen = new URL("../../src/http/_gen_client.ts", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", gen, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
});
