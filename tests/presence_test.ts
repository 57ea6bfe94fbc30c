import {
  assertEquals,
  assertFalse,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import {
  MAX_NAME_LENGTH,
  openPresence,
  type PresenceInfo,
  presenceKey,
  sealPresence,
} from "../src/presence.ts";
import { RECORD_CLOCK_SKEW_MS, signRecord } from "../src/record.ts";
import { deriveTopicKeys, type TopicKeys } from "../src/topic.ts";
import { InvalidRecordError } from "../src/errors.ts";
import { includesBytes } from "./_fakes.ts";

/** A fixed clock: 2030-01-01T00:00:00Z. */
const T0 = Date.UTC(2030, 0, 1);
const TTL = 60_000;
const CODE = "orbit-velvet-crane-mango-ripple-4821";
const OTHER_CODE = "abandon-ability-able-about-above-0000";
const NAME = "Zoë Quokkamaster";
const encoder = new TextEncoder();

// Two meetings, derived once per file (~100 ms each).
const [keys, otherKeys] = await Promise.all([
  deriveTopicKeys(CODE),
  deriveTopicKeys(OTHER_CODE),
]);
const alice = await generateKeyPair("Ed25519");
const aliceId = peerIdFromPrivateKey(alice).toString();
const bob = await generateKeyPair("Ed25519");
const bobId = peerIdFromPrivateKey(bob).toString();

function aliceInfo(overrides: Partial<PresenceInfo> = {}): PresenceInfo {
  return {
    peerId: aliceId,
    name: NAME,
    joinedAt: T0 - 5_000,
    addresses: [
      `/ip4/203.0.113.7/udp/4001/webrtc-direct/p2p/${aliceId}`,
      `/dns4/relay.example/tcp/443/wss/p2p-circuit/p2p/${aliceId}`,
    ],
    publicAddress: "203.0.113.7:4001",
    ...overrides,
  };
}

function seal(info = aliceInfo(), seq = 5, meeting: TopicKeys = keys) {
  return sealPresence(meeting, alice, info, { seq, ttlMs: TTL, now: T0 });
}

/**
 * Encrypt `plaintext` the way sealPresence() does (AES-GCM, 12-byte IV prefix, the DHT
 * key and seq as additional data) and sign it with Alice's key, so that tests can make
 * records whose contents sealPresence() would refuse to write.
 */
async function sealRaw(
  meeting: TopicKeys,
  plaintext: Uint8Array<ArrayBuffer>,
  seq = 5,
): Promise<Uint8Array> {
  const key = presenceKey(meeting, aliceId);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(`${key}\0${seq}`) },
      meeting.recordKey,
      plaintext,
    ),
  );
  const payload = new Uint8Array(12 + ciphertext.length);
  payload.set(iv, 0);
  payload.set(ciphertext, 12);
  return await signRecord(alice, { key, seq, ttlMs: TTL, payload, now: T0 });
}

Deno.test("sealPresence() output opens with openPresence() to the same info", async () => {
  const info = aliceInfo();
  const { key, bytes } = await seal(info);
  assertEquals(key, `/meshmeet/${keys.topicId}/${aliceId}`);
  const presence = await openPresence(keys, aliceId, bytes, { now: T0 + 1_000 });
  assertEquals(presence.info, info);
  assertEquals(presence.record.seq, 5);
  assertEquals(presence.record.signer, aliceId);
  assertEquals(presence.record.expiresAt, T0 + TTL);
  assertEquals(presence.bytes, bytes);
});

Deno.test("sealPresence() uses a fresh IV, so sealing the same info twice gives different bytes", async () => {
  const [a, b] = await Promise.all([seal(), seal()]);
  const [openedA, openedB] = await Promise.all([
    openPresence(keys, aliceId, a.bytes, { now: T0 }),
    openPresence(keys, aliceId, b.bytes, { now: T0 }),
  ]);
  assertEquals(openedA.info, openedB.info);
  assertNotEquals(openedA.record.payload.slice(0, 12), openedB.record.payload.slice(0, 12));
  assertNotEquals(openedA.record.payload, openedB.record.payload);
});

