/**
 * Turning results into plots (SVG) and the markdown tables of BENCHMARKS.md.
 *
 * @module
 */
import { writePlots } from "./_report_plots.ts";
import {
  browserSection,
  dialSection,
  joinSection,
  memorySection,
  throughputSection,
} from "./_report_parts.ts";
import { recordsTable, scaleSection, simSection } from "./_report_scale.ts";
import { n } from "./_report_format.ts";
import type { BrowserResult } from "./browser.ts";
import type { DialResult } from "./dial.ts";
import type { JoinResult } from "./join.ts";
import type { MemoryResult } from "./memory.ts";
import type { ScaleResult } from "./scale.ts";
import type { SimDoc } from "./sim/report.ts";
import type { ThroughputResult } from "./throughput.ts";

export { recordsTable, writePlots };

/** Everything one run produced. */
export interface BenchResults {
  mode: "quick" | "full";
  command: string;
  startedAt: string;
  durationSeconds?: number;
  machine: Record<string, string | number>;
  /** Parts run again later with `--only` and merged into these results. */
  reruns?: { command: string; startedAt: string; parts: string[]; loadavg: string | number }[];
  parts: {
    join?: JoinResult | { error: string };
    browser?: BrowserResult | { error: string };
    dial?: DialResult | { error: string };
    throughput?: ThroughputResult | { error: string };
    memory?: MemoryResult | { error: string };
    scale?: ScaleResult | { error: string };
    sim?: SimDoc | { error: string };
  };
}

/**
 * The results tables in markdown.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown.
 */
export function markdownTables(r: BenchResults, plotDir: string): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Run: \`${r.command}\`, ${r.startedAt}, ${n(r.durationSeconds)} s. Machine: ${m.cpu}, ` +
      `${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, kernel ${m.kernel}; Deno ${m.deno}, ` +
      `Node ${m.node} (machine), ${m.chromium}; load average at start ${m.loadavg}.`,
    "",
  );
  for (const r2 of r.reruns ?? []) {
    out.push(
      `Part(s) ${r2.parts.join(", ")} from a later \`${r2.command}\` (${r2.startedAt}, load ` +
        `average ${r2.loadavg}), merged into this run's results.`,
      "",
    );
  }
  for (
    const section of [
      joinSection,
      browserSection,
      dialSection,
      throughputSection,
      memorySection,
      scaleSection,
      simSection,
    ]
  ) out.push(...section(r, plotDir));
  return out.join("\n");
}
