// A Deno program that embeds a bootstrap node must end by itself after stop(), also after
// participants connected (relay reservation, DHT queries) and left: see
// src/runtime/event_loop.ts for what kept it alive (libp2p's timeout signals).
import { assertEquals, assertLess, assertThrows } from "@std/assert";
import { timeoutSignalUnref } from "../../src/runtime/event_loop.ts";

Deno.test("a Deno program that ran a bootstrap node a participant used ends by itself after stop()", async () => {
  const probe = new URL("./_boot_exit_probe.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Without the fix the program stays up for the relay reservation's 2 h; kill it well before.
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 45_000);
  const { code, stdout, stderr } = await child.output();
  const endedAt = Date.now();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  const report = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  assertEquals(report.clientOut, "left", `the participant did not join and leave:\n${out}\n${err}`);
  assertEquals(report.connectionsBefore, 0, "stop() ran while the participant was connected");
  assertEquals(killed, false, `still running ${endedAt - report.stoppedAtEpoch} ms after stop()`);
  assertEquals(code, 0, `probe failed:\n${out}\n${err}`);
  // It ends ~1 s after stop() here; the bound leaves room for a loaded machine.
  assertLess(endedAt - report.stoppedAtEpoch, 10_000, JSON.stringify(report));
});

Deno.test("AbortSignal.timeout() made Node-style still aborts on time with a TimeoutError", async () => {
  assertEquals(timeoutSignalUnref, true);
  // The signal's own timer no longer holds the event loop: keep it alive while waiting.
  const guard = setTimeout(() => {}, 5_000);
  const started = performance.now();
  const signal = AbortSignal.timeout(50);
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  clearTimeout(guard);
  const waited = performance.now() - started;
  assertEquals((signal.reason as DOMException).name, "TimeoutError");
  assertLess(45, waited);
  assertLess(waited, 2_000);
  assertThrows(() => AbortSignal.timeout(-1), TypeError);
  assertThrows(() => AbortSignal.timeout(Number.NaN), TypeError);
});
