import { assertEquals, assertThrows } from "@std/assert";
import { announcerDecision } from "../../src/rendezvous/announcers.ts";

const T0 = Date.UTC(2030, 0, 1);
const EPOCH = 60_000;
/** Peer-id-like strings (they share a prefix, as real ones do). */
const ids = Array.from({ length: 10_000 }, (_, i) => `12D3KooW${i.toString(36).padStart(8, "x")}`);
const old = T0 - 3_600_000;

function announcers(rosterSize: number, now: number, members = ids.slice(0, rosterSize)) {
  return members.filter((selfId) =>
    announcerDecision({ selfId, rosterSize, now, joinedAt: old }).announce
  );
}

Deno.test("announcerDecision() lets everyone announce in a meeting of up to 32", () => {
  for (const size of [1, 2, 32]) {
    assertEquals(announcers(size, T0).length, size);
  }
  assertEquals(
    announcerDecision({ selfId: ids[0], rosterSize: 32, now: T0, joinedAt: old }).reason,
    "small-meeting",
  );
});

Deno.test("announcerDecision() picks about 32 of 10,000 per epoch, a different set each epoch", () => {
  const sets: Set<string>[] = [];
  for (let e = 0; e < 10; e++) {
    const chosen = announcers(10_000, T0 + e * EPOCH);
    // Binomial(10,000, 0.0032): mean 32, sd ~5.6; 15..55 is beyond 3 sd either side.
    assertEquals(chosen.length >= 15 && chosen.length <= 55, true, `epoch ${e}: ${chosen.length}`);
    sets.push(new Set(chosen));
  }
  for (let e = 1; e < sets.length; e++) {
    const overlap = [...sets[e]].filter((id) => sets[e - 1].has(id)).length;
    assertEquals(overlap <= 5, true, `epochs ${e - 1} and ${e} share ${overlap} announcers`);
  }
});

Deno.test("announcerDecision() holds for a whole epoch and changes at its boundary", () => {
  const epochStart = Math.ceil(T0 / EPOCH) * EPOCH;
  const first = announcers(1000, epochStart);
  assertEquals(announcers(1000, epochStart + EPOCH - 1), first);
  const next = announcers(1000, epochStart + EPOCH);
  assertEquals(next.join() === first.join(), false);
});

Deno.test("announcerDecision() keeps a newcomer announcing through its first epoch", () => {
  const now = T0;
  // A member that the hash would not choose now.
  const quiet = ids.find((selfId) =>
    !announcerDecision({ selfId, rosterSize: 10_000, now, joinedAt: old }).announce
  )!;
  const fresh = (joinedAt: number) =>
    announcerDecision({ selfId: quiet, rosterSize: 10_000, now, joinedAt });
  assertEquals(fresh(now).reason, "newcomer");
  assertEquals(fresh(now - EPOCH + 1).announce, true);
  assertEquals(fresh(now - EPOCH).reason, "not-chosen");
});

Deno.test("announcerDecision() follows its target and rejects bad settings", () => {
  const chosen = ids.slice(0, 2000).filter((selfId) =>
    announcerDecision({ selfId, rosterSize: 2000, now: T0, joinedAt: old, target: 200 }).announce
  );
  assertEquals(chosen.length > 150 && chosen.length < 250, true, String(chosen.length));
  assertThrows(
    () => announcerDecision({ selfId: "x", rosterSize: 5, now: T0, joinedAt: old, target: 0 }),
    RangeError,
    "must be positive",
  );
});
