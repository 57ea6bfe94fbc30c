// Unit tests of the parts of a peer link (src/peer_link_*.ts), each on its own with a fake
// clock where it takes one; tests/connect/peer_link_test.ts tests them together in a link.
import { assertEquals, assertInstanceOf, assertRejects, assertStrictEquals } from "@std/assert";
import { PendingAcks, type PendingFrame } from "../../src/peer_link_acks.ts";
import { FloodLimit } from "../../src/peer_link_flood_limit.ts";
import { PendingRequests } from "../../src/peer_link_requests.ts";
import { RttMeter } from "../../src/peer_link_rtt.ts";
import { type Frame, FrameType } from "../../src/frame.ts";
import { DeliveryError } from "../../src/errors.ts";

Deno.test("FloodLimit.take() allows a burst of `rate`, then one frame per 1/rate s, and never saves more than `rate`", () => {
  const limit = new FloodLimit(10, 0);
  const burst = Array.from({ length: 11 }, () => limit.take(0));
  assertEquals(burst, [...Array(10).fill(true), false]);
  assertEquals(limit.take(50), false); // half a token
  assertEquals(limit.take(100), true); // a whole one
  assertEquals(limit.take(100), false);
  // An idle minute refills to the cap of 10, not to 600.
  const later = Array.from({ length: 11 }, () => limit.take(60_100));
  assertEquals(later, [...Array(10).fill(true), false]);
});

Deno.test("RttMeter measures the time from ping to its pong, once, and forgets pings beyond 16", () => {
  const rtt = new RttMeter();
  const first = rtt.ping(1_000);
  assertEquals(first, 1);
  assertEquals(rtt.pong(first, 1_042), 42);
  assertEquals(rtt.pong(first, 1_050), undefined); // answered already
  assertEquals(rtt.pong(999, 1_050), undefined); // not ours
  const ids = Array.from({ length: 17 }, (_, i) => rtt.ping(2_000 + i));
  assertEquals(ids[0], 2);
  assertEquals(rtt.pong(ids[0], 3_000), undefined); // the oldest of 17 was dropped
  assertEquals(rtt.pong(ids[16], 3_000), 3_000 - 2_016);
});

function frame(seq: number): Frame {
  return { type: FrameType.Data, flags: 1, channel: 0, seq, ref: 0, payload: new Uint8Array(0) };
}

/** A pending frame whose settlement is recorded in `log`. */
function pending(seq: number, log: string[], deadline = performance.now() + 60_000): PendingFrame {
  return {
    frame: frame(seq),
    written: false,
    deadline,
    resolve: () => log.push(`ok ${seq}`),
    reject: (err) => log.push(`${err.message} ${seq}`),
  };
}

Deno.test("PendingAcks settles a prefix on a cumulative ack and single frames on a plain one", () => {
  const log: string[] = [];
  const acks = new PendingAcks(() => new Error("overdue"));
  for (const seq of [1, 2, 3, 4, 5]) acks.add(seq, pending(seq, log));
  acks.settleUpTo(3);
  assertEquals(log, ["ok 1", "ok 2", "ok 3"]);
  assertEquals(acks.size, 2);
  acks.settle(5);
  acks.settle(5); // a duplicate ack: nothing more
  assertEquals(log, ["ok 1", "ok 2", "ok 3", "ok 5"]);
  assertEquals(acks.take(4)?.frame.seq, 4); // taken, not settled
  assertEquals(acks.take(4), undefined);
  assertEquals(acks.size, 0);
  acks.rejectAll(new Error("closed")); // stops the timer
});

