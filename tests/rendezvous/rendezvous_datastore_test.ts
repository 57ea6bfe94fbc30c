import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { MemoryDatastore } from "datastore-core";
import { Key } from "interface-datastore";
import { base32 } from "multiformats/bases/base32";
import { RendezvousDatastore } from "../../src/rendezvous/rendezvous_datastore.ts";

const T0 = Date.UTC(2030, 0, 1);
const CID = "ciqexamplecidofameetingstopic"; // the shape of kad-dht's base32 multihash
const encoder = new TextEncoder();

/** kad-dht's provider entry: `/dht/provider/<cid>/<peer>` → varint of the time in ms. */
function providerEntry(peer: string, time: number): [Key, Uint8Array] {
  const bytes: number[] = [];
  let n = time;
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return [new Key(`/dht/provider/${CID}/${peer}`), new Uint8Array(bytes)];
}

/** kad-dht's record key: `/dht/record/<base32 of the DHT key>`. */
function recordKey(dhtKey: string): Key {
  return new Key(`/dht/record/${base32.baseEncode(encoder.encode(dhtKey))}`, false);
}

/** What kad-dht's `loadProviders()` reads for one key. */
async function answer(store: RendezvousDatastore): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of store.query({ prefix: `/dht/provider/${CID}` })) {
    out.push(key.toString().split("/").pop()!);
  }
  return out;
}

function fixture(limits: ConstructorParameters<typeof RendezvousDatastore>[1] = {}) {
  const clock = { now: T0 };
  const inner = new MemoryDatastore();
  const store = new RendezvousDatastore(inner, { now: () => clock.now, ...limits });
  return { clock, inner, store };
}

Deno.test("RendezvousDatastore answers a random subset of at most providersAnswered", async () => {
  const { store } = fixture({ providersAnswered: 8, providersKept: 100 });
  for (let i = 0; i < 50; i++) await store.put(...providerEntry(`peer${i}`, T0));
  const a = await answer(store);
  const b = await answer(store);
  assertEquals(a.length, 8);
  assertEquals(new Set(a).size, 8);
  assertNotEquals(a.slice().sort().join(), b.slice().sort().join());
  assertEquals(store.stats.providerAnswers, 2);
  assertEquals(store.stats.providersLeftOut, 84);
});

Deno.test("RendezvousDatastore keeps at most providersKept per key, dropping the oldest", async () => {
  const { store, inner } = fixture({ providersAnswered: 10, providersKept: 10 });
  for (let i = 0; i < 15; i++) await store.put(...providerEntry(`peer${i}`, T0 + i));
  const stored: string[] = [];
  for await (const key of inner.queryKeys({ prefix: `/dht/provider/${CID}/` })) {
    stored.push(key.toString().split("/").pop()!);
  }
  assertEquals(stored.sort(), Array.from({ length: 10 }, (_, i) => `peer${i + 5}`).sort());
  assertEquals(store.stats.providersEvicted, 5);
  // A re-announcement refreshes an entry instead of adding one.
  await store.put(...providerEntry("peer5", T0 + 100));
  await store.put(...providerEntry("new", T0 + 101));
  assertEquals((await answer(store)).includes("peer5"), true);
  assertEquals((await answer(store)).includes("peer6"), false);
});

Deno.test("RendezvousDatastore leaves expired providers out of answers and deletes them", async () => {
  const { store, inner, clock } = fixture({ providerTtlMs: 60_000 });
  await store.put(...providerEntry("old", T0));
  await store.put(...providerEntry("fresh", T0 + 50_000));
  clock.now = T0 + 70_000;
  assertEquals(await answer(store), ["fresh"]);
  assertEquals(await inner.has(providerEntry("old", T0)[0]), false);
  assertEquals(store.stats.providersExpired, 1);
});

Deno.test("RendezvousDatastore reads provider entries already in a persistent store", async () => {
  const inner = new MemoryDatastore();
  for (let i = 0; i < 40; i++) await inner.put(...providerEntry(`peer${i}`, T0));
  const store = new RendezvousDatastore(inner, {
    now: () => T0,
    providersAnswered: 16,
    providersKept: 20,
  });
  assertEquals((await answer(store)).length, 16);
  await store.put(...providerEntry("late", T0 + 1));
  let left = 0;
  for await (const _ of inner.queryKeys({ prefix: `/dht/provider/${CID}/` })) left++;
  assertEquals(left, 20);
});

Deno.test("RendezvousDatastore passes other queries through (kad-dht's sweep sees everything)", async () => {
  const { store } = fixture({ providersAnswered: 4, providersKept: 100 });
  for (let i = 0; i < 30; i++) await store.put(...providerEntry(`peer${i}`, T0));
  await store.put(new Key("/peers/abc"), new Uint8Array([1]));
  let n = 0;
  for await (const _ of store.query({ prefix: "/dht/provider" })) n++;
  assertEquals(n, 30);
  assertEquals(await store.get(new Key("/peers/abc")), new Uint8Array([1]));
});

Deno.test("RendezvousDatastore keeps at most recordsKeptPerScope meshmeet records per meeting", async () => {
  const { store, inner, clock } = fixture({ recordsKeptPerScope: 3 });
  const topicA = "a".repeat(64);
  const topicB = "b".repeat(64);
  for (let i = 0; i < 5; i++) {
    clock.now = T0 + i;
    await store.put(recordKey(`/meshmeet/${topicA}/peer${i}`), new Uint8Array([i]));
  }
  await store.put(recordKey(`/meshmeet/${topicB}/peer0`), new Uint8Array([9]));
  // Other namespaces, and findPeer's records (scope "peer"), are not bounded.
  for (let i = 0; i < 5; i++) {
    await store.put(recordKey(`/pk/peer${i}`), new Uint8Array([i]));
    await store.put(recordKey(`/meshmeet/peer/peer${i}`), new Uint8Array([i]));
  }
  const has = (k: string) => inner.has(recordKey(k));
  assertEquals(await has(`/meshmeet/${topicA}/peer0`), false);
  assertEquals(await has(`/meshmeet/${topicA}/peer1`), false);
  for (const i of [2, 3, 4]) assert(await has(`/meshmeet/${topicA}/peer${i}`));
  assert(await has(`/meshmeet/${topicB}/peer0`));
  for (let i = 0; i < 5; i++) assert(await has(`/pk/peer${i}`));
  for (let i = 0; i < 5; i++) assert(await has(`/meshmeet/peer/peer${i}`));
  assertEquals(store.stats.recordsEvicted, 2);
  // Deleting a record frees its place.
  await store.delete(recordKey(`/meshmeet/${topicA}/peer2`));
  clock.now = T0 + 10;
  await store.put(recordKey(`/meshmeet/${topicA}/peer9`), new Uint8Array([9]));
  assertEquals(store.stats.recordsEvicted, 2);
});

Deno.test("RendezvousDatastore batches go through the limits", async () => {
  const { store } = fixture({ providersAnswered: 5, providersKept: 5 });
  const batch = store.batch();
  for (let i = 0; i < 8; i++) batch.put(...providerEntry(`peer${i}`, T0 + i));
  await batch.commit();
  assertEquals((await answer(store)).sort(), ["peer3", "peer4", "peer5", "peer6", "peer7"]);
});
