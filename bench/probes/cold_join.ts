/**
 * Probe: a newcomer's first join in a fresh process (cold code), as most programs join: a
 * member (and the bootstrap node) waits in this process; every round starts a new Deno
 * process that joins, sends the member one message and leaves. Prints the p50 of join →
 * acknowledged message and of `joinMeeting()` resolving. With `--against <dir>` (another
 * checkout, e.g. a `git worktree`), rounds alternate between the two trees.
 *
 * `deno run -A bench/probes/cold_join.ts [rounds] [--against <dir>]`
 *
 * @module
 */
import { generateInvitationCode, joinMeeting, startBootstrapNode } from "../../mod.ts";

const rounds = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 10);
const at = Deno.args.indexOf("--against");
const here = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const trees = at >= 0 ? [here, Deno.args[at + 1].replace(/\/$/, "")] : [here];
const newcomer = new URL("_cold_newcomer.ts", import.meta.url).pathname;

const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
const code = generateInvitationCode();
const member = await joinMeeting(code, {
  bootstrap: boot.addresses,
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
  name: "A",
});
const results = new Map<string, { ackMs: number[]; joinedMs: number[] }>(
  trees.map((t) => [t, { ackMs: [], joinedMs: [] }]),
);
try {
  for (let i = 0; i < rounds; i++) {
    for (const tree of i % 2 ? [...trees].reverse() : trees) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-check",
          newcomer,
          tree,
          boot.addresses[0],
          code,
          member.self.peerId,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
      try {
        const r = JSON.parse(line);
        results.get(tree)!.ackMs.push(r.ackMs);
        results.get(tree)!.joinedMs.push(r.joinedMs);
      } catch {
        console.log(`${tree}: no result (${line.slice(0, 200)})`);
      }
    }
  }
} finally {
  await member.leave();
  await boot.stop();
}
const p50 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const [tree, r] of results) {
  console.log(
    `${tree}: ${r.ackMs.length} fresh processes: join -> ack p50 ${p50(r.ackMs)?.toFixed(1)} ms, ` +
      `joinMeeting() p50 ${p50(r.joinedMs)?.toFixed(1)} ms`,
  );
}
