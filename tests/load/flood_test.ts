/**
 * Load: a member with a valid proof floods another with messages (its own process, as many
 * in flight as it can keep). The victim (its own process, `maxFramesPerSecond: 2000`)
 * refuses the excess, its memory stays bounded, and a third member's messages to it are
 * acknowledged about as fast as before the flood. Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals, assertLess } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import {
  cleanup,
  joinLoopback,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";
import { MemberProcess } from "../faults/_member_process.ts";

const MAX_FPS = 2000;
const FLOOD_SECONDS = 10;

interface Stats {
  rss: number;
  heapUsed: number;
  participants: number;
  stats: { messagesReceived: number; messagesDropped: number };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Send one message at a time to `to` for `ms`, 20 ms apart; the acknowledgement times. */
async function probe(from: Meeting, to: string, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await from.send(to, "probe");
    out.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

Deno.test("a member flooding another: the rate limit holds, the victim's memory stays bounded, a third member's latency stays within 2×", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  const procs: MemberProcess[] = [];
  try {
    const code = generateInvitationCode();
    const victim = await MemberProcess.start({
      name: "Victim",
      code,
      bootstrap: boot.addresses,
      maxFramesPerSecond: MAX_FPS,
    });
    procs.push(victim);
    const flooder = await MemberProcess.start({ name: "Flooder", code, bootstrap: boot.addresses });
    procs.push(flooder);
    const third = await joinLoopback(code, boot, { name: "Third" });
    meetings.push(third);
    await waitUntil(
      () => third.participants.filter((p) => p.state === "connected").length === 2,
      "Third meets both",
      45_000,
    );
    await victim.waitFor(
      () => victim.count((e) => e.event === "peer:join") === 2,
      "Victim meets both",
      30_000,
    );

    const baseline = await probe(third, victim.peerId, 3000);
    const before = await victim.call("stats") as Stats;
    const flood = flooder.call("flood", {
      to: victim.peerId,
      seconds: FLOOD_SECONDS,
      bytes: 200,
      window: 256,
    }, 60_000) as Promise<Record<string, number>>;
    await new Promise((r) => setTimeout(r, 1000)); // the flood is on
    const during = await probe(third, victim.peerId, (FLOOD_SECONDS - 3) * 1000);
    const mid = await victim.call("stats") as Stats;
    const outcomes = await flood;
    await new Promise((r) => setTimeout(r, 1000));
    const after = await victim.call("stats") as Stats;

    const accepted = after.stats.messagesReceived - before.stats.messagesReceived;
    const refused = outcomes.RateLimitError ?? 0;
    const perSecond = accepted / FLOOD_SECONDS;
    const figures = {
      test: "flood",
      maxFramesPerSecond: MAX_FPS,
      floodSeconds: FLOOD_SECONDS,
      flooderOutcomes: outcomes,
      victimAcceptedPerSecond: Math.round(perSecond),
      victimRssMB: [before.rss, mid.rss, after.rss].map((b) => +(b / 2 ** 20).toFixed(1)),
      victimHeapMB: [before.heapUsed, mid.heapUsed, after.heapUsed].map((b) =>
        +(b / 2 ** 20).toFixed(1)
      ),
      thirdAckMs: {
        baselineP50: +percentile(baseline, 0.5).toFixed(2),
        floodP50: +percentile(during, 0.5).toFixed(2),
        baselineP95: +percentile(baseline, 0.95).toFixed(2),
        floodP95: +percentile(during, 0.95).toFixed(2),
        probes: during.length,
      },
    };
    console.log(`RELIABILITY ${JSON.stringify(figures)}`);

    // The limit holds: the excess was refused with the named error, and what got through
    // stays near the limit (the bucket holds one second's worth on top).
    assert(refused > 0, "the flooder was refused");
    assertLess(perSecond, MAX_FPS * 1.3, `${perSecond} messages/s got through`);
    // Nothing but acks and refusals: no other failure on the flooder's side.
    for (const key of Object.keys(outcomes)) {
      assert(key === "acked" || key === "RateLimitError", `flooder saw ${key}`);
    }
    // Memory stays bounded: queues do not grow with the flood.
    assertLess(after.rss - before.rss, 64 * 2 ** 20, "victim RSS grew by more than 64 MB");
    // Everyone stays in the meeting.
    assertEquals(after.participants, 2);
    assertEquals(third.participants.filter((p) => p.state === "connected").length, 2);
    // The third member's messages are acknowledged within 2× the usual time (median).
    assertLess(
      percentile(during, 0.5),
      Math.max(2 * percentile(baseline, 0.5), percentile(baseline, 0.5) + 2),
    );
  } finally {
    await Promise.allSettled(procs.map((p) => p.leave(5000)));
    await cleanup(meetings, [boot]);
  }
});
