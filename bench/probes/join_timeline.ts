/**
 * Probe: where a newcomer's join goes, as a timeline of both sides' log lines
 * (ms since B's join started). `deno run -A bench/probes/join_timeline.ts [rounds]`.
 *
 * @module
 */
import { generateInvitationCode, joinMeeting, startBootstrapNode } from "../../mod.ts";
import type { ComponentLogger } from "../../mod.ts";
import process from "node:process";

const rounds = Number(Deno.args[0] ?? 3);
const quiet = Deno.args.includes("--quiet");
const totals: { ms: number; cpuMs: number }[] = [];
const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
const rtc = { iceServers: [], bindAddress: "127.0.0.1" };
let t0 = performance.now();
const lines: string[] = [];
const logger = (who: string): ComponentLogger => ({
  forComponent: (name: string) =>
    Object.assign((m: string, ...a: unknown[]) => {
      lines.push(
        `${(performance.now() - t0).toFixed(1).padStart(7)} ${who} ${name.slice(9)} ${m} ${
          a.map(String).join(" ")
        }`,
      );
    }, { error: () => {}, enabled: true }),
});
for (let r = 0; r < rounds; r++) {
  const code = generateInvitationCode();
  const a = await joinMeeting(code, {
    bootstrap: boot.addresses,
    rtcConfiguration: rtc,
    name: "A",
    logger: logger("A"),
  });
  await new Promise((res) => setTimeout(res, 300));
  lines.length = 0;
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  const b = await joinMeeting(code, {
    bootstrap: boot.addresses,
    rtcConfiguration: rtc,
    name: "B",
    logger: logger("B"),
  });
  lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)} B joinMeeting resolved`);
  while (!b.participants.some((p) => p.peerId === a.self.peerId)) {
    await new Promise((res) => setTimeout(res, 1));
  }
  lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)} B sees A`);
  a.addEventListener(
    "message",
    () => lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)} A got message`),
    { once: true },
  );
  await b.send(a.self.peerId, "x");
  lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)} B ack`);
  const cpu = process.cpuUsage(cpu0);
  totals.push({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  if (!quiet) {
    console.log(
      `--- round ${r} (B ${b.self.peerId < a.self.peerId ? "lower: dials" : "higher: knocks"})`,
    );
  }
  if (!quiet) console.log(lines.filter((l) => !/ link /.test(l)).join("\n"));
  await Promise.all([a.leave(), b.leave()]);
}
await boot.stop();
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `rounds ${totals.length}: join -> ack p50 ${
    med(totals.map((t) => t.ms)).toFixed(1)
  } ms, process CPU p50 ${med(totals.map((t) => t.cpuMs)).toFixed(1)} ms`,
);
