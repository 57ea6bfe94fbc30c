import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  dropSparePayloads,
  givePayload,
  MIN_POOLED_BYTES,
  POOL_BUDGET_BYTES,
  sparePayloadBytes,
  takePayload,
} from "../src/_payload_pool.ts";
import { decodeMessage, encodeMessage } from "../src/message_codec.ts";

Deno.test("takePayload(): a buffer given back is taken again for a payload of about its size", () => {
  dropSparePayloads();
  try {
    const first = takePayload(256 * 1024 + 1);
    assertEquals(first.byteLength, 256 * 1024 + 1);
    assertEquals(first.byteOffset, 0);
    first.fill(5);
    givePayload(first);
    assertEquals(sparePayloadBytes(), first.buffer.byteLength);
    const again = takePayload(256 * 1024 + 1);
    assertStrictEquals(again.buffer, first.buffer, "the spare buffer was not reused");
    assertEquals(sparePayloadBytes(), 0);
    // Not one given twice, nor a small or foreign one.
    givePayload(again);
    givePayload(again);
    assertEquals(sparePayloadBytes(), again.buffer.byteLength);
    givePayload(new Uint8Array(MIN_POOLED_BYTES - 1));
    givePayload(new Uint8Array(100_000).subarray(1));
    givePayload(new Uint8Array(100_001)); // not a pool size (not a multiple of 16 KiB)
    assertEquals(sparePayloadBytes(), again.buffer.byteLength);
    // Much smaller payloads do not take a large buffer.
    const small = takePayload(MIN_POOLED_BYTES);
    assert(small.buffer !== again.buffer, "a 256 KiB buffer was taken for 32 KiB");
    assertEquals(sparePayloadBytes(), again.buffer.byteLength);
    // Below the pooled sizes: a plain new buffer of exactly the size.
    assertEquals(takePayload(100).buffer.byteLength, 100);
  } finally {
    dropSparePayloads();
  }
});

Deno.test("givePayload(): spare buffers stay within the budget, and dropSparePayloads() frees them", () => {
  dropSparePayloads();
  try {
    const taken = Array.from({ length: 40 }, () => takePayload(256 * 1024));
    for (const payload of taken) givePayload(payload);
    assert(sparePayloadBytes() <= POOL_BUDGET_BYTES, `${sparePayloadBytes()} bytes kept`);
    assert(sparePayloadBytes() >= POOL_BUDGET_BYTES - 512 * 1024, `${sparePayloadBytes()} kept`);
    dropSparePayloads();
    assertEquals(sparePayloadBytes(), 0);
  } finally {
    dropSparePayloads();
  }
});

Deno.test("encodeMessage() with a pooled buffer: the payload is exact, whatever the buffer held before", () => {
  dropSparePayloads();
  try {
    const old = takePayload(100_000);
    old.fill(0xee);
    givePayload(old);
    const bytes = new Uint8Array(99_999).map((_, i) => (i * 31) & 0xff);
    const payload = encodeMessage(bytes, takePayload);
    assertStrictEquals(payload.buffer, old.buffer);
    assertEquals(payload.byteLength, 100_000);
    assertEquals(decodeMessage(payload), bytes);
  } finally {
    dropSparePayloads();
  }
});
