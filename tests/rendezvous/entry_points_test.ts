import { assert, assertEquals } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { Libp2pRecord } from "@libp2p/record";
import { MemoryDatastore } from "datastore-core";
import { Key } from "interface-datastore";
import { base32 } from "multiformats/bases/base32";
import {
  decodeEntryPoints,
  encodeEntryPoints,
  ENTRY_POINTS_ANSWERED,
} from "../../src/rendezvous/entry_points.ts";
import { RendezvousDatastore } from "../../src/rendezvous/rendezvous_datastore.ts";
import { openPresence, sealPresence } from "../../src/presence.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const keys = await deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821");

/** Store a sealed presence record the way kad-dht's PUT handler does. */
async function putRecord(store: RendezvousDatastore, ttlMs: number, now = Date.now()) {
  const privateKey = await generateKeyPair("Ed25519");
  const peerId = peerIdFromPrivateKey(privateKey).toString();
  const { key, bytes } = await sealPresence(keys, privateKey, {
    peerId,
    name: "x",
    joinedAt: now,
    addresses: [],
  }, { seq: 1, ttlMs, now });
  const keyBytes = new TextEncoder().encode(key);
  await store.put(
    new Key(`/dht/record/${base32.baseEncode(keyBytes)}`, false),
    new Libp2pRecord(keyBytes, bytes, new Date()).serialize(),
  );
  return peerId;
}

Deno.test("encodeEntryPoints() and decodeEntryPoints() round-trip; a truncated answer keeps what is whole", () => {
  const records = [
    { peerId: "12D3KooWa", record: new Uint8Array([1, 2, 3]) },
    { peerId: "12D3KooWb", record: new Uint8Array(300).fill(7) },
  ];
  const payload = encodeEntryPoints(records);
  assertEquals(decodeEntryPoints(payload), records);
  assertEquals(decodeEntryPoints(payload.subarray(0, payload.length - 1)), records.slice(0, 1));
  assertEquals(decodeEntryPoints(new Uint8Array([0xff])), []);
  const many = Array.from(
    { length: 40 },
    (_, i) => ({ peerId: `p${i}`, record: new Uint8Array(1) }),
  );
  assertEquals(decodeEntryPoints(encodeEntryPoints(many)).length, ENTRY_POINTS_ANSWERED);
});

Deno.test("RendezvousDatastore.sampleRecords() hands out verifiable records of one meeting, unexpired first", async () => {
  const store = new RendezvousDatastore(new MemoryDatastore());
  const live = new Set<string>();
  for (let i = 0; i < 10; i++) live.add(await putRecord(store, 60_000));
  // Expired a minute ago (still within the readers' clock-skew grace), and long ago.
  const stale = await putRecord(store, 1000, Date.now() - 61_000);
  await putRecord(store, 1000, Date.now() - 3_600_000 + 5000);
  const some = await store.sampleRecords(keys.topicId, 4);
  assertEquals(some.length, 4);
  for (const { peerId, record } of some) {
    assert(live.has(peerId));
    const presence = await openPresence(keys, peerId, record);
    assertEquals(presence.info.peerId, peerId);
  }
  const all = await store.sampleRecords(keys.topicId, 16);
  assertEquals(all.length, 11);
  assertEquals(all[10].peerId, stale);
  assertEquals(await store.sampleRecords("c".repeat(64), 16), []);
});

Deno.test("RendezvousDatastore.sweepExpired() deletes presence records past their expiry and the clock-skew allowance, and nothing else", async () => {
  const clock = { now: Date.now() };
  const inner = new MemoryDatastore();
  const store = new RendezvousDatastore(inner, { now: () => clock.now });
  const short = await putRecord(store, 60_000, clock.now); // expires in 1 min
  const long = await putRecord(store, 3_600_000, clock.now); // in 1 h
  const foreign = new Key("/dht/record/notours", false);
  await store.put(foreign, new Uint8Array([1, 2, 3])); // not a libp2p record
  const count = async () => {
    let n = 0;
    for await (const _ of inner.queryKeys({ prefix: "/dht/record/" })) n++;
    return n;
  };
  clock.now += 4 * 60_000; // expired 3 min ago: still within the 5-min allowance
  assertEquals(await store.sweepExpired(), 0);
  clock.now += 3 * 60_000; // expired 6 min ago
  assertEquals(await store.sweepExpired(), 1);
  assertEquals(await count(), 2);
  assertEquals(store.stats.recordsExpired, 1);
  const served = (await store.sampleRecords(keys.topicId, 16)).map((r) => r.peerId);
  assertEquals(served, [long]);
  assert(!served.includes(short));
  assert(await inner.has(foreign));
});
