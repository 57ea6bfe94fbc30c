/**
 * One process joins and leaves the same meeting `rounds` times while another peer (a
 * separate `meshmeet join` process) stays in it; prints, per round, RSS, the V8 heap after
 * GC, threads, file descriptors, the time to meet the staying peer and how many left
 * meetings were garbage-collected, as JSON lines. Run with `--v8-flags=--expose-gc`:
 *
 *     deno run -A --v8-flags=--expose-gc tests/faults/_join_leave_rounds.ts [rounds] [options]
 *
 * Options (after `rounds`): `--alone`, `--hold`, `--snapshots <dir>`, `--settle <s>`,
 * `--meet-ms <ms>`, `--idle <s>` (described below). `join_leave_memory_test.ts` runs a short form.
 */
import { generateInvitationCode, holdWebRtc, joinMeeting } from "../../mod.ts";
import { CliProcess } from "../cli/_cli.ts";
import { LOOPBACK_RTC, waitUntil } from "../integration/_harness.ts";
import { startServer, stopServers } from "./_servers.ts";
import * as v8 from "node:v8";

const rounds = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 30);
/** `--alone`: no staying peer (no WebRTC), to tell libp2p's share from WebRTC's. */
const alone = Deno.args.includes("--alone");
/** `--hold`: one holdWebRtc() across all rounds (one WebRTC factory for the process). */
const hold = Deno.args.includes("--hold");
/** `--snapshots <dir>`: V8 heap snapshots after rounds 5 and 20, to compare object counts. */
const snapshotsAt = Deno.args.indexOf("--snapshots");
const snapshotDir = snapshotsAt >= 0 ? Deno.args[snapshotsAt + 1] : undefined;
/**
 * `--settle <s>`: after the last round, wait up to this long (collecting garbage every
 * second) for the left meetings to be garbage-collected, then print a summary line.
 */
const settleAt = Deno.args.indexOf("--settle");
const settleS = settleAt >= 0 ? Number(Deno.args[settleAt + 1]) : 0;
/** `--meet-ms <ms>`: how long a round waits to meet the staying peer. */
const meetAt = Deno.args.indexOf("--meet-ms");
const MEET_MS = meetAt >= 0 ? Number(Deno.args[meetAt + 1]) : 30_000;
/**
 * `--idle <s>`: after round 5 and after the last round, also sample once the process has
 * been idle for this long, with no forced collection: V8 gives its young generation back
 * when the process is idle (its memory reducer), which forced collections between busy
 * rounds do not do. Printed as `{ idle: true, ... }` lines.
 */
const idleAt = Deno.args.indexOf("--idle");
const IDLE_S = idleAt >= 0 ? Number(Deno.args[idleAt + 1]) : 0;
const gc = (globalThis as { gc?: () => void }).gc;
/** The process's threads and open file descriptors, from /proc. */
const openCounts = () => ({
  threads: [...Deno.readDirSync("/proc/self/task")].length,
  fds: [...Deno.readDirSync("/proc/self/fd")].length,
});
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

// Left meetings that the garbage collector has taken: a left meeting still reachable from
// somewhere (a listener on a WebRTC object, a timer, a module-level map) is never counted.
let freed = 0;
const registry = new FinalizationRegistry(() => freed++);
const samples: Record<string, number | null>[] = [];

const server = await startServer("boot");
const releaseWebRtc = hold ? holdWebRtc() : undefined;
const code = generateInvitationCode();
const stay = new CliProcess("stay", [
  "join",
  code,
  "--name",
  "Stay",
  "--json",
  ...server.addresses.flatMap((a) => ["--bootstrap", a]),
]);
try {
  if (alone) await stay.stop(5000);
  else await stay.waitForEvent((e) => e.event === "joined", "stay joined", 60_000);
  for (let round = 1; round <= rounds; round++) {
    const m = await joinMeeting(code, {
      name: `Round${round}`,
      bootstrap: server.addresses,
      rtcConfiguration: LOOPBACK_RTC,
      dialTimeoutMs: 15_000,
    });
    const t0 = performance.now();
    // A round that does not meet the staying peer still joins and leaves: it is counted
    // (`metMs: null`, with what the roster showed on stderr) and the rounds go on.
    const met = await waitUntil(
      () => alone || m.participants.some((p) => p.state === "connected"),
      `round ${round}: meets the staying peer`,
      MEET_MS,
    ).then(() => true, () => false);
    const metMs = met ? Math.round(performance.now() - t0) : null;
    if (!met) {
      console.error(JSON.stringify({
        round,
        missed: true,
        participants: m.participants.map((p) => ({ name: p.name, state: p.state })),
      }));
    }
    registry.register(m, round);
    await m.leave();
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) gc();
    if (snapshotDir && (round === 5 || round === 20)) {
      v8.writeHeapSnapshot(`${snapshotDir}/round${round}.heapsnapshot`);
    }
    const mem = Deno.memoryUsage();
    const sample = {
      round,
      rssMB: +(mem.rss / 2 ** 20).toFixed(1),
      heapMB: +(mem.heapUsed / 2 ** 20).toFixed(1),
      heapTotalMB: +(mem.heapTotal / 2 ** 20).toFixed(1),
      externalMB: +(mem.external / 2 ** 20).toFixed(1),
      ...openCounts(),
      metMs,
      freed,
    };
    samples.push(sample);
    console.log(JSON.stringify(sample));
    if (IDLE_S > 0 && (round === 5 || round === rounds)) {
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const spaces = v8.getHeapSpaceStatistics();
      const newSpace = spaces.find((s) => s.space_name === "new_space")?.space_size ?? 0;
      const idle = Deno.memoryUsage();
      console.log(JSON.stringify({
        idle: true,
        round,
        afterS: IDLE_S,
        rssMB: +(idle.rss / 2 ** 20).toFixed(1),
        heapMB: +(idle.heapUsed / 2 ** 20).toFixed(1),
        heapTotalMB: +(idle.heapTotal / 2 ** 20).toFixed(1),
        newSpaceMB: +(newSpace / 2 ** 20).toFixed(1),
        ...openCounts(),
      }));
    }
  }
  if (settleS > 0) {
    const settleStarted = performance.now();
    while (freed < rounds && performance.now() - settleStarted < settleS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 3; i++) gc();
    }
    console.log(JSON.stringify({
      summary: true,
      rounds,
      freed,
      settleMs: Math.round(performance.now() - settleStarted),
      missed: samples.filter((s) => s.metMs === null).length,
      first: samples[0],
      last: samples.at(-1),
    }));
  }
} finally {
  releaseWebRtc?.();
  await stay.stop(5000).catch(() => {});
  await stopServers([server]);
}
