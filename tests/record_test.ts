import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PrivateKey } from "@libp2p/interface";
import {
  MAX_RECORD_SIZE,
  MAX_RECORD_TTL_MS,
  openRecord,
  RECORD_CLOCK_SKEW_MS,
  recordKey,
  selectDhtRecord,
  signRecord,
  validateDhtRecord,
} from "../src/record.ts";
import { InvalidRecordError } from "../src/errors.ts";

/** A fixed clock: 2030-01-01T00:00:00Z. */
const T0 = Date.UTC(2030, 0, 1);
const TTL = 60_000;
const SCOPE = "ab".repeat(32);
const OTHER_SCOPE = "cd".repeat(32);
const encoder = new TextEncoder();
const PAYLOAD = encoder.encode("opaque payload \u{1F512}");

const alice = await generateKeyPair("Ed25519");
const aliceId = peerIdFromPrivateKey(alice).toString();
const mallory = await generateKeyPair("Ed25519");
const malloryId = peerIdFromPrivateKey(mallory).toString();
const aliceKey = recordKey(SCOPE, aliceId);

interface RawRecord {
  key: string;
  seq: number;
  issuedAt: number;
  expiresAt: number;
  payload: Uint8Array;
}

/**
 * Encode and sign a record by hand, following the layout documented in src/record.ts, so
 * that tests can build records that signRecord() refuses to make (other signer, long
 * lifetime). The first test checks that this encoder matches signRecord() byte for byte.
 */
async function encodeRawRecord(signer: PrivateKey, record: RawRecord): Promise<Uint8Array> {
  const key = encoder.encode(record.key);
  const body = new Uint8Array(4 + 24 + 2 + key.length + 4 + record.payload.length);
  const view = new DataView(body.buffer);
  body.set([0x4d, 0x4d, 0x52, 0x01], 0);
  view.setBigUint64(4, BigInt(record.seq));
  view.setBigUint64(12, BigInt(record.issuedAt));
  view.setBigUint64(20, BigInt(record.expiresAt));
  view.setUint16(28, key.length);
  body.set(key, 30);
  view.setUint32(30 + key.length, record.payload.length);
  body.set(record.payload, 34 + key.length);
  const domain = encoder.encode("meshmeet-record/v1\0");
  const signed = new Uint8Array(domain.length + body.length);
  signed.set(domain, 0);
  signed.set(body, domain.length);
  const signature = await signer.sign(signed);
  const out = new Uint8Array(body.length + 2 + signature.length);
  out.set(body, 0);
  new DataView(out.buffer).setUint16(body.length, signature.length);
  out.set(signature, body.length + 2);
  return out;
}

function signAlice(overrides: { seq?: number; ttlMs?: number; now?: number } = {}) {
  return signRecord(alice, {
    key: aliceKey,
    seq: overrides.seq ?? 7,
    ttlMs: overrides.ttlMs ?? TTL,
    payload: PAYLOAD,
    now: overrides.now ?? T0,
  });
}

async function assertInvalid(
  promise: () => Promise<unknown>,
  message: string,
): Promise<InvalidRecordError> {
  const error = await assertRejects(promise, InvalidRecordError, message);
  assertEquals(error.name, "InvalidRecordError");
  return error;
}

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 0x01;
  return copy;
}

Deno.test("signRecord() writes the documented layout (matches a hand-made encoder byte for byte)", async () => {
  const bytes = await signAlice();
  const manual = await encodeRawRecord(alice, {
    key: aliceKey,
    seq: 7,
    issuedAt: T0,
    expiresAt: T0 + TTL,
    payload: PAYLOAD,
  });
  // Ed25519 signatures are deterministic, so equal bodies give equal records.
  assertEquals(bytes, manual);
});

Deno.test("openRecord() returns what signRecord() signed", async () => {
  const bytes = await signAlice();
  const record = await openRecord(aliceKey, bytes, { now: T0 + 1_000 });
  assertEquals(record, {
    key: aliceKey,
    signer: aliceId,
    seq: 7,
    issuedAt: T0,
    expiresAt: T0 + TTL,
    payload: PAYLOAD,
  });
});

Deno.test("openRecord() accepts the key as UTF-8 bytes, as kad-dht passes it", async () => {
  const bytes = await signAlice();
  const record = await openRecord(encoder.encode(aliceKey), bytes, { now: T0 });
  assertEquals(record.key, aliceKey);
  assertEquals(record.signer, aliceId);
});

Deno.test("openRecord() accepts a record inside a larger buffer (non-zero byteOffset)", async () => {
  const bytes = await signAlice();
  const buffer = new Uint8Array(bytes.length + 10);
  buffer.set(bytes, 5);
  const record = await openRecord(aliceKey, buffer.subarray(5, 5 + bytes.length), { now: T0 });
  assertEquals(record.payload, PAYLOAD);
});

