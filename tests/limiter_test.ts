import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Limiter } from "../src/_limiter.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("Limiter runs at most `limit` tasks at once, in arrival order", async () => {
  const limiter = new Limiter(2);
  const gates = [deferred(), deferred(), deferred(), deferred()];
  const started: number[] = [];
  let peak = 0;
  const runs = gates.map((gate, i) =>
    limiter.run(async () => {
      started.push(i);
      peak = Math.max(peak, limiter.running);
      await gate.promise;
      return i * 10;
    })
  );
  await Promise.resolve();
  assertEquals(started, [0, 1]);
  assertEquals(limiter.waiting, 2);
  gates[1].resolve();
  await runs[1];
  await Promise.resolve();
  assertEquals(started, [0, 1, 2]);
  for (const gate of gates) gate.resolve();
  assertEquals(await Promise.all(runs), [0, 10, 20, 30]);
  assertEquals(peak, 2);
  assertEquals(limiter.running, 0);
});

Deno.test("Limiter frees the slot when a task throws", async () => {
  const limiter = new Limiter(1);
  await assertRejects(() => limiter.run(() => Promise.reject(new Error("boom"))), Error, "boom");
  assertEquals(await limiter.run(() => Promise.resolve("next")), "next");
});

Deno.test("Limiter drops a waiting task whose signal aborts", async () => {
  const limiter = new Limiter(1);
  const gate = deferred();
  const first = limiter.run(() => gate.promise);
  const controller = new AbortController();
  let ran = false;
  const second = limiter.run(() => {
    ran = true;
    return Promise.resolve();
  }, controller.signal);
  controller.abort(new Error("gave up"));
  await assertRejects(() => second, Error, "gave up");
  assertEquals(limiter.waiting, 0);
  gate.resolve();
  await first;
  assertEquals(ran, false);
  assertEquals(limiter.running, 0);
});

Deno.test("Limiter refuses a limit below 1", () => {
  assertThrows(() => new Limiter(0), RangeError, "limit must be an integer >= 1");
});
