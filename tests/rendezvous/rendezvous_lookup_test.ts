/**
 * Rendezvous.lookup({ enough }) on a fake node: providers and records come from memory, the
 * GETs are counted.
 */
import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";
import { rendezvousOn, sealedMembers } from "./_members.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const keys = await deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821");
const decoder = new TextDecoder();

/** `n` participants with sealed records; every `badEvery`-th record is garbage. */
async function fixture(n: number, badEvery = 0) {
  const { ids, records } = await sealedMembers(keys, n, badEvery);
  const gets = { started: 0, running: 0, maxRunning: 0 };
  const found: string[] = [];
  const rendezvous = await rendezvousOn(keys, {
    async *findProviders() {
      for (const id of ids) yield { id, multiaddrs: [] };
    },
    async get(key: Uint8Array, options: { signal?: AbortSignal }) {
      gets.started++;
      gets.running++;
      gets.maxRunning = Math.max(gets.maxRunning, gets.running);
      try {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
        options.signal?.throwIfAborted();
        const value = records.get(decoder.decode(key));
        if (!value) throw new Error("not found");
        return value;
      } finally {
        gets.running--;
      }
    },
  }, { onPresence: (p) => found.push(p.info.peerId) });
  return { rendezvous, gets, found };
}

Deno.test("Rendezvous.lookup({ enough: 8 }) verifies 8 and starts at most 12 GETs of 64 providers", async () => {
  const { rendezvous, gets, found } = await fixture(64);
  // Records already being verified when the 8th arrives still count.
  const n = await rendezvous.lookup({ enough: 8 });
  assert(n >= 8 && n <= 12, String(n));
  assertEquals(found.length, n);
  assertLessOrEqual(gets.started, 12);
  assertEquals(rendezvous.stats.lastLookupFetches, gets.started);
});

Deno.test("Rendezvous.lookup({ enough }) fetches on past records that do not verify", async () => {
  const { rendezvous, gets, found } = await fixture(64, 2); // half of them garbage
  const n = await rendezvous.lookup({ enough: 8 });
  assert(n >= 8 && n <= 12, String(n));
  assertEquals(new Set(found).size, n);
  assert(gets.started >= 16, `${gets.started} GETs`);
  assertLessOrEqual(gets.maxRunning, 12);
  const { recordsRejected, recordsAccepted } = rendezvous.stats;
  assert(recordsRejected >= 4 && recordsRejected + recordsAccepted <= gets.started);
});

Deno.test("Rendezvous.lookup() without enough fetches every provider, 16 at a time", async () => {
  const { rendezvous, gets, found } = await fixture(40);
  assertEquals(await rendezvous.lookup(), 40);
  assertEquals(found.length, 40);
  assertEquals(gets.started, 40);
  assertLessOrEqual(gets.maxRunning, 16);
});

Deno.test("Rendezvous.lookup() rejects a bad enough with RangeError", async () => {
  const { rendezvous } = await fixture(1);
  await assertRejects(() => rendezvous.lookup({ enough: 0 }), RangeError, "positive integer");
});