Deno.test("PendingAcks stops its timer once nothing waits (an idle link holds no timer)", () => {
  // Count the timers PendingAcks holds through the global functions it calls.
  const live = new Set<ReturnType<typeof setTimeout>>();
  const { setTimeout: st, clearTimeout: ct } = globalThis;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const id = st(fn, ms);
    live.add(id);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: ReturnType<typeof setTimeout>) => {
    if (id !== undefined) live.delete(id);
    ct(id);
  }) as typeof clearTimeout;
  try {
    const log: string[] = [];
    const acks = new PendingAcks(() => new Error("overdue"));
    for (const seq of [1, 2]) acks.add(seq, pending(seq, log));
    assertEquals(live.size, 1); // one timer for the link, not one per frame
    acks.settleUpTo(2);
    assertEquals(live.size, 0);
    acks.add(3, pending(3, log));
    acks.settle(3);
    assertEquals(live.size, 0);
    acks.add(4, pending(4, log));
    acks.take(4);
    assertEquals(live.size, 0);
    assertEquals(log, ["ok 1", "ok 2", "ok 3"]);
  } finally {
    globalThis.setTimeout = st;
    globalThis.clearTimeout = ct;
    for (const id of live) ct(id);
  }
});

Deno.test("PendingAcks.inOrder() lists frames by seq; rejectAll() fails them and stops the timer", () => {
  const log: string[] = [];
  const acks = new PendingAcks(() => new Error("overdue"));
  for (const seq of [7, 8, 9]) acks.add(seq, pending(seq, log));
  assertEquals(acks.inOrder().map((p) => p.frame.seq), [7, 8, 9]);
  acks.rejectAll(new Error("closed"));
  assertEquals(log, ["closed 7", "closed 8", "closed 9"]);
  assertEquals(acks.size, 0);
  // The test's timer sanitizer fails the test if the ack timer was left running.
});

Deno.test("PendingAcks fails the frames whose deadline passed with the overdue error, and only those", async () => {
  const log: string[] = [];
  let overdueCalls = 0;
  const acks = new PendingAcks(() => new Error(`overdue#${++overdueCalls}`));
  const now = performance.now();
  acks.add(1, pending(1, log, now + 10));
  acks.add(2, pending(2, log, now + 10));
  acks.add(3, pending(3, log, now + 60_000));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assertEquals(log, ["overdue#1 1", "overdue#2 2"]);
  assertEquals(acks.size, 1);
  acks.rejectAll(new Error("closed"));
  assertEquals(log.at(-1), "closed 3");
});

Deno.test("PendingRequests matches a response to its request by id and passes the error flag", async () => {
  const sent: Array<{ id: number; payload: Uint8Array }> = [];
  const requests = new PendingRequests("bob", 60_000, (id, payload) => {
    sent.push({ id, payload });
    return Promise.resolve();
  });
  const first = requests.open(new Uint8Array([1]));
  const second = requests.open(new Uint8Array([2]));
  assertEquals(sent.map((s) => s.id), [1, 2]);
  requests.respond(2, new Uint8Array([20]), true);
  requests.respond(1, new Uint8Array([10]), false);
  requests.respond(1, new Uint8Array([11]), false); // a late duplicate: ignored
  assertEquals(await first, { payload: new Uint8Array([10]), error: false });
  assertEquals(await second, { payload: new Uint8Array([20]), error: true });
});

Deno.test("PendingRequests rejects on timeout, on abort, when the send fails, and on rejectAll()", async () => {
  const failing = new Error("stream broke");
  let fail = false;
  const requests = new PendingRequests(
    "bob",
    30,
    () => fail ? Promise.reject(failing) : Promise.resolve(),
  );
  const timedOut = await assertRejects(() => requests.open(new Uint8Array(0)), DeliveryError);
  assertEquals(timedOut.message, "Request to bob got no response within 30 ms");

  const controller = new AbortController();
  const aborted = requests.open(new Uint8Array(0), controller.signal);
  const reason = new Error("user aborted");
  controller.abort(reason);
  assertStrictEquals(await aborted.catch((e) => e), reason);

  fail = true;
  assertStrictEquals(await requests.open(new Uint8Array(0)).catch((e) => e), failing);

  fail = false;
  const open = requests.open(new Uint8Array(0));
  requests.rejectAll(new Error("link closed"));
  const closed = await open.catch((e) => e);
  assertInstanceOf(closed, Error);
  assertEquals(closed.message, "link closed");
});
