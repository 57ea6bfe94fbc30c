/**
 * `deno task sim`: one simulated meeting of the real overlay (`src/overlay/node.ts`) in
 * virtual time, with the network model of `network.ts` and the phases of `scenario.ts`.
 *
 *     deno task sim --members=1000 --seed=1       # writes bench/results/sim/sim_1000_s1.json
 *     deno task sim --members=1000 --churn-per-minute=0.05 --out=/tmp/x.json
 *     deno task sim --members=10000 --warm-members=9000   # 9,000 start with the roster,
 *                                                         # 1,000 join at 100/s
 *     deno task sim --report                      # tables and plots from every result in
 *                                                 # bench/results/sim/, into BENCHMARKS.md
 *
 * Options (defaults in brackets): --members [1000], --seed [1], --join-rate [100 /s],
 * --warm-members [0], --warm-settle-ms [30000],
 * --entry-points [8], --settle-ms [10000], --quiet-ms [30000], --churn-ms [120000],
 * --drain-ms [40000], --churn-per-minute [0.01], --broadcast-every-ms [2000],
 * --broadcast-bytes [1024,16384], --latency-ms [20,150], --loss [0.01],
 * --lease-ms [6000,14000], --uplink-mbps [20], --roster-checks [2000],
 * --wall-budget-s [10800], --out [bench/results/sim/sim_<members>_s<seed>.json], --json
 * (print the result on stdout), --no-doc (with --report: leave BENCHMARKS.md alone).
 *
 * The task runs Deno with a 16 GB heap: 10,000 members need several GB.
 *
 * @module
 */
import { estimateMessageBytes } from "../../src/overlay/codec.ts";
import { overlayFactory } from "./overlay_factory.ts";
import { writeSimReport } from "./report.ts";
import { runScenario, SCENARIO_DEFAULTS, type ScenarioOptions } from "./scenario.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIR = `${ROOT}bench/results/sim/`;

const args = Deno.args.filter((a) => a !== "--");
const flags = new Map<string, string>();
for (const a of args) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) {
    console.error(`sim: cannot read argument "${a}"; use --name=value (see bench/sim/main.ts)`);
    Deno.exit(2);
  }
  flags.set(m[1], m[2] ?? "true");
}
const KNOWN = [
  "members",
  "seed",
  "join-rate",
  "warm-members",
  "warm-settle-ms",
  "entry-points",
  "settle-ms",
  "quiet-ms",
  "churn-ms",
  "drain-ms",
  "churn-per-minute",
  "broadcast-every-ms",
  "broadcast-bytes",
  "latency-ms",
  "loss",
  "lease-ms",
  "uplink-mbps",
  "roster-checks",
  "wall-budget-s",
  "out",
  "json",
  "report",
  "no-doc",
  "help",
];
const unknown = [...flags.keys()].filter((k) => !KNOWN.includes(k));
if (unknown.length > 0 || flags.has("help")) {
  console.error(
    `usage: deno task sim [--members=N] [--seed=N] [--join-rate=N] … | --report\n` +
      `(options are listed in bench/sim/main.ts)` +
      (unknown.length ? `\nunknown option(s): ${unknown.map((u) => `--${u}`).join(", ")}` : ""),
  );
  Deno.exit(unknown.length ? 2 : 0);
}

if (flags.has("report")) {
  const written = await writeSimReport(DIR, flags.has("no-doc") ? null : `${ROOT}BENCHMARKS.md`);
  console.error(`sim: wrote ${written.join(", ")}`);
  Deno.exit(0);
}

const num = (name: string, fallback: number): number => {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`sim: --${name}=${v} is not a non-negative number`);
    Deno.exit(2);
  }
  return n;
};
const pair = (name: string, fallback: [number, number]): [number, number] => {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const [a, b] = v.split(",").map(Number);
  if (!(a >= 0 && b >= a)) {
    console.error(`sim: --${name}=${v} must be "low,high" with 0 <= low <= high`);
    Deno.exit(2);
  }
  return [a, b];
};

const d = SCENARIO_DEFAULTS;
const options: Partial<ScenarioOptions> = {
  members: num("members", d.members),
  seed: num("seed", d.seed),
  joinRate: num("join-rate", d.joinRate),
  warmMembers: num("warm-members", d.warmMembers),
  warmSettleMs: num("warm-settle-ms", d.warmSettleMs),
  entryPoints: num("entry-points", d.entryPoints),
  settleMs: num("settle-ms", d.settleMs),
  quietMs: num("quiet-ms", d.quietMs),
  churnMs: num("churn-ms", d.churnMs),
  drainMs: num("drain-ms", d.drainMs),
  churnPerMinute: num("churn-per-minute", d.churnPerMinute),
  broadcastEveryMs: num("broadcast-every-ms", d.broadcastEveryMs),
  broadcastBytes: flags.get("broadcast-bytes")?.split(",").map(Number) ?? d.broadcastBytes,
  rosterChecks: num("roster-checks", d.rosterChecks),
  wallBudgetMs: num("wall-budget-s", d.wallBudgetMs / 1000) * 1000,
  network: {
    latencyMs: pair("latency-ms", [20, 150]),
    loss: num("loss", 0.01),
    leaseMs: pair("lease-ms", [6_000, 14_000]),
    uplinkMbps: num("uplink-mbps", 20),
  },
  log: (line) => console.error(`sim: ${line}`),
};
if (!(options.members! >= 2) || !(options.joinRate! > 0)) {
  console.error("sim: --members must be at least 2 and --join-rate above 0");
  Deno.exit(2);
}

const command = `deno task sim ${args.join(" ")}`.trim();
console.error(`sim: ${command}`);
const started = new Date().toISOString();
const result = runScenario(overlayFactory(), options, estimateMessageBytes);
const out = flags.get("out") ??
  `${DIR}sim_${options.members}${
    options.warmMembers ? `w${options.warmMembers}` : ""
  }_s${options.seed}.json`;
await Deno.mkdir(out.slice(0, out.lastIndexOf("/") + 1) || ".", { recursive: true });
const doc = { command, startedAt: started, loadavg: await loadavg(), ...result };
await Deno.writeTextFile(out, JSON.stringify(doc) + "\n");
console.error(
  `sim: done in ${result.wallSeconds.total} s wall (${result.virtualSeconds} virtual s); ${out}`,
);
if (flags.has("json")) console.log(JSON.stringify(doc));

async function loadavg(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}
