import { assertEquals, assertThrows } from "@std/assert";
import {
  chooseProviders,
  entriesOverCap,
  PROVIDERS_ANSWERED,
  resolveRendezvousLimits,
  type TimedEntry,
} from "../../src/rendezvous/limits.ts";
import { prng as seeded } from "../_prng.ts";

const T0 = Date.UTC(2030, 0, 1);
const entries = (n: number, time = T0): TimedEntry[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, time }));

Deno.test("chooseProviders() answers at most cap distinct fresh entries", () => {
  const { answer, expired } = chooseProviders(entries(200), {
    cap: 32,
    ttlMs: 60_000,
    now: T0 + 1000,
    random: seeded(1),
  });
  assertEquals(answer.length, 32);
  assertEquals(new Set(answer).size, 32);
  assertEquals(expired, []);
});

Deno.test("chooseProviders() answers everyone, in some order, when under the cap", () => {
  const { answer } = chooseProviders(entries(20), {
    cap: 64,
    ttlMs: 60_000,
    now: T0,
    random: seeded(2),
  });
  assertEquals(answer.slice().sort(), entries(20).map((e) => e.id).sort());
});

Deno.test("chooseProviders() leaves out and reports entries older than the ttl", () => {
  const list = [...entries(5, T0), { id: "old", time: T0 - 61_000 }, {
    id: "edge",
    time: T0 - 60_000,
  }];
  const { answer, expired } = chooseProviders(list, {
    cap: 64,
    ttlMs: 60_000,
    now: T0,
    random: seeded(3),
  });
  assertEquals(expired, ["old"]);
  assertEquals(answer.length, 6);
  assertEquals(answer.includes("edge"), true);
});

Deno.test("chooseProviders() gives different subsets, each entry about equally often", () => {
  const random = seeded(4);
  const counts = new Map<string, number>();
  const answers = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const { answer } = chooseProviders(entries(100), { cap: 10, ttlMs: 1, now: T0, random });
    answers.add(answer.slice().sort().join());
    for (const id of answer) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  assertEquals(answers.size > 1900, true, `only ${answers.size} distinct answers`);
  // Each of 100 entries is expected 2000 * 10 / 100 = 200 times.
  const values = [...counts.values()];
  assertEquals(counts.size, 100);
  assertEquals(Math.min(...values) > 130 && Math.max(...values) < 270, true, String(values));
});

Deno.test("entriesOverCap() drops the oldest, ties by id", () => {
  const list = [
    { id: "c", time: 3 },
    { id: "a", time: 1 },
    { id: "b", time: 1 },
    { id: "d", time: 4 },
  ];
  assertEquals(entriesOverCap(list, 4), []);
  assertEquals(entriesOverCap(list, 3), ["a"]);
  assertEquals(entriesOverCap([{ id: "y", time: 1 }, { id: "x", time: 1 }], 1), ["x"]);
  assertEquals(entriesOverCap(list, 2), ["a", "b"]);
  assertEquals(entriesOverCap(list, 1), ["a", "b", "c"]);
});

Deno.test("resolveRendezvousLimits() fills defaults and rejects bad limits with RangeError", () => {
  assertEquals(resolveRendezvousLimits().providersAnswered, PROVIDERS_ANSWERED);
  assertThrows(() => resolveRendezvousLimits({ providersAnswered: 0 }), RangeError, "positive");
  assertThrows(() => resolveRendezvousLimits({ providerTtlMs: 1.5 }), RangeError, "providerTtl");
  assertThrows(
    () => resolveRendezvousLimits({ providersAnswered: 100, providersKept: 50 }),
    RangeError,
    "providersKept (50) is below",
  );
});