Deno.test("openPresence() rejects another meeting's record under its own key with InvalidRecordError", async () => {
  const { bytes } = await seal(aliceInfo(), 5, otherKeys);
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: T0 }),
    InvalidRecordError,
    "signed for another key",
  );
});

Deno.test("openPresence() rejects a record in this topic encrypted with another meeting's key with InvalidRecordError", async () => {
  // Someone who knows the public topic id but not the code: the record verifies, but
  // it was encrypted with another meeting's record key.
  const impostor: TopicKeys = { ...keys, recordKey: otherKeys.recordKey };
  const { bytes } = await seal(aliceInfo(), 5, impostor);
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: T0 }),
    InvalidRecordError,
    "cannot be decrypted",
  );
});

Deno.test("openPresence() rejects a replay (seq below minSeq) with InvalidRecordError", async () => {
  const { bytes } = await seal(aliceInfo(), 5);
  assertEquals((await openPresence(keys, aliceId, bytes, { now: T0, minSeq: 5 })).record.seq, 5);
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: T0, minSeq: 6 }),
    InvalidRecordError,
    "replayed",
  );
});

Deno.test("openPresence() rejects an expired record with InvalidRecordError, using the now option", async () => {
  const { bytes } = await seal();
  const late = T0 + TTL + RECORD_CLOCK_SKEW_MS;
  assertEquals((await openPresence(keys, aliceId, bytes, { now: late - 1 })).info.name, NAME);
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: late }),
    InvalidRecordError,
    "expired",
  );
});

Deno.test("openPresence() rejects a record whose payload was tampered with InvalidRecordError", async () => {
  const { bytes } = await seal();
  const keyLength = encoder.encode(presenceKey(keys, aliceId)).length;
  const tampered = bytes.slice();
  tampered[34 + keyLength + 20] ^= 0x01; // inside the ciphertext
  await assertRejects(
    () => openPresence(keys, aliceId, tampered, { now: T0 }),
    InvalidRecordError,
    "signature does not verify",
  );
});

Deno.test("openPresence() rejects a validly signed record whose ciphertext was altered with InvalidRecordError", async () => {
  // The owner (or a bug) signs a corrupted ciphertext: the signature holds, AES-GCM does not.
  const good = await sealRaw(keys, encoder.encode(JSON.stringify(aliceInfo())));
  const presence = await openPresence(keys, aliceId, good, { now: T0 });
  const payload = presence.record.payload.slice();
  payload[payload.length - 1] ^= 0x01;
  const bytes = await signRecord(alice, {
    key: presenceKey(keys, aliceId),
    seq: 5,
    ttlMs: TTL,
    payload,
    now: T0,
  });
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: T0 }),
    InvalidRecordError,
    "cannot be decrypted",
  );
});

Deno.test("openPresence() rejects a ciphertext bound to another seq (additional data) with InvalidRecordError", async () => {
  const sealed = await sealRaw(keys, encoder.encode(JSON.stringify(aliceInfo())), 5);
  const { record } = await openPresence(keys, aliceId, sealed, { now: T0 });
  // Re-sign the same ciphertext under seq 6: the additional data no longer matches.
  const bumped = await signRecord(alice, {
    key: presenceKey(keys, aliceId),
    seq: 6,
    ttlMs: TTL,
    payload: record.payload,
    now: T0,
  });
  await assertRejects(
    () => openPresence(keys, aliceId, bumped, { now: T0 }),
    InvalidRecordError,
    "cannot be decrypted",
  );
});

Deno.test("openPresence() rejects a record whose info.peerId is not the signer with InvalidRecordError", async () => {
  // sealPresence() derives the DHT key from info.peerId, so it cannot produce this; build
  // the encrypted payload by hand and sign it with Alice's key under Alice's DHT key.
  const claimsBob = await sealRaw(
    keys,
    encoder.encode(JSON.stringify(aliceInfo({ peerId: bobId }))),
  );
  await assertRejects(
    () => openPresence(keys, aliceId, claimsBob, { now: T0 }),
    InvalidRecordError,
    `it names ${bobId} but was signed by ${aliceId}`,
  );
});