Deno.test("openRecord() rejects a record moved to another scope with InvalidRecordError", async () => {
  const bytes = await signAlice();
  await assertInvalid(
    () => openRecord(recordKey(OTHER_SCOPE, aliceId), bytes, { now: T0 }),
    "signed for another key",
  );
});

Deno.test("openRecord() rejects a record moved to another peer's key with InvalidRecordError", async () => {
  const bytes = await signAlice();
  await assertInvalid(
    () => openRecord(recordKey(SCOPE, malloryId), bytes, { now: T0 }),
    "signed for another key",
  );
});

Deno.test("openRecord() rejects a record for Alice's key signed by Mallory (forged) with InvalidRecordError", async () => {
  const forged = await encodeRawRecord(mallory, {
    key: aliceKey,
    seq: 8,
    issuedAt: T0,
    expiresAt: T0 + TTL,
    payload: encoder.encode("I am Alice"),
  });
  await assertInvalid(() => openRecord(aliceKey, forged, { now: T0 }), "signature does not verify");
});

Deno.test("openRecord() rejects a record with a flipped payload byte with InvalidRecordError", async () => {
  const bytes = await signAlice();
  const payloadStart = 34 + encoder.encode(aliceKey).length;
  await assertInvalid(
    () => openRecord(aliceKey, flipped(bytes, payloadStart + 3), { now: T0 }),
    "signature does not verify",
  );
});

Deno.test("openRecord() rejects a record with a flipped header byte (seq, times) with InvalidRecordError", async () => {
  const bytes = await signAlice();
  // Least significant bytes of seq, issuedAt and expiresAt: the record still parses and
  // looks current, only the signature catches the change.
  for (const index of [11, 19, 27]) {
    await assertInvalid(
      () => openRecord(aliceKey, flipped(bytes, index), { now: T0 }),
      "signature does not verify",
    );
  }
});

Deno.test("openRecord() rejects a record with a flipped signature byte with InvalidRecordError", async () => {
  const bytes = await signAlice();
  for (const fromEnd of [1, 32, 64]) {
    await assertInvalid(
      () => openRecord(aliceKey, flipped(bytes, bytes.length - fromEnd), { now: T0 }),
      "signature does not verify",
    );
  }
});

Deno.test("openRecord() rejects every truncation of a record with InvalidRecordError", async () => {
  const bytes = await signAlice();
  for (let length = 0; length < bytes.length; length++) {
    await assertRejects(
      () => openRecord(aliceKey, bytes.slice(0, length), { now: T0 }),
      InvalidRecordError,
      undefined,
      `truncated to ${length} bytes`,
    );
  }
});

Deno.test("openRecord() rejects a record with trailing bytes with InvalidRecordError", async () => {
  const bytes = await signAlice();
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  await assertInvalid(() => openRecord(aliceKey, longer, { now: T0 }), "length does not match");
});

Deno.test("openRecord() rejects a record with bad magic or version with InvalidRecordError", async () => {
  const bytes = await signAlice();
  for (const index of [0, 1, 2, 3]) {
    await assertInvalid(
      () => openRecord(aliceKey, flipped(bytes, index), { now: T0 }),
      "bad header",
    );
  }
});

Deno.test("openRecord() rejects a key outside the /meshmeet/<scope>/<peer id> form with InvalidRecordError", async () => {
  const bytes = await signAlice();
  for (
    const key of [
      `/other/${SCOPE}/${aliceId}`,
      `/meshmeet/${aliceId}`,
      `meshmeet/${SCOPE}/${aliceId}`,
    ]
  ) {
    await assertInvalid(() => openRecord(key, bytes, { now: T0 }), "is not of the form");
  }
  await assertInvalid(
    () => openRecord(new Uint8Array([0x2f, 0xff, 0xfe]), bytes, { now: T0 }),
    "not UTF-8",
  );
});

Deno.test("openRecord() rejects a record whose key does not end in a usable peer id with InvalidRecordError", async () => {
  const notAPeerId = recordKey(SCOPE, "not-a-peer-id");
  const bytes = await encodeRawRecord(alice, {
    key: notAPeerId,
    seq: 1,
    issuedAt: T0,
    expiresAt: T0 + TTL,
    payload: PAYLOAD,
  });
  await assertInvalid(() => openRecord(notAPeerId, bytes, { now: T0 }), "is not a peer id");
  // An RSA-style peer id (a SHA-256 multihash) does not embed its public key.
  const rsaKey = recordKey(SCOPE, "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  const rsaBytes = await encodeRawRecord(alice, {
    key: rsaKey,
    seq: 1,
    issuedAt: T0,
    expiresAt: T0 + TTL,
    payload: PAYLOAD,
  });
  await assertInvalid(
    () => openRecord(rsaKey, rsaBytes, { now: T0 }),
    "does not embed a public key",
  );
});

