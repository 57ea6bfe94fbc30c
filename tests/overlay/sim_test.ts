/**
 * The real overlay (src/overlay/node.ts) in the simulator: 500 members joining at 100/s
 * over 20–150 ms links with 1% loss, then churn (crashes, leaves, newcomers) and
 * broadcasts of 1 and 16 KiB. The larger runs and their numbers are in BENCHMARKS.md
 * ("Issue 11: simulator"); this one checks properties that must hold at any size.
 */
import { assert, assertEquals } from "@std/assert";
import { overlayFactory } from "../../bench/sim/overlay_factory.ts";
import { runScenario } from "../../bench/sim/scenario.ts";
import { estimateMessageBytes } from "../../src/overlay/codec.ts";
import { OVERLAY_DEFAULTS } from "../../src/overlay/node.ts";

Deno.test("OverlayNode in the simulator: 500 members, churn, broadcasts: complete rosters, one component, bounded degree, every broadcast once", () => {
  const r = runScenario(overlayFactory(), {
    members: 500,
    seed: 1,
    joinRate: 100,
    settleMs: 10_000,
    quietMs: 5_000,
    churnMs: 40_000,
    // 500 × 3%/min over 40 s: 10 members replaced (5 crash, 5 leave) and 10 newcomers.
    churnPerMinute: 0.03,
    broadcastEveryMs: 2_000,
    broadcastBytes: [1_024, 16_384],
    drainMs: 40_000,
    rosterChecks: 500,
  }, estimateMessageBytes);
  const m = r.metrics;
  assert(r.finished, `the run hit its wall-clock budget after ${r.wallSeconds.total} s`);
  assertEquals(r.population.crashed, 5);
  assertEquals(r.population.left, 5);

  // Every live member holds every live member that joined at least 5 s before the end,
  // and no crashed or departed one.
  assertEquals(r.roster.checked, r.population.live);
  assertEquals(r.roster.complete, r.roster.checked, `${r.roster.missing} roster entries missing`);
  assertEquals(r.roster.stale, 0, "crashed or departed members still in a roster");
  // Every newcomer got the complete roster.
  for (const [phase, n] of Object.entries(m.newcomers)) assertEquals(n.never, 0, phase);
  // Every join reached every member that was there.
  for (const [phase, j] of Object.entries(m.joins)) assertEquals(j.never100, 0, phase);

  // Every broadcast reached every settled member, exactly once.
  assertEquals(m.broadcasts.map((b) => b.bytes), [1_024, 16_384]);
  for (const b of m.broadcasts) {
    assertEquals(b.events, 10);
    assertEquals(b.fullyCovered, b.events, `${b.bytes} B: worst coverage ${b.coverageMin}`);
    assertEquals(b.duplicates, 0, `${b.bytes} B delivered twice to a member`);
  }

  // Crashed members left every roster that held them within the bound (30 s);
  // departed ones much faster (their own signed "left" travels the mesh).
  const crash = m.gone.crash;
  assertEquals([crash.events, crash.never100], [5, 0]);
  assert(crash.t100.max <= 30_000, `a crash took ${crash.t100.max} ms to leave every roster`);
  const leave = m.gone.leave;
  assertEquals([leave.events, leave.never100], [5, 0]);
  assert(leave.t100.max <= 5_000, `a leave took ${leave.t100.max} ms to leave every roster`);
  assertEquals(m.falseFailures, 0, "a live member was declared failed");
  assertEquals(r.counters.sentWithoutLink, 0, "a node sent on a link that was not up");

  // The link graph: one component of settled members at every sample; never more than
  // `maxDegree` neighbours. Links up may exceed the cap only while a join wave is on: a member
  // at its cap refuses a newcomer over a link (hello, then prune with peer exchange), so a
  // refused link is up for a round trip or two; once the wave has settled (t > 15 s) the cap
  // holds for links too.
  const cap = OVERLAY_DEFAULTS.maxDegree;
  const graph: string[] = [];
  for (const g of m.graph) {
    if (g.components !== 1) graph.push(`${g.components} components at ${g.t} s`);
    if (g.isolated !== 0) graph.push(`${g.isolated} settled members without a link at ${g.t} s`);
    if (g.maxNeighbours > cap) graph.push(`${g.maxNeighbours} neighbours at ${g.t} s`);
    if (g.t > 15 && g.maxDegree > cap) graph.push(`${g.maxDegree} links up at ${g.t} s`);
  }
  assertEquals(graph, [], `cap ${cap}`);
});
