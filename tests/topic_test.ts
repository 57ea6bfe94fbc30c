import {
  assert,
  assertEquals,
  assertFalse,
  assertGreaterOrEqual,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "@std/assert";
import {
  deriveTopicKeys,
  fromHex,
  isTopicId,
  toHex,
  TOPIC_KDF_ITERATIONS,
  TOPIC_KDF_LANES,
  TOPIC_KDF_SALT,
  type TopicKeys,
} from "../src/topic.ts";
import { InvalidInvitationCodeError } from "../src/errors.ts";

/**
 * Regression vectors: invitation code -> topic id.
 *
 * They pin the whole derivation: normalization, four PBKDF2-HMAC-SHA-256 lanes of 150000
 * rounds each (TOPIC_KDF_ITERATIONS 600000 in all), lane i salted
 * "meshmeet/v2/invitation-code/i", their outputs concatenated, then HKDF-SHA-256 with an
 * empty salt and the label "meshmeet/v2/topic-id". Any change to those constants or labels
 * changes every topic id, and nodes of different versions stop finding each other, so such
 * a change must be deliberate (a new protocol version: v1 was one lane of 600000 rounds).
 *
 * Computed with Python's hashlib.pbkdf2_hmac plus a hand-written HKDF (RFC 5869), which
 * also reproduces the v1 vectors, and checked against this implementation.
 */
const VECTORS = [
  {
    code: "orbit-velvet-crane-mango-ripple-4821",
    topicId: "bd109b58ff2247398f9210e21352e0969b966f0e0bfda8aeac1d47931823c3c0",
  },
  {
    code: "abandon-ability-able-about-above-0000",
    topicId: "d05561f3d0a142c0e01e86761bfe3c422e66e5f64ae0542204aeff43408d6633",
  },
  {
    // Normalizes to "meshmeet-test-vector-3".
    code: "meshmeet test vector 3",
    topicId: "a870d0eb0606712d4299f5a08db9c4554ca16659f4050116f75449b6bb7bf32e",
  },
] as const;

// Each derivation costs 50–100 ms (600000 PBKDF2 rounds): derive each code once per file.
const cache = new Map<string, Promise<TopicKeys>>();
function keysOf(code: string): Promise<TopicKeys> {
  let keys = cache.get(code);
  if (keys === undefined) {
    keys = deriveTopicKeys(code);
    cache.set(code, keys);
  }
  return keys;
}

const encoder = new TextEncoder();

Deno.test("deriveTopicKeys() maps fixed codes to fixed topic ids (KDF regression vectors)", async () => {
  assertEquals(TOPIC_KDF_SALT, "meshmeet/v2/invitation-code");
  assertEquals(TOPIC_KDF_LANES, 4);
  for (const { code, topicId } of VECTORS) {
    const keys = await keysOf(code);
    assertEquals(keys.topicId, topicId, `topic id of ${JSON.stringify(code)}`);
    assertEquals(keys.topicIdBytes, fromHex(topicId));
    assert(isTopicId(keys.topicId));
  }
});

Deno.test("deriveTopicKeys() gives the same topic id for different spellings of one code", async () => {
  const canonical = await keysOf(VECTORS[0].code);
  for (
    const spelling of [
      "  Orbit Velvet_crane.MANGO ripple ４８２１ ",
      "ORBIT/VELVET/CRANE/MANGO/RIPPLE/4821",
    ]
  ) {
    const keys = await keysOf(spelling);
    assertEquals(keys.topicId, canonical.topicId, JSON.stringify(spelling));
  }
});

Deno.test("deriveTopicKeys() gives different topic ids for different codes", async () => {
  const ids = await Promise.all(VECTORS.map(async ({ code }) => (await keysOf(code)).topicId));
  assertEquals(new Set(ids).size, VECTORS.length);
});

Deno.test("deriveTopicKeys() rejects an invalid code with InvalidInvitationCodeError", async () => {
  await assertRejects(() => deriveTopicKeys(""), InvalidInvitationCodeError);
  await assertRejects(() => deriveTopicKeys("short"), InvalidInvitationCodeError);
});

Deno.test("deriveTopicKeys() returns non-extractable record and membership keys", async () => {
  const keys = await keysOf(VECTORS[0].code);
  for (const key of [keys.recordKey, keys.membershipKey]) {
    assertFalse(key.extractable);
    await assertRejects(() => crypto.subtle.exportKey("raw", key));
    await assertRejects(() => crypto.subtle.exportKey("jwk", key));
  }
  assertEquals(keys.recordKey.algorithm.name, "AES-GCM");
  assertEquals((keys.recordKey.algorithm as AesKeyAlgorithm).length, 256);
  assertEquals(keys.membershipKey.algorithm.name, "HMAC");
});

Deno.test("deriveTopicKeys() record key decrypts what it encrypted and another code's key cannot", async () => {
  const keys = await keysOf(VECTORS[0].code);
  const other = await keysOf(VECTORS[1].code);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = encoder.encode("presence of Ada");
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    keys.recordKey,
    plaintext,
  );
  const decrypted = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv },
    keys.recordKey,
    ciphertext,
  );
  assertEquals(new Uint8Array(decrypted), plaintext);
  await assertRejects(() =>
    crypto.subtle.decrypt({ name: "AES-GCM", iv }, other.recordKey, ciphertext)
  );
});

