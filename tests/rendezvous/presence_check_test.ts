/**
 * PresenceCheck (src/rendezvous/presence_check.ts) and the DHT keys of a meeting
 * (src/rendezvous/keys.ts), with real records and keys, no network.
 */
import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { InvalidRecordError } from "../../src/errors.ts";
import { presenceKey, sealPresence } from "../../src/presence.ts";
import { PresenceCheck } from "../../src/rendezvous/presence_check.ts";
import { presenceDhtKey, topicCid } from "../../src/rendezvous/keys.ts";
import { newRendezvousStats, type RendezvousStats } from "../../src/rendezvous/types.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const [keys, otherKeys] = await Promise.all([
  deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821"),
  deriveTopicKeys("abandon-ability-able-about-above-0000"),
]);
const alice = await generateKeyPair("Ed25519");
const aliceId = peerIdFromPrivateKey(alice).toString();

const stats = (): RendezvousStats => newRendezvousStats();

async function record(seq: number, meeting = keys): Promise<Uint8Array> {
  const info = { peerId: aliceId, name: "Alice", joinedAt: Date.now(), addresses: [] };
  return (await sealPresence(meeting, alice, info, { seq, ttlMs: 60_000 })).bytes;
}

Deno.test("PresenceCheck.open() accepts a record, remembers its seq and counts it", async () => {
  const counters = stats();
  const check = new PresenceCheck(keys, counters);
  assertEquals(check.lastSeq(aliceId), undefined);
  const presence = await check.open(aliceId, await record(5));
  assertEquals(presence.info.name, "Alice");
  assertEquals(check.lastSeq(aliceId), 5);
  // The same record again (a second lookup) still verifies; a newer one moves the seq on.
  await check.open(aliceId, await record(5));
  await check.open(aliceId, await record(9));
  assertEquals(check.lastSeq(aliceId), 9);
  assertEquals([counters.recordsAccepted, counters.recordsRejected], [3, 0]);
});

Deno.test("PresenceCheck.open() rejects a replayed older record and another meeting's, and counts them", async () => {
  const counters = stats();
  const check = new PresenceCheck(keys, counters);
  await check.open(aliceId, await record(9));
  await assertRejects(async () => check.open(aliceId, await record(8)), InvalidRecordError);
  await assertRejects(
    async () => check.open(aliceId, await record(10, otherKeys)),
    InvalidRecordError,
  );
  assertEquals(check.lastSeq(aliceId), 9);
  assertEquals([counters.recordsAccepted, counters.recordsRejected], [1, 2]);
});

Deno.test("presenceDhtKey() is the UTF-8 presenceKey(); topicCid() depends on the topic only", async () => {
  assertEquals(
    new TextDecoder().decode(presenceDhtKey(keys, aliceId)),
    presenceKey(keys, aliceId),
  );
  assertEquals(
    (await topicCid(keys.topicIdBytes)).toString(),
    (await topicCid(keys.topicIdBytes)).toString(),
  );
  assertNotEquals(
    (await topicCid(keys.topicIdBytes)).toString(),
    (await topicCid(otherKeys.topicIdBytes)).toString(),
  );
});
