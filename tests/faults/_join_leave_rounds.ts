/**
 * One process joins and leaves the same meeting `rounds` times while another peer (a
 * separate `meshmeet join` process) stays in it; prints RSS and the V8 heap after GC
 * per round as JSON lines. Run with `--v8-flags=--expose-gc`:
 *
 *     deno run -A --v8-flags=--expose-gc tests/faults/_join_leave_rounds.ts [rounds]
 */
import { generateInvitationCode, holdWebRtc, joinMeeting } from "../../mod.ts";
import { CliProcess } from "../cli/_cli.ts";
import { LOOPBACK_RTC, waitUntil } from "../integration/_harness.ts";
import { startServer, stopServers } from "./_servers.ts";

const rounds = Number(Deno.args[0] ?? 30);
/** `--alone`: no staying peer (no WebRTC), to tell libp2p's share from WebRTC's. */
const alone = Deno.args.includes("--alone");
/** `--hold`: one holdWebRtc() across all rounds (one WebRTC factory for the process). */
const hold = Deno.args.includes("--hold");
/** `--snapshots <dir>`: V8 heap snapshots after rounds 5 and 20, to compare object counts. */
const snapshotsAt = Deno.args.indexOf("--snapshots");
const snapshotDir = snapshotsAt >= 0 ? Deno.args[snapshotsAt + 1] : undefined;
/** How long a round waits to meet the staying peer. */
const MEET_MS = 30_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

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
    await m.leave();
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) gc();
    if (snapshotDir && (round === 5 || round === 20)) {
      const v8 = await import("node:v8");
      v8.writeHeapSnapshot(`${snapshotDir}/round${round}.heapsnapshot`);
    }
    const mem = Deno.memoryUsage();
    console.log(JSON.stringify({
      round,
      rssMB: +(mem.rss / 2 ** 20).toFixed(1),
      heapMB: +(mem.heapUsed / 2 ** 20).toFixed(1),
      heapTotalMB: +(mem.heapTotal / 2 ** 20).toFixed(1),
      externalMB: +(mem.external / 2 ** 20).toFixed(1),
      threads: [...Deno.readDirSync("/proc/self/task")].length,
      fds: [...Deno.readDirSync("/proc/self/fd")].length,
      metMs,
    }));
  }
} finally {
  releaseWebRtc?.();
  await stay.stop(5000).catch(() => {});
  await stopServers([server]);
}
