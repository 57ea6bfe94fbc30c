import { assert, assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { decodeMessage, encodeMessage, type MessageData } from "../src/message_codec.ts";
import { InvalidFrameError } from "../src/errors.ts";

const encoder = new TextEncoder();

function tagged(tag: number, body: string | Uint8Array): Uint8Array {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const out = new Uint8Array(bytes.length + 1);
  out[0] = tag;
  out.set(bytes, 1);
  return out;
}

Deno.test("encodeMessage() and decodeMessage() round-trip text, with tag 1", () => {
  for (const text of ["", "hello", "Zoë 👋 — 你好", '{"not":"json"}', "\u0000\n"]) {
    const payload = encodeMessage(text);
    assertEquals(payload[0], 1);
    assertEquals(payload.subarray(1), encoder.encode(text));
    assertEquals(decodeMessage(payload), text);
  }
});

Deno.test("encodeMessage() and decodeMessage() round-trip bytes, with tag 0", () => {
  for (
    const bytes of [
      new Uint8Array(0),
      new Uint8Array([0, 1, 2, 255]),
      new Uint8Array(70_000).fill(7),
    ]
  ) {
    const payload = encodeMessage(bytes);
    assertEquals(payload[0], 0);
    const decoded = decodeMessage(payload);
    assertInstanceOf(decoded, Uint8Array);
    assertEquals(decoded, bytes);
  }
});

Deno.test("encodeMessage() copies bytes in and decodeMessage() copies bytes out", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const payload = encodeMessage(bytes);
  bytes[0] = 9;
  const decoded = decodeMessage(payload) as Uint8Array;
  assertEquals(decoded, new Uint8Array([1, 2, 3]));
  assert(decoded.buffer !== payload.buffer, "the decoded bytes share the payload's buffer");
  payload[1] = 8;
  assertEquals(decoded[0], 1);
});

Deno.test("encodeMessage() and decodeMessage() round-trip JSON values, with tag 2", () => {
  const values: MessageData[] = [
    null,
    true,
    false,
    0,
    -1.5,
    [],
    {},
    [1, "two", null, { three: [3] }],
    { kind: "chat", text: "hi 👋", at: 1_700_000_000_000, tags: ["a", "b"], nested: { ok: true } },
  ];
  for (const value of values) {
    const payload = encodeMessage(value);
    assertEquals(payload[0], 2, JSON.stringify(value));
    assertEquals(decodeMessage(payload), value);
  }
});

Deno.test("decodeMessage() rejects an unknown tag with InvalidFrameError", () => {
  for (const tag of [3, 4, 127, 255]) {
    assertThrows(
      () => decodeMessage(tagged(tag, "x")),
      InvalidFrameError,
      `unknown payload tag ${tag}`,
    );
  }
  assertThrows(() => decodeMessage(new Uint8Array([3])), InvalidFrameError, "unknown payload tag");
});

Deno.test("decodeMessage() rejects an empty payload with InvalidFrameError", () => {
  assertThrows(() => decodeMessage(new Uint8Array(0)), InvalidFrameError, "empty payload");
});

Deno.test("decodeMessage() rejects malformed JSON with InvalidFrameError", () => {
  for (const body of ["{", "", "undefined", "{'a': 1}", "[1,]", "NaN"]) {
    assertThrows(() => decodeMessage(tagged(2, body)), InvalidFrameError, "malformed", body);
  }
});

Deno.test("decodeMessage() rejects text or JSON that is not UTF-8 with InvalidFrameError", () => {
  const invalid = new Uint8Array([0x68, 0xff, 0xfe, 0x69]);
  assertThrows(() => decodeMessage(tagged(1, invalid)), InvalidFrameError, "malformed");
  assertThrows(
    () => decodeMessage(tagged(2, new Uint8Array([0x22, 0xc3, 0x22]))),
    InvalidFrameError,
  );
});

Deno.test("encodeMessage() rejects a function or undefined with TypeError", () => {
  for (const value of [() => 1, function named() {}, undefined, Symbol("s")]) {
    assertThrows(
      () => encodeMessage(value as unknown as MessageData),
      TypeError,
      "cannot be serialized as JSON",
    );
  }
});

Deno.test("encodeMessage() rejects a BigInt with TypeError", () => {
  assertThrows(
    () => encodeMessage(10n as unknown as MessageData),
    TypeError,
    "cannot be serialized",
  );
  assertThrows(
    () => encodeMessage({ amount: 10n } as unknown as MessageData),
    TypeError,
    "cannot be serialized",
  );
});

Deno.test("encodeMessage() rejects a circular structure with TypeError", () => {
  const value: Record<string, unknown> = {};
  value.self = value;
  assertThrows(() => encodeMessage(value as MessageData), TypeError, "cannot be serialized");
});

Deno.test("decodeMessage() with owned: true returns bytes as a view on the payload, with no copy", () => {
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);
  const payload = encodeMessage(bytes);
  const decoded = decodeMessage(payload, { owned: true }) as Uint8Array;
  assertEquals(decoded, bytes);
  assert(decoded.buffer === payload.buffer, "owned payload was copied");
  assertEquals(decoded.byteOffset, payload.byteOffset + 1);
  // Text and JSON are decoded as before.
  assertEquals(decodeMessage(encodeMessage("hi"), { owned: true }), "hi");
  assertEquals(decodeMessage(encodeMessage({ a: 1 }), { owned: true }), { a: 1 });
});