Deno.test("deriveTopicKeys() membership keys of two derivations of one code give equal HMACs", async () => {
  const first = await keysOf(VECTORS[0].code);
  const second = await keysOf("ORBIT/VELVET/CRANE/MANGO/RIPPLE/4821");
  assert(first !== second, "expected two separate derivations");
  const other = await keysOf(VECTORS[1].code);
  const data = encoder.encode("transcript");
  const a = new Uint8Array(await crypto.subtle.sign("HMAC", first.membershipKey, data));
  const b = new Uint8Array(await crypto.subtle.sign("HMAC", second.membershipKey, data));
  const c = new Uint8Array(await crypto.subtle.sign("HMAC", other.membershipKey, data));
  assertEquals(a.length, 32);
  assertEquals(a, b);
  assertNotEquals(a, c);
});

Deno.test("TOPIC_KDF_ITERATIONS is at least 600000 in all, split evenly over the lanes", () => {
  assertGreaterOrEqual(TOPIC_KDF_ITERATIONS, 600_000);
  assertEquals(TOPIC_KDF_ITERATIONS % TOPIC_KDF_LANES, 0);
});

Deno.test("isTopicId() accepts 64 lower-case hex characters and nothing else", () => {
  assert(isTopicId("ab".repeat(32)));
  assert(isTopicId("0123456789abcdef".repeat(4)));
  assertFalse(isTopicId("AB".repeat(32)));
  assertFalse(isTopicId("ab".repeat(31) + "a"));
  assertFalse(isTopicId("ab".repeat(33)));
  assertFalse(isTopicId("gg".repeat(32)));
  assertFalse(isTopicId(" " + "ab".repeat(32)));
  assertFalse(isTopicId("ab".repeat(32) + "\n"));
  assertFalse(isTopicId(""));
  assertFalse(isTopicId(undefined as unknown as string));
  assertFalse(isTopicId(42 as unknown as string));
});

Deno.test("toHex() and fromHex() round-trip every byte value", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = toHex(bytes);
  assertEquals(hex.length, 512);
  assertEquals(hex.slice(0, 8), "00010203");
  assertEquals(hex.slice(-4), "feff");
  assertEquals(fromHex(hex), bytes);
  assertEquals(toHex(new Uint8Array(0)), "");
  assertEquals(fromHex(""), new Uint8Array(0));
  assertEquals(fromHex("01FF"), new Uint8Array([1, 255]));
});

Deno.test("fromHex() rejects an odd length with TypeError", () => {
  for (const hex of ["a", "abc", "0".repeat(63)]) {
    assertThrows(() => fromHex(hex), TypeError, "even-length hex");
  }
});

Deno.test("fromHex() rejects non-hex characters with TypeError", () => {
  for (const hex of ["zz", "0x01", "01 02", "0g", "-1", "1.", "\u0661\u0662"]) {
    assertThrows(() => fromHex(hex), TypeError, "even-length hex");
  }
});
