import { assertEquals } from "@std/assert";
import { NeighbourTable } from "../../src/discovery/neighbours.ts";

const LOW = "12D3KooWAAAA";
const HIGH = "12D3KooWZZZZ";

Deno.test("NeighbourTable.seen() lets the lower peer id challenge at once and the higher one wait", () => {
  const low = new NeighbourTable(LOW, { fallbackMs: 1500 });
  assertEquals(low.seen(HIGH, 0), { action: "challenge" });
  const high = new NeighbourTable(HIGH, { fallbackMs: 1500 });
  assertEquals(high.seen(LOW, 0), { action: "wait", ms: 1500 });
  assertEquals(high.seen(LOW, 1000), { action: "wait", ms: 500 });
  // The lower one never came: the higher one challenges after the fallback.
  assertEquals(high.seen(LOW, 1500), { action: "challenge" });
});

Deno.test("NeighbourTable.seen() ignores a neighbour whose exchange is pending or just proved it a member", () => {
  const t = new NeighbourTable(LOW, { refreshMs: 60_000 });
  assertEquals(t.seen(HIGH, 0).action, "challenge");
  assertEquals(t.seen(HIGH, 10).action, "ignore"); // pending
  t.done(HIGH, "member", 100);
  assertEquals(t.isMember(HIGH), true);
  assertEquals(t.seen(HIGH, 30_000).action, "ignore");
  assertEquals(t.seen(HIGH, 60_100).action, "challenge"); // refresh
});

Deno.test("NeighbourTable.done() leaves a higher neighbour that challenged us alone: no second exchange", () => {
  const high = new NeighbourTable(HIGH);
  assertEquals(high.seen(LOW, 0).action, "wait");
  high.done(LOW, "member", 200); // the lower side's challenge arrived
  assertEquals(high.seen(LOW, 1500).action, "ignore");
});

Deno.test("NeighbourTable.done() leaves a foreign neighbour alone for foreignMs", () => {
  const t = new NeighbourTable(LOW, { foreignMs: 600_000 });
  t.seen(HIGH, 0);
  t.done(HIGH, "foreign", 0);
  assertEquals(t.isMember(HIGH), false);
  assertEquals(t.seen(HIGH, 599_999).action, "ignore");
  assertEquals(t.seen(HIGH, 600_000).action, "challenge");
});

Deno.test("NeighbourTable.done() backs off failed exchanges exponentially, capped at foreignMs", () => {
  const t = new NeighbourTable(LOW, { retryMs: 1000, foreignMs: 5000 });
  let now = 0;
  assertEquals(t.seen(HIGH, now).action, "challenge");
  for (const pause of [1000, 2000, 4000, 5000, 5000]) {
    t.done(HIGH, "failed", now);
    assertEquals(t.seen(HIGH, now + pause - 1).action, "ignore");
    now += pause;
    assertEquals(t.seen(HIGH, now).action, "challenge");
  }
  assertEquals(t.seen(LOW, 0).action, "ignore"); // never ourselves
});

Deno.test("NeighbourTable.forget() makes the next sighting a fresh one", () => {
  const t = new NeighbourTable(LOW);
  t.seen(HIGH, 0);
  t.done(HIGH, "member", 0);
  t.forget(HIGH);
  assertEquals(t.size, 0);
  assertEquals(t.seen(HIGH, 1).action, "challenge");
});
