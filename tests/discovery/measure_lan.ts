/**
 * Time-to-meet on a LAN with the code alone (no bootstrap node): two hosts on one bridge
 * join a fresh code at the same moment, each in its own process; the time is from the
 * start of `joinMeeting()` to `peer:join` (the later of the two sides). Not a test: the
 * numbers for README.md.
 *
 *     sudo deno run -A tests/discovery/measure_lan.ts [--runs 10] [--json]
 */
import { createNatLab } from "../natlab/lab.ts";
import { LabProcess } from "../natlab/_scenario.ts";
import { generateInvitationCode } from "../../mod.ts";

const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 10) || 10;
await using lab = await createNatLab({
  homes: [{ name: "a", nat: "cone", hosts: 2 }],
  turn: false,
});
const meet: number[] = [];
const joined: number[] = [];
for (let i = 0; i < runs; i++) {
  const code = generateInvitationCode();
  const procs = ["a1", "a2"].map((h) =>
    new LabProcess(lab, lab.hosts[h], h, "_peer.ts", {
      CONFIG: JSON.stringify({ code, name: h, bootstrap: [], bindAddress: lab.hosts[h].ip }),
    }, true)
  );
  try {
    const times = await Promise.all(procs.map(async (p) => {
      const j = await p.waitFor((e) => e.event === "joined", "joined", 30_000);
      const e = await p.waitFor((e) => e.event === "peer:join", "peer:join", 30_000);
      joined.push((j.timings as { totalMs: number }).totalMs);
      return e.at - (j.joinStartedAt as number);
    }));
    meet.push(Math.max(...times));
    console.error(`run ${i + 1}: met in ${Math.max(...times)} ms`);
  } finally {
    await Promise.allSettled(procs.map((p) => p.stop()));
  }
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const summary = {
  runs,
  meetMs: { p50: q(meet, 0.5), max: Math.max(...meet), all: meet },
  joinMs: { p50: q(joined, 0.5) },
};
console.log(Deno.args.includes("--json") ? JSON.stringify(summary) : summary);