Deno.test("openRecord() rejects a record larger than MAX_RECORD_SIZE with InvalidRecordError", async () => {
  await assertInvalid(
    () => openRecord(aliceKey, new Uint8Array(MAX_RECORD_SIZE + 1), { now: T0 }),
    "over the limit",
  );
});

Deno.test("openRecord() rejects an expired record with InvalidRecordError, using the now option", async () => {
  const bytes = await signAlice();
  const open = (now: number) => openRecord(aliceKey, bytes, { now });
  assertEquals((await open(T0 + TTL - 1)).seq, 7);
  await assertInvalid(() => open(T0 + TTL), "expired");
  await assertInvalid(() => open(T0 + TTL + 3_600_000), "expired 3600 s ago");
});

Deno.test("openRecord() accepts an expired record when allowExpired is set", async () => {
  const bytes = await signAlice();
  const record = await openRecord(aliceKey, bytes, { now: T0 + 10 * TTL, allowExpired: true });
  assertEquals(record.expiresAt, T0 + TTL);
});

Deno.test("openRecord() rejects a record issued beyond RECORD_CLOCK_SKEW_MS in the future with InvalidRecordError", async () => {
  const bytes = await signAlice();
  const open = (now: number) => openRecord(aliceKey, bytes, { now });
  assertEquals((await open(T0 - RECORD_CLOCK_SKEW_MS)).issuedAt, T0);
  await assertInvalid(() => open(T0 - RECORD_CLOCK_SKEW_MS - 1), "issued in the future");
});

Deno.test("openRecord() rejects a correctly signed record claiming more than MAX_RECORD_TTL_MS with InvalidRecordError", async () => {
  const longLived = await encodeRawRecord(alice, {
    key: aliceKey,
    seq: 1,
    issuedAt: T0,
    expiresAt: T0 + MAX_RECORD_TTL_MS + 1,
    payload: PAYLOAD,
  });
  await assertInvalid(() => openRecord(aliceKey, longLived, { now: T0 }), "lifetime of");
  await assertInvalid(
    () => openRecord(aliceKey, longLived, { now: T0, allowExpired: true }),
    "over the limit",
  );
  const justRight = await encodeRawRecord(alice, {
    key: aliceKey,
    seq: 1,
    issuedAt: T0,
    expiresAt: T0 + MAX_RECORD_TTL_MS,
    payload: PAYLOAD,
  });
  assertEquals((await openRecord(aliceKey, justRight, { now: T0 })).seq, 1);
});

Deno.test("openRecord() rejects a correctly signed record that expires before it was issued with InvalidRecordError", async () => {
  const backwards = await encodeRawRecord(alice, {
    key: aliceKey,
    seq: 1,
    issuedAt: T0,
    expiresAt: T0 - 1,
    payload: PAYLOAD,
  });
  await assertInvalid(
    () => openRecord(aliceKey, backwards, { now: T0 - 10, allowExpired: true }),
    "expires before it was issued",
  );
});

Deno.test("signRecord() rejects a key that belongs to another peer with TypeError", async () => {
  const error = await assertRejects(
    () => signRecord(mallory, { key: aliceKey, seq: 1, ttlMs: TTL, payload: PAYLOAD, now: T0 }),
    TypeError,
  );
  assertStringIncludes(error.message, aliceId);
});

