import { assert, assertEquals, assertFalse } from "@std/assert";
import { HandshakeBackoff } from "../src/handshake_backoff.ts";

Deno.test("HandshakeBackoff refuses a failing peer for baseMs, doubling up to maxMs; success forgets it", () => {
  let now = 0;
  const b = new HandshakeBackoff({ baseMs: 1000, maxMs: 4000, now: () => now });
  assert(b.allow("p"));
  b.failed("p");
  assertFalse(b.allow("p"));
  now = 999;
  assertFalse(b.allow("p"));
  now = 1000;
  assert(b.allow("p"));
  b.failed("p"); // second failure: 2 s
  now = 2999;
  assertFalse(b.allow("p"));
  now = 3000;
  assert(b.allow("p"));
  b.failed("p"); // 4 s
  b.failed("p"); // would be 8 s, capped at 4 s
  now = 6999;
  assertFalse(b.allow("p"));
  now = 7000;
  assert(b.allow("p"));
  b.succeeded("p");
  b.failed("p"); // counted from one again
  now = 8000;
  assert(b.allow("p"));
  assertEquals(b.refused, 4);
});

Deno.test("HandshakeBackoff refuses unknown peers while failures exceed maxFailuresPerSecond, known ones still pass", () => {
  let now = 0;
  const b = new HandshakeBackoff({ maxFailuresPerSecond: 5, now: () => now });
  for (let i = 0; i < 6; i++) {
    assert(b.allow(`stranger-${i}`));
    b.failed(`stranger-${i}`);
  }
  assertFalse(b.allow("stranger-new"), "a crowd of strangers is cut off");
  assert(b.allow("member", true), "a known participant still gets through");
  now = 1001;
  assert(b.allow("stranger-new"), "the rate dropped");
});

Deno.test("HandshakeBackoff remembers at most maxTracked peers", () => {
  const b = new HandshakeBackoff({ maxTracked: 100, maxFailuresPerSecond: 1e9 });
  for (let i = 0; i < 1000; i++) b.failed(`p${i}`);
  assertEquals(b.tracked, 100);
  assert(b.allow("p0"), "the oldest were dropped");
  assertFalse(b.allow("p999"));
});
