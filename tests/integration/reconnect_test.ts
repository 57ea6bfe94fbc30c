import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { cleanup, joinAll, recordEvents, startLoopbackBootstrap, waitUntil } from "./_harness.ts";

Deno.test("a dropped WebRTC connection is re-established by itself and messages sent meanwhile arrive once, in order", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const [ada, bob] = await joinAll(code, boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    await waitUntil(() => ada.participants.length === 1 && bob.participants.length === 1, "a pair");
    const got: unknown[] = [];
    bob.addEventListener("message", (e) => got.push(e.detail.data));
    const states = recordEvents(ada, ["connection:state", "peer:leave"]);
    const bobId = ada.participants[0].peerId;
    await ada.send(bobId, 0);
    // Cut the pair's WebRTC link from Ada's side, as a network failure would.
    const pc = ada.peerConnectionOf(bobId);
    assert(pc !== undefined, "a WebRTC link to Bob");
    pc.close();
    const sends = [1, 2, 3, 4, 5].map((n) => ada.send(bobId, n));
    await Promise.all(sends);
    assertEquals(got, [0, 1, 2, 3, 4, 5]);
    assert(
      states.some((s) =>
        s.type === "connection:state" && (s.detail as { state?: string }).state === "reconnecting"
      ) ||
        ada.stats.reconnects >= 1,
      "the link went through reconnecting",
    );
    assert(ada.stats.reconnects + bob.stats.reconnects >= 1, "a reconnect was counted");
    assertEquals(states.filter((s) => s.type === "peer:leave").length, 0);
    assertEquals(ada.participants[0].state, "connected");
    assertEquals(ada.participants[0].path, "direct");
  } finally {
    await cleanup(meetings, [boot]);
  }
});
