/**
 * `deno task bench`: meshmeet measured side by side with hyperswarm, trystero, raw
 * libwebrtc and raw node-datachannel, on this machine, in one run (see BENCHMARKS.md).
 *
 *     deno task bench                 # full run; updates BENCHMARKS.md and bench/results/
 *     deno task bench --quick         # short smoke run (< 10 min on 2 cores); bench/results/quick/
 *     deno task bench --only=6c       # part 6c alone (records on DHT servers, with and without
 *                                     # the servers' limits); bench/results/records.json
 *     deno task bench --json          # also print all results as JSON on stdout
 *     deno task bench --only=1,3      # only some parts (1 join, 2 browser, 3 dial,
 *                                     # 4 throughput, 5 memory, 6 scale, 7 sim);
 *                                     # names work too: --only=sim
 *     deno task bench --replot        # redraw plots and tables from the last results JSON
 *
 * Progress goes to stderr. Everything runs on loopback; every worker process is stopped at
 * the end (closing its stdin stops it, also when this process dies).
 *
 * @module
 */
import { freshNpmBuild } from "./_node_build.ts";
import { type BenchResults, markdownTables, recordsTable, writePlots } from "./_report.ts";
import { BENCH_DIR, machineInfo, progress, ROOT } from "./_util.ts";
import { runBrowser } from "./browser.ts";
import { runDial } from "./dial.ts";
import { runJoin } from "./join.ts";
import { runMemory } from "./memory.ts";
import { runScale } from "./scale.ts";
import { runSim } from "./sim/bench_part.ts";
import { runThroughput } from "./throughput.ts";

const args = Deno.args;
const quick = args.includes("--quick");
const json = args.includes("--json");
const replot = args.includes("--replot");
const onlyRecords = args.includes("--only=6c");
const onlyBig = args.includes("--only=6b");
const PART_NAMES = ["join", "browser", "dial", "throughput", "memory", "scale", "sim"] as const;
const only = onlyRecords || onlyBig
  ? undefined
  : args.find((a) => a.startsWith("--only="))?.slice(7).split(",").map((x) =>
    PART_NAMES.indexOf(x as typeof PART_NAMES[number]) + 1 || Number(x)
  );
const unknown = args.filter((a) =>
  !["--quick", "--json", "--replot"].includes(a) && !a.startsWith("--only=")
);
if (unknown.length > 0 || args.includes("--help")) {
  console.error(
    "usage: deno task bench [--quick] [--json] [--only=1,2,3,4,5,6,7 | --only=sim | --only=6b | " +
      "--only=6c] [--replot]",
  );
  Deno.exit(unknown.length > 0 ? 2 : 0);
}
const want = (part: number) => !only || only.includes(part);

/** Sizes of each mode. */
const CONFIG = quick
  ? {
    joinRounds: 5,
    browserRounds: 3,
    dials: 20,
    probeRounds: 10,
    sizesMiB: [1, 8],
    messages: 5000,
    repeats: 1,
    idleSeconds: 5,
    links: 4,
    inProcess: [1, 4, 8],
    meetings: [{ meetings: 10, peers: 5 }],
    discoveryMeetings: [],
    bigN: [20, 50],
    discoveryN: [],
    records: [{ records: 500, servers: 5 }],
    recordsOnly: [{ records: 500, servers: 5, caps: false }, { records: 500, servers: 5 }],
    concurrency: 8,
    // About 10 s of wall clock on 2 cores.
    sim: { members: 300, quietMs: 10_000, churnMs: 30_000, drainMs: 30_000, churnPerMinute: 0.05 },
    deadlineSeconds: 590,
  }
  : {
    joinRounds: 20,
    browserRounds: 10,
    dials: 100,
    probeRounds: 40,
    sizesMiB: [1, 4, 16, 64],
    messages: 100000,
    repeats: 3,
    idleSeconds: 20,
    links: 10,
    inProcess: [1, 5, 10, 20],
    // 100 x 10 and N >= 200 with WebRTC in one process are beyond 2 cores (tried: 30 x 10
    // and N = 50 already saturate the process); they run as discovery only (see scale.ts).
    meetings: [{ meetings: 10, peers: 10 }],
    discoveryMeetings: [{ meetings: 100, peers: 10 }],
    bigN: [50, 100],
    discoveryN: [50, 100, 200, 500, 1000],
    records: [{ records: 10000, servers: 20 }],
    // --only=6c: the same without the servers' limits first (kad-dht alone: the "before").
    recordsOnly: [
      { records: 10000, servers: 20, caps: false },
      { records: 10000, servers: 20 },
    ],
    concurrency: 16,
    // About 90 s of wall clock on 2 cores; 5,000 and 10,000 members: `deno task sim`.
    sim: { members: 1_000 },
    deadlineSeconds: 4 * 3600,
  };

