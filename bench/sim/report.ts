/**
 * Tables and plots of simulator runs: one column per run (1,000 / 5,000 / 10,000 members…),
 * the issue's goals beside them, SVG plots drawn with `bench/_plot.ts`.
 *
 * @module
 */
import { distributionPlot, linePlot } from "../_plot.ts";
import type { ScenarioResult } from "./scenario.ts";

/** A saved run: the result plus how it was started. */
export type SimDoc = ScenarioResult & { command: string; startedAt: string; loadavg?: string };

const s2 = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? "–" : `${(ms / 1000).toFixed(2)} s`;
const int = (x: number) => Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–";
const pct = (x: number) => Number.isFinite(x) ? `${(x * 100).toFixed(x === 1 ? 0 : 2)}%` : "–";
const label = (d: SimDoc) =>
  `${d.options.members.toLocaleString("en-US")} members` +
  (d.options.warmMembers ? ` (${d.options.warmMembers.toLocaleString("en-US")} warm)` : "");

/**
 * The markdown tables of some runs.
 *
 * @param docs Runs (sorted by members).
 * @param plotDir Where the plots are, relative to the markdown file.
 * @returns Markdown.
 */
export function simTables(docs: SimDoc[], plotDir: string): string {
  const head = `| measure | goal | ${docs.map(label).join(" | ")} |\n| --- | --- |${
    docs.map(() => " --- |").join("")
  }`;
  const row = (name: string, goal: string, f: (d: SimDoc) => string) =>
    `| ${name} | ${goal} | ${docs.map(f).join(" | ")} |`;
  const bc = (d: SimDoc, bytes: number) => d.metrics.broadcasts.find((b) => b.bytes === bytes);
  const sizes = [...new Set(docs.flatMap((d) => d.metrics.broadcasts.map((b) => b.bytes)))].sort((
    a,
    b,
  ) => a - b);
  const afterBuild = (d: SimDoc, settled = false) => {
    const warm = d.options.warmMembers ?? 0;
    const end = (warm > 0 ? d.options.warmSettleMs : 0) +
      ((d.options.members - warm) / d.options.joinRate) * 1000 +
      (settled ? d.options.settleMs : 0);
    return d.metrics.graph.filter((g) => g.t * 1000 > end);
  };
  const traffic = (d: SimDoc, name: string) => d.metrics.traffic.find((t) => t.name === name);
  const rows = [
    row("newcomer holds the complete roster (churn phase), p50 / p99", "p99 ≤ 5 s", (d) => {
      const n = d.metrics.newcomers.churn;
      return n ? `${s2(n.ms.p50)} / ${s2(n.ms.p99)} (n=${n.events}, never ${n.never})` : "–";
    }),
    row("… during the join wave, p50 / p99", "", (d) => {
      const n = d.metrics.newcomers.wave;
      return n ? `${s2(n.ms.p50)} / ${s2(n.ms.p99)} (never ${n.never})` : "–";
    }),
    row("a join seen by 99% of members (churn phase), p50 / max", "≤ 3 s", (d) => {
      const j = d.metrics.joins.churn;
      return j ? `${s2(j.t99.p50)} / ${s2(j.t99.max)} (n=${j.events}, never ${j.never99})` : "–";
    }),
    row("… during the join wave, p50 / p99", "", (d) => {
      const j = d.metrics.joins.wave;
      return j ? `${s2(j.t99.p50)} / ${s2(j.t99.p99)} (never ${j.never99})` : "–";
    }),
    ...sizes.flatMap((bytes) => [
      row(
        `broadcast ${bytes / 1024} KiB: members reached (all broadcasts)`,
        "100%",
        (d) => {
          const b = bc(d, bytes);
          return b
            ? `${b.fullyCovered}/${b.events} complete, worst ${
              pct(b.coverageMin)
            }, ${b.duplicates} dup.`
            : "–";
        },
      ),
      row(`broadcast ${bytes / 1024} KiB: delivery latency p50 / p99`, "p99 ≤ 2 s", (d) => {
        const b = bc(d, bytes);
        return b ? `${s2(b.latency.p50)} / ${s2(b.latency.p99)}` : "–";
      }),
      row(`broadcast ${bytes / 1024} KiB: time to reach all, p50 / max`, "", (d) => {
        const b = bc(d, bytes);
        return b ? `${s2(b.t100.p50)} / ${s2(b.t100.max)}` : "–";
      }),
    ]),
    row("a crashed member gone from 99% of rosters, p50 / max", "≤ 30 s", (d) => {
      const g = d.metrics.gone.crash;
      return g ? `${s2(g.t99.p50)} / ${s2(g.t99.max)} (n=${g.events}, never ${g.never99})` : "–";
    }),
    row("… from every roster, max", "", (d) => {
      const g = d.metrics.gone.crash;
      return g ? `${s2(g.t100.max)} (never ${g.never100})` : "–";
    }),
    row("a member that left gone from 99% of rosters, p50 / max", "", (d) => {
      const g = d.metrics.gone.leave;
      return g ? `${s2(g.t99.p50)} / ${s2(g.t99.max)} (n=${g.events})` : "–";
    }),
    row("links per member, whole run: max links up / max `neighbours()` / mean", "≤ 16", (d) => {
      const g = afterBuild(d);
      const all = d.metrics.graph;
      return `${Math.max(...all.map((x) => x.maxDegree))} / ${
        Math.max(...all.map((x) => x.maxNeighbours))
      } / ${(g.reduce((a, x) => a + x.meanDegree, 0) / (g.length || 1)).toFixed(1)}`;
    }),
    row("… once settled (quiet, churn, drain): max links up / max `neighbours()`", "≤ 16", (d) => {
      const g = afterBuild(d, true);
      if (g.length === 0) return "–";
      return `${Math.max(...g.map((x) => x.maxDegree))} / ${
        Math.max(...g.map((x) => x.maxNeighbours))
      }`;
    }),
    row("connected components after the build (every sample)", "one", (d) => {
      const g = afterBuild(d);
      const worst = Math.max(...g.map((x) => x.components));
      const share = Math.min(...g.map((x) => x.largest));
      return `max ${worst} in ${g.length} samples${worst > 1 ? `, largest ≥ ${pct(share)}` : ""}`;
    }),
    row("control traffic per member, steady (no churn)", "≤ 20 KB/s", (d) => {
      const t = traffic(d, "steady");
      return t
        ? `${int(t.controlBytesPerMemberPerS)} B/s, ${t.controlMsgsPerMemberPerS.toFixed(1)} msg/s`
        : "–";
    }),
    row("… under churn and broadcasts (control only)", "", (d) => {
      const t = traffic(d, "churn");
      return t
        ? `${int(t.controlBytesPerMemberPerS)} B/s, ${t.controlMsgsPerMemberPerS.toFixed(1)} msg/s`
        : "–";
    }),
    row("… application broadcast bytes relayed per member", "", (d) => {
      const t = traffic(d, "churn");
      return t ? `${int(t.appBytesPerMemberPerS)} B/s` : "–";
    }),
    row(
      "at the end: rosters holding every live member",
      "all",
      (d) =>
        `${d.roster.complete}/${d.roster.checked}` +
        (d.roster.missing ? ` (${d.roster.missing} entries missing)` : "") +
        (d.finished ? "" : `, checked when the run was cut at ${Math.round(d.virtualSeconds)} s`),
    ),
    row(
      "at the end: departed members still in a roster",
      "0",
      (d) => d.roster.stale ? `${d.roster.stale} (oldest ${s2(d.roster.staleOldestMs)})` : "0",
    ),
    row(
      "live members wrongly declared failed / revived after removal",
      "",
      (d) => `${d.metrics.falseFailures} / ${d.metrics.resurrections}`,
    ),
    row(
      "broadcast hops p50 / p99 / max",
      "",
      (d) =>
        d.metrics.hops.n
          ? `${d.metrics.hops.p50} / ${d.metrics.hops.p99} / ${d.metrics.hops.max}`
          : "–",
    ),
  ];
  const details = [
    `| run | ${docs.map(label).join(" | ")} |`,
    `| --- |${docs.map(() => " --- |").join("")}`,
    `| command | ${docs.map((d) => `\`${d.command}\``).join(" | ")} |`,
    `| how the meeting was built | ${
      docs.map((d) =>
        d.options.warmMembers
          ? `warm start of ${d.options.warmMembers.toLocaleString("en-US")}, then ${
            (d.options.members - d.options.warmMembers).toLocaleString("en-US")
          } joined at ${d.options.joinRate}/s`
          : `all joined at ${d.options.joinRate}/s`
      ).join(" | ")
    } |`,
    `| wall clock: warm / build / settle / quiet / churn / drain / total | ${
      docs.map((d) => {
        const w = d.wallSeconds;
        return `${
          w.warm ?? "–"
        } / ${w.build} / ${w.settle} / ${w.quiet} / ${w.churn} / ${w.drain} / **${w.total} s**`;
      }).join(" | ")
    } |`,
    `| virtual time | ${
      docs.map((d) =>
        `${Math.round(d.virtualSeconds)} s` +
        (d.finished
          ? ""
          : ` (**cut by the wall-clock budget**; ${d.metrics.openAtCut} trackers open)`)
      ).join(" | ")
    } |`,
    `| events processed | ${docs.map((d) => int(d.counters.events)).join(" | ")} |`,
    `| peak heap | ${docs.map((d) => `${int(d.heapMiB)} MiB`).join(" | ")} |`,
    `| members spawned / crashed / left | ${
      docs.map((d) => `${d.population.spawned} / ${d.population.crashed} / ${d.population.left}`)
        .join(" | ")
    } |`,
    `| messages sent / lost to a closing or failed link | ${
      docs.map((d) =>
        `${int(d.counters.sent)} / ${int(d.counters.sentOnDyingLink + d.counters.lostInFlight)}`
      ).join(" | ")
    } |`,
    `| sends without a link (should be 0) | ${
      docs.map((d) => int(d.counters.sentWithoutLink)).join(" | ")
    } |`,
    `| connects: started / up / failed / redundant | ${
      docs.map((d) => {
        const c = d.counters;
        return `${int(c.connects)} / ${int(c.connectsUp)} / ${int(c.connectsFailed)} / ${
          int(c.connectsRedundant)
        }`;
      }).join(" | ")
    } |`,
    `| disconnects | ${docs.map((d) => int(d.counters.disconnects)).join(" | ")} |`,
    `| load average at start | ${docs.map((d) => d.loadavg ?? "–").join(" | ")} |`,
  ];
  const kinds = [
    ...new Set(docs.flatMap((d) => d.metrics.traffic.flatMap((t) => Object.keys(t.kinds)))),
  ].sort();
  const kindTable = [
    `| message kind | ${
      docs.map((d) => `${label(d)}: steady / churn (B/s, msg/s per member)`).join(" | ")
    } |`,
    `| --- |${docs.map(() => " --- |").join("")}`,
    ...kinds.map((k) =>
      `| ${k} | ${
        docs.map((d) => {
          const cell = (name: string) => {
            const x = traffic(d, name)?.kinds[k];
            return x ? `${int(x.bytesPerMemberPerS)} B, ${x.msgsPerMemberPerS.toFixed(2)}` : "–";
          };
          return `${cell("steady")} / ${cell("churn")}`;
        }).join(" | ")
      } |`
    ),
  ];
  const plots = [
    "sim_newcomer_roster",
    "sim_join99",
    "sim_broadcast_latency",
    "sim_gone",
    "sim_degree",
    "sim_graph",
  ].map((p) => `![${p}](${plotDir}${p}.svg)`).join("\n");
  return [
    head,
    ...rows,
    "",
    "Runs:",
    "",
    ...details,
    "",
    "Traffic by message kind (bytes estimated per message by `estimateMessageBytes()`; " +
    "`gossip:app` is the application's broadcasts, everything else is control):",
    "",
    ...kindTable,
    "",
    plots,
  ].join("\n");
}

/**
 * Write the plots of some runs.
 *
 * @param docs Runs.
 * @param dir Output directory (ends with "/").
 * @returns File names written.
 */
export async function writeSimPlots(docs: SimDoc[], dir: string): Promise<string[]> {
  const files: Record<string, string> = {};
  const short = (d: SimDoc) =>
    (d.options.members < 1000 ? String(d.options.members) : `${d.options.members / 1000}k`) +
    (d.options.warmMembers ? "w" : "");
  const note = "dots: samples (thinned to 600); box: p25–p75; thick line: p50; dashed: p95";
  files["sim_newcomer_roster.svg"] = distributionPlot({
    title: "Newcomer holds the complete roster (simulator)",
    unit: "ms after it started joining",
    series: docs.flatMap((d) =>
      Object.entries(d.metrics.samples.newcomerMs).map(([phase, values]) => ({
        label: `${short(d)} ${phase}`,
        values,
      }))
    ),
    note,
  });
  files["sim_join99.svg"] = distributionPlot({
    title: "A join seen by 99% of members (simulator)",
    unit: "ms after the newcomer started",
    series: docs.flatMap((d) =>
      Object.entries(d.metrics.samples.join99Ms).map(([phase, values]) => ({
        label: `${short(d)} ${phase}`,
        values,
      }))
    ),
    note,
  });
  files["sim_broadcast_latency.svg"] = distributionPlot({
    title: "Broadcast delivery latency, every member (simulator)",
    unit: "ms from broadcast() to deliver",
    series: docs.flatMap((d) =>
      d.metrics.broadcasts.map((b) => ({
        label: `${short(d)} ${b.bytes / 1024} KiB`,
        values: b.latencySample,
      }))
    ),
    note,
  });
  files["sim_gone.svg"] = distributionPlot({
    title: "Crashed / departed member gone from 99% of rosters (simulator)",
    unit: "ms after the crash or leave",
    series: docs.flatMap((d) => [
      { label: `${short(d)} crash`, values: d.metrics.samples.crash99Ms },
      { label: `${short(d)} leave`, values: d.metrics.samples.leave99Ms },
    ]),
    note: "a crash is noticed when a neighbour's link lease expires (6–14 s), then suspected",
  });
  files["sim_degree.svg"] = linePlot({
    title: "Links per member, all graph samples (simulator)",
    xLabel: "links",
    yLabel: "share of member samples (%)",
    series: docs.map((d) => {
      const h = d.metrics.degreeHistogram;
      const total = Object.values(h).reduce((a, b) => a + b, 0);
      return {
        label: short(d),
        points: Object.entries(h).map(([k, v]) => [Number(k), (100 * v) / total]),
      };
    }),
  });
  files["sim_graph.svg"] = linePlot({
    title: "Link graph over time: components and largest degree",
    xLabel: "virtual time (s)",
    yLabel: "count",
    series: docs.flatMap((d) => [
      {
        label: `${short(d)} components`,
        points: d.metrics.graph.map((g) => [g.t, g.components] as [number, number]),
      },
      {
        label: `${short(d)} max links`,
        points: d.metrics.graph.map((g) => [g.t, g.maxDegree] as [number, number]),
        dashed: true,
      },
    ]),
    note: "build, settle, quiet, churn (1%/min + broadcasts), drain",
  });
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, svg] of Object.entries(files)) await Deno.writeTextFile(dir + name, svg);
  return Object.keys(files);
}

/**
 * Read every saved run of a directory, write its tables (`results.md`) and plots, and
 * (optionally) replace the marked section of BENCHMARKS.md.
 *
 * @param dir Directory of `sim_*.json` (ends with "/").
 * @param docPath BENCHMARKS.md, or null to leave it alone.
 * @returns Files written.
 */
export async function writeSimReport(dir: string, docPath: string | null): Promise<string[]> {
  const docs: SimDoc[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^sim_.*\.json$/.test(e.name)) {
      docs.push(JSON.parse(await Deno.readTextFile(dir + e.name)));
    }
  }
  docs.sort((a, b) =>
    a.options.members - b.options.members ||
    (a.options.warmMembers ?? 0) - (b.options.warmMembers ?? 0) || a.options.seed - b.options.seed
  );
  if (docs.length === 0) throw new Error(`no sim_*.json in ${dir}: run deno task sim first`);
  const written = await writeSimPlots(docs, dir);
  const tables = simTables(docs, "bench/results/sim/");
  await Deno.writeTextFile(`${dir}results.md`, tables + "\n");
  written.push("results.md");
  if (docPath) {
    const doc = await Deno.readTextFile(docPath);
    const start = "<!-- sim:results:start -->";
    const end = "<!-- sim:results:end -->";
    const i = doc.indexOf(start);
    const j = doc.indexOf(end);
    if (i >= 0 && j > i) {
      await Deno.writeTextFile(
        docPath,
        doc.slice(0, i + start.length) + "\n\n" + tables + "\n\n" + doc.slice(j),
      );
      await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", docPath] }).output();
      written.push(docPath);
    }
  }
  return written;
}