Deno.test("signRecord() rejects a ttl outside 1..MAX_RECORD_TTL_MS with RangeError", async () => {
  for (const ttlMs of [0, -1, MAX_RECORD_TTL_MS + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await assertRejects(() => signAlice({ ttlMs }), RangeError, "ttl", `ttlMs ${ttlMs}`);
  }
  const record = await openRecord(aliceKey, await signAlice({ ttlMs: MAX_RECORD_TTL_MS }), {
    now: T0,
  });
  assertEquals(record.expiresAt - record.issuedAt, MAX_RECORD_TTL_MS);
});

Deno.test("signRecord() rejects a seq that is not a safe integer >= 0 with TypeError", async () => {
  for (const seq of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
    await assertRejects(() => signAlice({ seq }), TypeError, "seq", `seq ${seq}`);
  }
});

Deno.test("signRecord() rejects a payload that makes the record larger than MAX_RECORD_SIZE with RangeError", async () => {
  await assertRejects(
    () =>
      signRecord(alice, {
        key: aliceKey,
        seq: 1,
        ttlMs: TTL,
        payload: new Uint8Array(MAX_RECORD_SIZE),
        now: T0,
      }),
    RangeError,
    "over the limit",
  );
});

Deno.test("validateDhtRecord() accepts a valid record", async () => {
  const bytes = await signRecord(alice, { key: aliceKey, seq: 1, ttlMs: TTL, payload: PAYLOAD });
  await validateDhtRecord(encoder.encode(aliceKey), bytes);
});

Deno.test("validateDhtRecord() rejects a forged record with InvalidRecordError", async () => {
  const now = Date.now();
  const forged = await encodeRawRecord(mallory, {
    key: aliceKey,
    seq: 2,
    issuedAt: now,
    expiresAt: now + TTL,
    payload: PAYLOAD,
  });
  const error = await assertRejects(
    () => validateDhtRecord(encoder.encode(aliceKey), forged),
    InvalidRecordError,
  );
  assertStringIncludes(error.message, "signature does not verify");
});

Deno.test("selectDhtRecord() picks the record with the highest seq", async () => {
  const records = await Promise.all([3, 9, 5, 1].map((seq) => signAlice({ seq })));
  assertEquals(selectDhtRecord(encoder.encode(aliceKey), records), 1);
  assertEquals(selectDhtRecord(encoder.encode(aliceKey), records.slice().reverse()), 2);
});

Deno.test("selectDhtRecord() breaks a seq tie with the later issue time", async () => {
  const records = await Promise.all([
    signAlice({ seq: 4, now: T0 }),
    signAlice({ seq: 4, now: T0 + 5_000 }),
    signAlice({ seq: 4, now: T0 + 1_000 }),
  ]);
  assertEquals(selectDhtRecord(encoder.encode(aliceKey), records), 1);
});

Deno.test("selectDhtRecord() ranks a too-short record last", async () => {
  const records = [new Uint8Array(5), await signAlice({ seq: 0 })];
  assertEquals(selectDhtRecord(encoder.encode(aliceKey), records), 1);
});

// Fails against src/record.ts as of this writing: selectDhtRecord() reads seq from any
// record of 28 bytes or more without checking the "MMR" v1 header, so 28+ bytes of 0xff
// claim seq 2^64-1 and win, although its doc says "unparsable records lose". kad-dht
// validates records before selecting, so this is latent, not exploitable through it.
Deno.test({
  name: "selectDhtRecord() ranks a record without the meshmeet header last",
  async fn() {
    const valid = await signAlice({ seq: 5 });
    const garbage = new Uint8Array(valid.length).fill(0xff);
    assertEquals(selectDhtRecord(encoder.encode(aliceKey), [garbage, valid]), 1);
  },
});

Deno.test("recordKey() builds /meshmeet/<scope>/<peer id> and rejects slashes with TypeError", () => {
  assertEquals(aliceKey, `/meshmeet/${SCOPE}/${aliceId}`);
  assertThrows(() => recordKey("", aliceId), TypeError);
  assertThrows(() => recordKey("a/b", aliceId), TypeError);
  assertThrows(() => recordKey(SCOPE, "x/y"), TypeError);
});

Deno.test("openRecord() rejects a signature of the wrong length with InvalidRecordError (found by fuzzing)", async () => {
  const { generateKeyPair } = await import("@libp2p/crypto/keys");
  const { peerIdFromPrivateKey } = await import("@libp2p/peer-id");
  const { InvalidRecordError } = await import("../src/errors.ts");
  const { openRecord, recordKey, signRecord } = await import("../src/record.ts");
  const key = await generateKeyPair("Ed25519");
  const peerId = peerIdFromPrivateKey(key).toString();
  const now = Date.now();
  const k = recordKey("fuzz", peerId);
  const good = await signRecord(key, {
    key: k,
    seq: 1,
    payload: new Uint8Array([1]),
    ttlMs: 60_000,
    now,
  });
  // Cut the 64-byte signature to 63 and fix its length field.
  const bad = good.slice(0, good.length - 1);
  new DataView(bad.buffer).setUint16(good.length - 66, 63);
  const err = await openRecord(k, bad, { now }).catch((e) => e);
  if (!(err instanceof InvalidRecordError)) {
    throw new Error(`expected InvalidRecordError, got ${err}`);
  }
});

Deno.test("openRecord() accepts a record expiryGraceMs past its expiry, and no longer", async () => {
  const bytes = await signAlice();
  const open = (now: number) =>
    openRecord(aliceKey, bytes, { now, expiryGraceMs: RECORD_CLOCK_SKEW_MS });
  assertEquals((await open(T0 + TTL + RECORD_CLOCK_SKEW_MS - 1)).seq, 7);
  await assertInvalid(() => open(T0 + TTL + RECORD_CLOCK_SKEW_MS), "expired");
});