const outDir = quick ? `${BENCH_DIR}results/quick/` : `${BENCH_DIR}results/`;
await Deno.mkdir(outDir, { recursive: true });

/**
 * One piece of part 6 alone, saved to its own file so that the last full run's results (and
 * the tables in BENCHMARKS.md made from them) stay as they are.
 */
async function scaleAlone(
  file: string,
  options: Pick<Parameters<typeof runScale>[0], "bigN" | "records" | "timeoutMs">,
  pick: (scale: Awaited<ReturnType<typeof runScale>>) => Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const scale = await runScale({
    meetings: [],
    discoveryMeetings: [],
    discoveryN: [],
    concurrency: CONFIG.concurrency,
    joinRate: 5,
    ...options,
  });
  const saved = {
    mode: quick ? "quick" : "full",
    command: `deno task bench ${args.join(" ")}`.trim(),
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
    machine: await machineInfo(),
    durationSeconds: Math.round((performance.now() - t0) / 1000),
    ...pick(scale),
  };
  await Deno.writeTextFile(`${outDir}${file}`, JSON.stringify(saved, null, 1) + "\n");
  progress("bench", `wrote ${outDir.replace(ROOT, "")}${file}`);
  return saved;
}

if (onlyBig) {
  // Part 6b alone: one meeting of N peers over the overlay, real WebRTC, one process.
  const saved = await scaleAlone("overlay_6b.json", {
    bigN: CONFIG.bigN,
    records: [],
    timeoutMs: (n) => Math.max(120_000, n * 4_000),
  }, (scale) => ({ big: scale.big }));
  console.log(JSON.stringify(saved.big, null, 1));
  Deno.exit(0);
}
if (onlyRecords) {
  // Part 6c alone, with and without the servers' limits.
  const saved = await scaleAlone("records.json", {
    bigN: [],
    records: CONFIG.recordsOnly,
    timeoutMs: () => 900_000,
  }, (scale) => ({ records: scale.records }));
  if (json) console.log(JSON.stringify(saved));
  else {console.log(
      recordsTable(saved.records as Awaited<ReturnType<typeof runScale>>["records"]).join("\n"),
    );}
  Deno.exit(0);
}
/** Write plots, results.md and (full runs of every part) the tables in BENCHMARKS.md. */
async function report(results: BenchResults, updateDoc: boolean): Promise<string> {
  const plots = await writePlots(results, outDir);
  const tables = markdownTables(results, quick ? "bench/results/quick/" : "bench/results/");
  await Deno.writeTextFile(`${outDir}results.md`, tables + "\n");
  if (updateDoc) {
    const path = `${ROOT}BENCHMARKS.md`;
    try {
      const doc = await Deno.readTextFile(path);
      const start = "<!-- bench:results:start -->";
      const end = "<!-- bench:results:end -->";
      const i = doc.indexOf(start);
      const j = doc.indexOf(end);
      if (i >= 0 && j > i) {
        await Deno.writeTextFile(
          path,
          doc.slice(0, i + start.length) + "\n\n" + tables + "\n" + doc.slice(j),
        );
        // Keep `deno fmt --check` (part of `deno task check`) clean.
        await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path], cwd: ROOT })
          .output().catch(() => {});
        progress("bench", "BENCHMARKS.md results section updated");
      }
    } catch {
      progress("bench", "BENCHMARKS.md not found: tables are in bench/results/results.md");
    }
  }
  progress("bench", `wrote ${outDir.replace(ROOT, "")}results.md, ${plots.join(", ")}`);
  return tables;
}

if (replot) {
  const saved = JSON.parse(await Deno.readTextFile(`${outDir}latest.json`)) as BenchResults;
  const tables = await report(saved, !quick);
  if (json) console.log(JSON.stringify(saved));
  else console.log(tables);
  Deno.exit(0);
}

