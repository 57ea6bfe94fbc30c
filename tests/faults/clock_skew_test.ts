/**
 * Fault injection: members whose wall clocks are off by ±2 minutes, each in its own process
 * with `Date` shifted (`_member.ts --clock-offset-ms`), around a DHT server on the true
 * time. Presence records then look issued in the future (+2 min writers) or long expired
 * (−2 min writers: a 60-s record is 60 s past expiry the moment a true-time reader sees
 * it), and the two skewed members are 4 minutes apart.
 *
 * Asserts that the meeting forms (everyone meets everyone), holds past a lease (14 s) and a
 * record renewal (20 s) with messages acknowledged on every pair and nobody dropped, and that
 * a newcomer whose clock is off too meets everyone through the DHT records. Prints one
 * `RELIABILITY` JSON line.
 */
import { assertEquals, assertLess } from "@std/assert";
import { generateInvitationCode } from "../../mod.ts";
import { startLoopbackBootstrap } from "../integration/_harness.ts";
import { MemberProcess } from "./_member_process.ts";

const MINUTES_2 = 120_000;
const HOLD_MS = 25_000;

Deno.test("members with clocks off by ±2 minutes: the meeting forms and holds, a skewed newcomer meets everyone", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const members: MemberProcess[] = [];
  const start = (name: string, clockOffsetMs: number) =>
    MemberProcess.start({ name, code, bootstrap: boot.addresses, clockOffsetMs }).then((m) => {
      members.push(m);
      return m;
    });
  const joins = (m: MemberProcess) =>
    new Set(
      m.events.filter((e) => e.event === "peer:join").map((e) => e.peerId as string),
    );
  const leaves = (m: MemberProcess) => m.count((e) => e.event === "peer:leave");
  try {
    const t0 = performance.now();
    const behind = await start("Behind", -MINUTES_2);
    const ahead = await start("Ahead", MINUTES_2);
    const onTime = await start("OnTime", 0);
    const first = [behind, ahead, onTime];
    for (const m of first) {
      await m.waitFor(() => joins(m).size === 2, `${m.name} meets the other two`, 45_000);
    }
    const formedMs = performance.now() - t0;
    // The processes' clocks really differ (their `joined` events carry `Date.now()`).
    const skew = (ahead.events[0].now as number) - (behind.events[0].now as number);
    assertLess(Math.abs(skew - 2 * MINUTES_2), 30_000, `clocks ${skew} ms apart`);

    // Hold past a lease and a record renewal, with messages on every pair.
    const holdStart = performance.now();
    let rounds = 0;
    while (performance.now() - holdStart < HOLD_MS) {
      await Promise.all(
        first.flatMap((from) =>
          first.filter((to) => to !== from).map((to) =>
            from.call("send", { to: to.peerId, count: 2, bytes: 200 })
          )
        ),
      );
      rounds++;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const acked = first.reduce((n, m) => n + m.count((e) => e.event === "acked"), 0);
    const failedSends = first.reduce((n, m) => n + m.count((e) => e.event === "send-failed"), 0);
    const received = first.reduce(
      (n, m) => n + m.count((e) => e.event === "message" && e.intact === true),
      0,
    );
    assertEquals(failedSends, 0, "no send failed during the hold");
    assertEquals(acked, rounds * 6 * 2, "every message acknowledged");
    assertEquals(received, acked, "every acknowledged message received");
    for (const m of first) assertEquals(leaves(m), 0, `${m.name} dropped nobody`);

    // A newcomer whose clock is behind too finds all three through their DHT records.
    const n0 = performance.now();
    const late = await start("LateBehind", -MINUTES_2 + 10_000);
    await late.waitFor(() => joins(late).size === 3, "the newcomer meets all three", 30_000);
    const newcomerMs = performance.now() - n0;
    for (const m of first) {
      await m.waitFor(() => joins(m).size === 3, `${m.name} meets the newcomer`, 15_000);
      const stats = await m.call("stats") as { participants: number };
      assertEquals(stats.participants, 3);
    }
    console.log(
      `RELIABILITY ${
        JSON.stringify({
          test: "clock_skew",
          offsetsMs: [-MINUTES_2, MINUTES_2, 0, -MINUTES_2 + 10_000],
          formedMs: Math.round(formedMs),
          heldMs: Math.round(performance.now() - holdStart),
          messagesAcked: acked,
          messagesReceived: received,
          dropped: 0,
          newcomerMetAllMs: Math.round(newcomerMs),
        })
      }`,
    );
  } finally {
    await Promise.allSettled(members.map((m) => m.leave(5000)));
    await boot.stop();
  }
});