Deno.test("openPresence() rejects a record whose decrypted contents are malformed with InvalidRecordError", async () => {
  for (
    const contents of [
      "not json",
      "null",
      JSON.stringify({ ...aliceInfo(), name: 42 }),
      JSON.stringify({ ...aliceInfo(), addresses: "x" }),
    ]
  ) {
    const bytes = await sealRaw(keys, encoder.encode(contents));
    await assertRejects(
      () => openPresence(keys, aliceId, bytes, { now: T0 }),
      InvalidRecordError,
      "malformed",
      contents,
    );
  }
});

Deno.test("openPresence() rejects a record too short to be encrypted with InvalidRecordError", async () => {
  const bytes = await signRecord(alice, {
    key: presenceKey(keys, aliceId),
    seq: 5,
    ttlMs: TTL,
    payload: new Uint8Array(27),
    now: T0,
  });
  await assertRejects(
    () => openPresence(keys, aliceId, bytes, { now: T0 }),
    InvalidRecordError,
    "too short",
  );
});

Deno.test("sealPresence() output contains neither the display name, the addresses nor the code in plain text", async () => {
  const { bytes } = await seal();
  const secrets = [
    NAME,
    "Quokka",
    CODE,
    "orbit velvet",
    "203.0.113.7",
    "relay.example",
    aliceInfo().addresses[0],
  ];
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const latin1 = Array.from(bytes, (b) => String.fromCharCode(b)).join("");
  for (const secret of secrets) {
    assertFalse(text.includes(secret), `${JSON.stringify(secret)} readable as UTF-8`);
    assertFalse(latin1.includes(secret), `${JSON.stringify(secret)} readable byte-wise`);
    assertFalse(includesBytes(bytes, encoder.encode(secret)), `${JSON.stringify(secret)} as bytes`);
    assertFalse(
      includesBytes(bytes, encoder.encode(JSON.stringify(secret))),
      `${JSON.stringify(secret)} as JSON`,
    );
  }
  // The topic id and the peer id are public and do appear (in the DHT key).
  assertStringIncludes(text, keys.topicId);
  assertStringIncludes(text, aliceId);
});

Deno.test("sealPresence() refuses a name longer than MAX_NAME_LENGTH with TypeError", async () => {
  assertEquals(MAX_NAME_LENGTH, 64);
  const longest = "n".repeat(MAX_NAME_LENGTH);
  const { bytes } = await seal(aliceInfo({ name: longest }));
  assertEquals((await openPresence(keys, aliceId, bytes, { now: T0 })).info.name, longest);
  await assertRejects(
    () => seal(aliceInfo({ name: "n".repeat(MAX_NAME_LENGTH + 1) })),
    TypeError,
    "presence.name",
  );
});

Deno.test("sealPresence() refuses more than 16 addresses or a non-string address with TypeError", async () => {
  await assertRejects(
    () => seal(aliceInfo({ addresses: Array.from({ length: 17 }, (_, i) => `/ip4/10.0.0.${i}`) })),
    TypeError,
    "presence.addresses",
  );
  await assertRejects(
    () => seal(aliceInfo({ addresses: [42 as unknown as string] })),
    TypeError,
    "presence.addresses",
  );
});

Deno.test("sealPresence() refuses a signing key that is not info.peerId's with TypeError", async () => {
  await assertRejects(
    () => sealPresence(keys, bob, aliceInfo(), { seq: 1, ttlMs: TTL, now: T0 }),
    TypeError,
  );
});

Deno.test("presenceKey() rejects a peer id containing a slash with TypeError", () => {
  assertThrows(() => presenceKey(keys, "a/b"), TypeError);
});

Deno.test("openPresence() accepts records between members whose clocks are off by ±2 minutes", async () => {
  const MIN = 60_000;
  // Writer 2 min ahead, reader 2 min behind (and the reverse), at any point of the record's
  // life before its next renewal (every ttl/3): both read each other's records.
  for (const [writer, reader] of [[+2 * MIN, -2 * MIN], [-2 * MIN, +2 * MIN]]) {
    const { bytes } = await sealPresence(keys, alice, aliceInfo(), {
      seq: T0 + writer,
      ttlMs: TTL,
      now: T0 + writer,
    });
    for (const age of [0, TTL / 3, TTL - 1]) {
      const opened = await openPresence(keys, aliceId, bytes, { now: T0 + age + reader });
      assertEquals(opened.info.name, NAME);
    }
  }
});
