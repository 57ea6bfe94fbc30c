/**
 * A process that joins and leaves meetings one after another keeps nothing of the meetings
 * it left (issue 12): every left meeting is garbage-collected, and with one `holdWebRtc()`
 * across the rounds its thread and file-descriptor counts stay flat.
 *
 * Runs `_join_leave_rounds.ts` (8 rounds, a staying `meshmeet join` process) in a child
 * process, which needs `--v8-flags=--expose-gc`. Before the fixes, no left meeting was ever
 * collected (the data channel's listeners kept each one reachable through `@roamhq/wrtc`)
 * and each round added 4 threads and 8 file descriptors (a WebRTC factory left behind).
 * Prints one `RELIABILITY` JSON line.
 */
import { assert, assertGreaterOrEqual, assertLessOrEqual } from "@std/assert";

const ROUNDS = 8;
const SCRIPT = new URL("./_join_leave_rounds.ts", import.meta.url).pathname;

Deno.test("8 join/leave rounds in one process: every left meeting is collected, threads and fds stay flat", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      SCRIPT,
      String(ROUNDS),
      "--hold",
      "--settle",
      "20",
      "--meet-ms",
      "15000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 170_000);
  const [out, status] = await Promise.all([child.output(), child.status]).finally(() =>
    clearTimeout(killer)
  );
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert(status.success, `rounds script failed (${status.code}):\n${stderr.slice(-3000)}`);
  const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const summary = lines.find((l) => l.summary);
  assert(summary, `no summary line in:\n${stdout}`);
  const { first, last } = summary;
  console.log(`RELIABILITY ${JSON.stringify({ test: "join_leave_memory", ...summary })}`);
  // The rounds must have used WebRTC (the leak was on its objects): at least two meet the
  // peer (a round that misses still joins and leaves; misses are a known, separate problem).
  assertLessOrEqual(summary.missed, ROUNDS - 2, "too few rounds met the staying peer");
  // Every left meeting collected (one may still be held by a timer of its last seconds).
  assertGreaterOrEqual(summary.freed, ROUNDS - 1, `left meetings collected: ${summary.freed}`);
  // Before: +4 threads and +8 fds per round (+28 and +56 here). Deno's own thread pool
  // comes and goes by a few threads.
  assertLessOrEqual(last.threads - first.threads, 8, `threads ${first.threads} → ${last.threads}`);
  assertLessOrEqual(last.fds - first.fds, 8, `fds ${first.fds} → ${last.fds}`);
});
