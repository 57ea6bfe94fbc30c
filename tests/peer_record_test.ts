import { assertEquals, assertRejects } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { InvalidRecordError } from "../mod.ts";
import { openPeerRecord, peerRecordKey, sealPeerRecord } from "../src/peer_record.ts";
import { signRecord } from "../src/record.ts";

const ADDR = "/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";

Deno.test("openPeerRecord() returns what sealPeerRecord() signed", async () => {
  const key = await generateKeyPair("Ed25519");
  const id = peerIdFromPrivateKey(key).toString();
  const bytes = await sealPeerRecord(key, { addresses: [ADDR], seq: 7, ttlMs: 60_000, now: 1000 });
  const found = await openPeerRecord(id, bytes, { now: 2000 });
  assertEquals(found, { peerId: id, addresses: [ADDR], seq: 7, issuedAt: 1000, expiresAt: 61_000 });
  assertEquals(peerRecordKey(id), `/meshmeet/peer/${id}`);
});

Deno.test("openPeerRecord() rejects an expired record, another peer's record and a malformed list", async () => {
  const [key, other] = [await generateKeyPair("Ed25519"), await generateKeyPair("Ed25519")];
  const id = peerIdFromPrivateKey(key).toString();
  const bytes = await sealPeerRecord(key, { addresses: [ADDR], seq: 1, ttlMs: 5000, now: 0 });
  await assertRejects(
    () => openPeerRecord(id, bytes, { now: 5000 }),
    InvalidRecordError,
    "expired",
  );
  const otherId = peerIdFromPrivateKey(other).toString();
  await assertRejects(() => openPeerRecord(otherId, bytes, { now: 1 }), InvalidRecordError);
  const malformed = await signRecord(key, {
    key: peerRecordKey(id),
    seq: 2,
    ttlMs: 5000,
    now: 0,
    payload: new TextEncoder().encode(JSON.stringify({ addresses: ["not a multiaddr"] })),
  });
  await assertRejects(
    () => openPeerRecord(id, malformed, { now: 1 }),
    InvalidRecordError,
    "address list is malformed",
  );
});

Deno.test("sealPeerRecord() refuses more than 16 addresses or a malformed one", async () => {
  const key = await generateKeyPair("Ed25519");
  await assertRejects(
    () => sealPeerRecord(key, { addresses: Array(17).fill(ADDR), seq: 1, ttlMs: 1000 }),
    TypeError,
    "at most 16",
  );
  await assertRejects(() => sealPeerRecord(key, { addresses: ["nope"], seq: 1, ttlMs: 1000 }));
});
