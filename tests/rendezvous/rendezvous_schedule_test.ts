/**
 * When Rendezvous.start() looks up again after announcing: at once when the first lookup
 * found nobody (two peers joining at the same moment must still meet), after
 * `minIntervalMs` when it found members (the dial to them is the join's critical path).
 * A fake node: providers and records from memory, lookups counted.
 */
import { assert, assertEquals } from "@std/assert";
import { rendezvousOn, sealedMembers } from "./_members.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const keys = await deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821");
const decoder = new TextDecoder();
const MIN_INTERVAL_MS = 400;

async function fixture(members: number) {
  const { ids, records } = await sealedMembers(keys, members);
  /** When each lookup started (ms since start() was called). */
  const lookups: number[] = [];
  let t0 = 0;
  const rendezvous = await rendezvousOn(keys, {
    async *findProviders() {
      lookups.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
      for (const id of ids) yield { id, multiaddrs: [] };
    },
    async get(key: Uint8Array) {
      await new Promise((r) => setTimeout(r, 2));
      const value = records.get(decoder.decode(key));
      if (!value) throw new Error("not found");
      return value;
    },
    put: () => new Promise((r) => setTimeout(r, 10)),
    provide: () => new Promise((r) => setTimeout(r, 10)),
  }, { minIntervalMs: MIN_INTERVAL_MS });
  /** Join as a meeting does: the first lookup and the announcement at once. */
  const join = async () => {
    t0 = performance.now();
    const first = rendezvous.lookup();
    await rendezvous.start();
    return await first;
  };
  return { rendezvous, lookups, join };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Rendezvous.start(): with nobody found yet, it looks up again right after announcing", async () => {
  const { rendezvous, lookups, join } = await fixture(0);
  try {
    assertEquals(await join(), 0);
    await sleep(100);
    assertEquals(lookups.length, 2, `lookups at ${lookups.map(Math.round)} ms`);
    assert(lookups[1] < 100, `second lookup at ${Math.round(lookups[1])} ms`);
  } finally {
    rendezvous.stop();
  }
});

Deno.test("Rendezvous.start(): with members found, the next lookup waits minIntervalMs (the dial to them goes first)", async () => {
  const { rendezvous, lookups, join } = await fixture(2);
  try {
    assertEquals(await join(), 2);
    await sleep(150);
    assertEquals(lookups.length, 1, `lookups at ${lookups.map(Math.round)} ms`);
    await sleep(MIN_INTERVAL_MS);
    assertEquals(lookups.length, 2, `lookups at ${lookups.map(Math.round)} ms`);
    assert(lookups[1] >= MIN_INTERVAL_MS, `second lookup at ${Math.round(lookups[1])} ms`);
  } finally {
    rendezvous.stop();
  }
});
