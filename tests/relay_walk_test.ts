import { assertEquals, assertRejects } from "@std/assert";
import type { PeerInfo } from "@libp2p/interface";
import { nextWalkDelay, PacedRandomWalk, RELAY_WALK_TIMERS } from "../src/relay_walk.ts";

const timers = { firstMs: 1_000, maxMs: 8_000 };

Deno.test("nextWalkDelay: doubles after a query that found nobody new, up to the cap; resets after one that did", () => {
  assertEquals(nextWalkDelay(1_000, false, timers), 2_000);
  assertEquals(nextWalkDelay(4_000, false, timers), 8_000);
  assertEquals(nextWalkDelay(8_000, false, timers), 8_000);
  assertEquals(nextWalkDelay(8_000, true, timers), 1_000);
  assertEquals(nextWalkDelay(0, false, timers), 2_000);
  assertEquals(RELAY_WALK_TIMERS.firstMs <= RELAY_WALK_TIMERS.maxMs, true);
});

const peer = (id: string) =>
  ({ id: { toString: () => id }, multiaddrs: [] }) as unknown as PeerInfo;

/** A routing whose queries answer from a script, one list (or error) per query. */
function scriptedRouting(script: (PeerInfo[] | Error)[]) {
  let query = 0;
  return {
    queries: () => query,
    routing: () => ({
      async *getClosestPeers() {
        const answer = script[Math.min(query++, script.length - 1)];
        if (answer instanceof Error) throw answer;
        yield* answer;
      },
    }),
  };
}

Deno.test("PacedRandomWalk: each peer once, pauses between queries grow while nobody new turns up, and end on abort", async () => {
  const { routing, queries } = scriptedRouting([
    [peer("a"), peer("b")],
    [peer("a"), peer("c")],
    [peer("a"), peer("b")], // nobody new
    new Error("no DHT peers"), // nobody new either
    [peer("c")], // nobody new
    [peer("d")],
  ]);
  const pauses: number[] = [];
  const controller = new AbortController();
  const walk = new PacedRandomWalk({
    routing,
    timers,
    sleep: (ms, signal) => {
      pauses.push(ms);
      return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  });
  const found: string[] = [];
  await assertRejects(async () => {
    for await (const p of walk.walk({ signal: controller.signal })) {
      found.push(p.id.toString());
      if (found.length === 4) controller.abort(new DOMException("enough", "AbortError"));
    }
  }, DOMException);
  assertEquals(found, ["a", "b", "c", "d"]);
  assertEquals(queries(), 6);
  assertEquals(walk.queries, 6);
  // The first query waits too (a join's reservation needs no walk); then 1 s after
  // queries that found someone, doubling after those that did not; the abort ends the
  // pause after the last query.
  assertEquals(pauses, [1_000, 1_000, 1_000, 2_000, 4_000, 8_000, 1_000]);
});

Deno.test("PacedRandomWalk: an aborted signal ends the walk during a pause, with no further query", async () => {
  const { routing, queries } = scriptedRouting([[peer("a")]]);
  const controller = new AbortController();
  const walk = new PacedRandomWalk({ routing, timers: { firstMs: 60_000, maxMs: 60_000 } });
  const iterator = walk.walk({ signal: controller.signal });
  const next = iterator.next();
  controller.abort(new DOMException("stop", "AbortError"));
  await assertRejects(() => next, DOMException, "stop");
  assertEquals(queries(), 0);
});
