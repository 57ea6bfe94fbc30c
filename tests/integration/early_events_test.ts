/** Listeners given to joinMeeting() see what happens inside it (issue 11: no lost events). */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { generateInvitationCode, joinMeeting, type Meeting } from "../../mod.ts";
import { cleanup, joinLoopback, startLoopbackBootstrap, waitUntil } from "./_harness.ts";

Deno.test({
  name:
    "joinMeeting({ on }): the first peer:discovered and peer:join reach listeners given up front",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const boot = await startLoopbackBootstrap();
    const code = generateInvitationCode();
    const meetings: Meeting[] = [];
    try {
      const ada = await joinLoopback(code, boot, { name: "Ada" });
      meetings.push(ada);
      const seen: { type: string; peerId: string; at: "inside" | "after" }[] = [];
      let resolved = false;
      const record = (type: string) => (e: CustomEvent<{ peerId: string }>) =>
        seen.push({ type, peerId: e.detail.peerId, at: resolved ? "after" : "inside" });
      const bob = await joinLoopback(code, boot, {
        name: "Bob",
        on: { "peer:discovered": record("peer:discovered"), "peer:join": record("peer:join") },
      });
      resolved = true;
      meetings.push(bob);
      await waitUntil(() => seen.some((e) => e.type === "peer:join"), "Bob to see Ada join");
      const discovered = seen.filter((e) => e.type === "peer:discovered");
      assertEquals(discovered.map((e) => e.peerId), [ada.self.peerId]);
      // Bob's first lookup runs inside joinMeeting(): without `on` this event was lost.
      assertEquals(discovered[0].at, "inside");
      assert(seen.some((e) => e.type === "peer:join" && e.peerId === ada.self.peerId));
    } finally {
      await cleanup(meetings, [boot]);
    }
  },
});

Deno.test("joinMeeting({ on }) refuses a listener that is not a function, before anything starts", async () => {
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => joinMeeting(generateInvitationCode(), { on: { "peer:join": "nope" as any } }),
    TypeError,
    'options.on["peer:join"] must be a function',
  );
});