const started = performance.now();
const command = `deno task bench ${args.join(" ")}`.trim();
const machine = await machineInfo();
let results: BenchResults = {
  mode: quick ? "quick" : "full",
  command,
  startedAt: new Date().toISOString(),
  machine,
  parts: {},
};
if (only) {
  // A partial run is merged into the last results of the same mode.
  try {
    const saved = JSON.parse(await Deno.readTextFile(`${outDir}latest.json`)) as BenchResults;
    results = {
      ...saved,
      reruns: [...(saved.reruns ?? []), {
        command,
        startedAt: new Date().toISOString(),
        parts: only.map((n) => PART_NAMES[n - 1]),
        loadavg: machine.loadavg,
      }],
    };
  } catch {
    // nothing to merge into
  }
}
progress(
  "bench",
  `${results.mode} run on ${results.machine.cpu} (${results.machine.cores} cores); ` +
    `the machine is shared: compare ratios, not absolute numbers`,
);

async function save(): Promise<void> {
  if (!only) results.durationSeconds = Math.round((performance.now() - started) / 1000);
  await Deno.writeTextFile(`${outDir}latest.json`, JSON.stringify(results, null, 1) + "\n");
}

// A hard bound on the whole run: write what we have and exit (workers stop when our pipes close).
const deadline = setTimeout(async () => {
  progress("bench", `deadline of ${CONFIG.deadlineSeconds} s reached: writing partial results`);
  await save().catch(() => {});
  Deno.exit(1);
}, CONFIG.deadlineSeconds * 1000);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    progress("bench", `${signal}: stopping`);
    Deno.exit(130);
  });
}

let crashed = false;
async function part<T>(
  n: number,
  name: keyof BenchResults["parts"],
  fn: () => Promise<T>,
): Promise<void> {
  if (!want(n)) return;
  const t0 = performance.now();
  progress(`${n} ${name}`, "start");
  try {
    (results.parts as Record<string, unknown>)[name] = await fn();
  } catch (err) {
    crashed = true;
    const message = (err as Error).stack ?? String(err);
    progress(`${n} ${name}`, `ERROR ${message}`);
    (results.parts as Record<string, unknown>)[name] = { error: message.split("\n")[0] };
  }
  progress(`${n} ${name}`, `done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  await save();
}

// The Node (parts 1, 5) and Chromium (part 2) columns run the npm build: build it first if
// the sources changed since.
if (want(1) || want(2) || want(5)) progress("bench", await freshNpmBuild());

await part(1, "join", () => runJoin({ rounds: CONFIG.joinRounds }));
await part(2, "browser", () => runBrowser({ rounds: CONFIG.browserRounds }));
await part(3, "dial", () => runDial({ dials: CONFIG.dials, probeRounds: CONFIG.probeRounds }));
await part(4, "throughput", () =>
  runThroughput({
    sizesMiB: CONFIG.sizesMiB,
    messages: CONFIG.messages,
    repeats: CONFIG.repeats,
  }));
await part(
  5,
  "memory",
  () =>
    runMemory({
      idleSeconds: CONFIG.idleSeconds,
      sizes: CONFIG.inProcess,
      links: CONFIG.links,
    }),
);
await part(6, "scale", () =>
  runScale({
    meetings: CONFIG.meetings,
    discoveryMeetings: CONFIG.discoveryMeetings,
    bigN: CONFIG.bigN,
    discoveryN: CONFIG.discoveryN,
    records: CONFIG.records,
    concurrency: CONFIG.concurrency,
    joinRate: 5,
    timeoutMs: (peers) => Math.min(900_000, 60_000 + peers * 400),
  }));
await part(7, "sim", () => runSim(CONFIG.sim, command));
clearTimeout(deadline);

await save();
const complete = PART_NAMES.every((name) => results.parts[name] !== undefined);
const tables = await report(results, !quick && complete);
progress(
  "bench",
  `done in ${Math.round((performance.now() - started) / 1000)} s; results: ${
    outDir.replace(ROOT, "")
  }latest.json`,
);
if (json) console.log(JSON.stringify(results));
else console.log(tables);
Deno.exit(crashed ? 1 : 0);
