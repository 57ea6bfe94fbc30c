/**
 * Load: 200 strangers (wrong invitation code, each its own libp2p node and peer id, in one
 * separate process) dial a member's relay address on the signaling protocol at the same
 * moment and run the membership handshake, 3 times each. The member's handshake work stays
 * bounded (`src/handshake_backoff.ts`), nobody gets in, and the members' message latency to
 * each other stays within 2× of normal. Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals, assertLess } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { readLines } from "../../src/_lines.ts";
import { cleanup, joinAll, startLoopbackBootstrap, waitUntil } from "../integration/_harness.ts";

const STRANGERS = 200;
const ATTEMPTS = 3;
const SCRIPT = new URL("./_strangers.ts", import.meta.url).pathname;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

Deno.test("200 strangers knocking with wrong codes at once: bounded handshake work, nobody in, members' latency within 2×", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  let child: Deno.ChildProcess | undefined;
  try {
    const [ada, bob] = await joinAll(generateInvitationCode(), boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    await waitUntil(() => ada.participants.some((p) => p.state === "connected"), "Ada meets Bob");
    const target = ada.self.addresses.find((a) => a.includes("/p2p-circuit"))!;
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        SCRIPT,
        "--bootstrap",
        boot.addresses[0],
        "--target",
        target,
        "--count",
        String(STRANGERS),
        "--attempts",
        String(ATTEMPTS),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = readLines(child.stdout)[Symbol.asyncIterator]();
    const ready = JSON.parse((await lines.next()).value);
    assertEquals(ready.event, "ready");

    // Bob → Ada acknowledgement times, before and during the attack.
    const probe = async (until: () => boolean, maxMs: number) => {
      const out: number[] = [];
      const end = performance.now() + maxMs;
      while (!until() && performance.now() < end) {
        const t = performance.now();
        await bob.send(ada.self.peerId, "probe");
        out.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    };
    const baseline = await probe(() => false, 3000);
    const before = ada.stats.handshakeFailures;
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    let done: { outcomes: Record<string, number>; seconds: number } | undefined;
    const finished = lines.next().then((r) => done = JSON.parse(r.value));
    const during = await probe(() => done !== undefined, 60_000);
    await finished;
    await writer.close().catch(() => {});
    const worked = ada.stats.handshakeFailures - before;
    const figures = {
      test: "strangers",
      strangers: STRANGERS,
      attemptsEach: ATTEMPTS,
      seconds: +done!.seconds.toFixed(1),
      strangerOutcomes: done!.outcomes,
      handshakesWorked: worked,
      memberAckMs: {
        baselineP50: +percentile(baseline, 0.5).toFixed(2),
        attackP50: +percentile(during, 0.5).toFixed(2),
        baselineP95: +percentile(baseline, 0.95).toFixed(2),
        attackP95: +percentile(during, 0.95).toFixed(2),
        probes: during.length,
      },
    };
    console.log(`RELIABILITY ${JSON.stringify(figures)}`);
    assertEquals(done!.outcomes.accepted, undefined, "no stranger got in");
    // Bounded work: at most one handshake per stranger (the first); the rest refused first.
    assertLess(worked, STRANGERS * ATTEMPTS / 2, `${worked} handshakes worked`);
    assert(ada.participants.some((p) => p.peerId === bob.self.peerId && p.state === "connected"));
    assertLess(
      percentile(during, 0.5),
      Math.max(2 * percentile(baseline, 0.5), percentile(baseline, 0.5) + 2),
    );
  } finally {
    try {
      child?.kill("SIGKILL");
    } catch {
      // gone
    }
    await child?.status;
    await cleanup(meetings, [boot]);
  }
});
