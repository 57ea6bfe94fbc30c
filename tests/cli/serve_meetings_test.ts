/**
 * A `meshmeet serve --http` process joins and leaves meetings through its control API for as
 * long as it runs: each meeting links to a member, and leaving must not leave anything of it
 * behind in the server. Before the server held one WebRTC factory for all its meetings, every
 * meeting left on Deno kept a whole libwebrtc factory: 4 more threads and 8 more file
 * descriptors per cycle (`holdWebRtc()` in `src/runtime/webrtc.ts`).
 */
import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode, joinMeeting } from "../../mod.ts";
import { waitUntil } from "../integration/_harness.ts";
import { CliProcess, scrapeMetrics } from "./_cli.ts";

Deno.test("meshmeet serve --http: meetings joined and left through the API leave no threads or file descriptors behind", async () => {
  const serve = new CliProcess("serve", ["serve", "--http", "127.0.0.1:0", "--json"]);
  let member: Awaited<ReturnType<typeof joinMeeting>> | undefined;
  try {
    const listening = await serve.waitForEvent((e) => e.event === "listening", "addresses");
    const http = await serve.waitForEvent((e) => e.event === "http", "the API URL");
    const headers = { Authorization: `Bearer ${http.token}`, "Content-Type": "application/json" };
    const code = generateInvitationCode();
    member = await joinMeeting(code, {
      bootstrap: listening.addresses as string[],
      rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
      localDiscovery: false,
    });
    const linked = () => member!.participants.some((p) => p.state === "connected");
    const seen: { threads: number; fds: number }[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      const joined = await fetch(`${http.url}/meetings`, {
        method: "POST",
        headers,
        body: JSON.stringify({ code, name: `server ${cycle}` }),
      });
      assertEquals(joined.status, 201);
      const { topicId } = await joined.json();
      await waitUntil(linked, "the member to link to the server's meeting", 15_000);
      const left = await fetch(`${http.url}/meetings/${topicId}`, { method: "DELETE", headers });
      assertEquals(left.status, 200);
      await left.body?.cancel();
      await waitUntil(() => !linked(), "the member to see the server leave", 15_000);
      await new Promise((r) => setTimeout(r, 300)); // the links' last frames and closes
      const metric = await scrapeMetrics(http.url as string);
      seen.push({ threads: metric("meshmeet_process_threads"), fds: metric("process_open_fds") });
    }
    const [first, last] = [seen[0], seen[seen.length - 1]];
    assert(
      last.threads <= first.threads + 2 && last.fds <= first.fds + 3,
      `after each meeting left (threads, fds): ${JSON.stringify(seen)}`,
    );
  } finally {
    await member?.leave();
    const status = await serve.stop();
    assertEquals(status.code, 0, serve.stderr);
  }
});
