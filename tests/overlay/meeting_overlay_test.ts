/**
 * The overlay under a real meeting: real libp2p nodes, a real bootstrap node, real WebRTC
 * links on loopback, with a low cap so that 8 members are well above it.
 */
import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import {
  cleanup,
  joinLoopback,
  recordEvents,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";

const OVERLAY = { lowDegree: 2, targetDegree: 3, highDegree: 4, maxDegree: 5 };
const N = 8;

Deno.test({
  name:
    "overlay meeting: 8 members with cap 5: complete rosters, bounded links, mesh broadcast, leave",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const boot = await startLoopbackBootstrap();
    const code = generateInvitationCode();
    const meetings: Meeting[] = [];
    try {
      for (let i = 0; i < N; i++) {
        meetings.push(await joinLoopback(code, boot, { name: `m${i}`, overlay: OVERLAY }));
      }
      const messages = meetings.map((m) => recordEvents(m, ["message"]));
      const leaves = meetings.map((m) => recordEvents(m, ["peer:leave"]));
      await waitUntil(
        () => meetings.every((m) => m.participants.length === N - 1),
        "every roster to hold every other member",
        90_000,
      );
      // Links settle (refusals at the cap, drops above the high mark) between 1 and the cap.
      // A link that arrives at the cap stays open until its hello (or 2 s) and then closes,
      // so at a given moment a member can hold one more; the bound is that this passes.
      await waitUntil(
        () =>
          meetings.every((m) =>
            m.neighbours.length >= 1 && m.neighbours.length <= OVERLAY.maxDegree
          ),
        `every member to hold 1 to ${OVERLAY.maxDegree} links`,
        30_000,
      );
      for (const m of meetings) {
        assertEquals(m.participants.filter((p) => p.linked).length, m.neighbours.length);
      }
      const total = meetings.reduce((n, m) => n + m.neighbours.length, 0);
      assert(total < N * (N - 1), `not a full mesh: ${total / 2} links`);

      // A broadcast goes through the mesh and arrives once at every other member.
      const result = await meetings[0].broadcast("to everyone", { channel: 7 });
      if (Deno.env.get("DEBUG_OVERLAY")) {
        await new Promise((r) => setTimeout(r, 3000));
        for (const [i, m] of meetings.entries()) {
          // deno-lint-ignore no-explicit-any
          const o = (m as any).overlayNode;
          console.log(
            m.self.name,
            m.neighbours.map((p) => p.name),
            messages[i].length,
            JSON.stringify(o?.stats),
            o?.neighbours().length,
          );
        }
      }
      assert(result.id, "relayed through the mesh (an id, no per-member acknowledgements)");
      await waitUntil(
        () =>
          messages.slice(1).every((log) =>
            log.filter((e) => e.detail.data === "to everyone").length === 1
          ),
        "the broadcast at every member",
        20_000,
      );
      await new Promise((r) => setTimeout(r, 1000));
      for (const log of messages.slice(1)) {
        const got = log.filter((e) => e.detail.data === "to everyone");
        assertEquals(got.length, 1);
        assertEquals(got[0].detail.from, meetings[0].self.peerId);
      }

      // A member that is not a neighbour can still be sent to: a link on demand, outside the
      // mesh (it counts against nobody's cap, so nobody prunes it mid-send).
      const sender = meetings.find((m) => m.participants.some((p) => !p.linked))!;
      const far = sender.participants.find((p) => !p.linked)!;
      const target = meetings.find((m) => m.self.peerId === far.peerId)!;
      const got = recordEvents(target, ["message"]);
      await sender.send(far.peerId, "direct, on demand");
      await sender.send(far.peerId, "and again");
      assertEquals(got.map((e) => e.detail.data), ["direct, on demand", "and again"]);
      assert(sender.participants.find((p) => p.peerId === far.peerId)!.linked);
      assert(!sender.overlayNode!.isNeighbour(far.peerId), "the on-demand link is not in the mesh");

      // A member leaves: every roster drops it, as "left".
      const leaver = meetings.pop()!;
      const leaverId = leaver.self.peerId;
      await leaver.leave();
      await waitUntil(
        () => meetings.every((m) => m.participants.length === N - 2),
        "every roster to drop the member that left",
        30_000,
      );
      for (const log of leaves.slice(0, N - 1)) {
        const left = log.filter((e) => e.detail.peerId === leaverId);
        assertEquals(left.map((e) => e.detail.reason), ["left"]);
      }
    } finally {
      await cleanup(meetings, [boot]);
    }
  },
});
