/**
 * The bench report's plots (SVG), one set per part that ran.
 *
 * @module
 */
import { barChart, distributionPlot, histogram, linePlot } from "./_plot.ts";
import type { BenchResults } from "./_report.ts";
import { ok } from "./_report_format.ts";
import type { BrowserResult } from "./browser.ts";
import type { DialResult } from "./dial.ts";
import { JOIN_STEPS, type JoinResult } from "./join.ts";
import type { ScaleResult } from "./scale.ts";
import { type SimDoc, writeSimPlots } from "./sim/report.ts";

/**
 * Write the plots of a run.
 *
 * @param r Results.
 * @param dir Output directory (ends with "/").
 * @returns File names written.
 */
export async function writePlots(r: BenchResults, dir: string): Promise<string[]> {
  const files: Record<string, string> = {};
  const join = ok<JoinResult>(r.parts.join);
  if (join) {
    files["join_distribution.svg"] = distributionPlot({
      title: "Join → first acknowledged message (newcomer, loopback)",
      unit: "ms",
      log: true,
      series: Object.entries(join.impls).map(([label, s]) => ({ label, values: s.newcomerMs })),
      note: "dots: rounds; box: p25–p75; thick line: p50; dashed: p95",
    });
    const bars: { label: string; value: number; note?: string }[] = [];
    for (const [impl, steps] of Object.entries(join.meshmeetSteps)) {
      const rt = impl.replace("meshmeet ", "");
      for (const [key, label] of JOIN_STEPS) {
        const s = steps[key];
        if (s && Number.isFinite(s.p50)) {
          bars.push({ label: `${rt} ${label.split(" (")[0]}`, value: s.p50 });
        }
      }
    }
    files["join_steps.svg"] = barChart({
      title: "meshmeet join steps, median (ms)",
      unit: "ms (KDF and STUN overlap other steps)",
      bars,
    });
  }
  const browser = ok<BrowserResult>(r.parts.browser);
  if (browser) {
    files["browser_distribution.svg"] = distributionPlot({
      title: "Chromium: join → first acknowledged message (newcomer)",
      unit: "ms",
      log: true,
      series: Object.entries(browser.impls).map(([label, s]) => ({ label, values: s.ms })),
      note:
        "meshmeet: bootstrap over ws:// + DHT + relayed signaling; trystero: self-hosted WebSocket tracker",
    });
  }
  const dial = ok<DialResult>(r.parts.dial);
  if (dial) {
    files["dial_histogram.svg"] = histogram({
      title: `Dial time between fresh peers (Deno, loopback, n=${dial.n})`,
      unit: "ms from discovery to connected + handshake",
      values: dial.dials.filter((d) => d.ok).map((d) => d.dialMs),
      binWidth: 50,
      markers: [{ at: 3000, label: "3 s" }],
      note: `first attempt within 3 s: ${(dial.firstAttemptWithin3s * 100).toFixed(0)}%; ` +
        `slow mode (DTLS waits ~1 s): ${(dial.slowShare * 100).toFixed(0)}%`,
    });
  }
  const scale = ok<ScaleResult>(r.parts.scale);
  if (scale) {
    const big = scale.big.filter((b) => !b.error) as Record<string, unknown>[];
    const disc = (scale.discoveryBig ?? []).filter((b) => !b.error) as Record<string, unknown>[];
    const pts = (f: (b: Record<string, unknown>) => number, list = big) =>
      list.map((b) => [b.n as number, f(b) ?? NaN] as [number, number])
        .filter(([, y]) => y !== null && Number.isFinite(y) && y > 0);
    const per = (b: Record<string, unknown>, k: string) => (b.perPeer as Record<string, number>)[k];
    files["scale_convergence.svg"] = linePlot({
      title: "One meeting of N peers: time to converge",
      xLabel: "N (peers in one meeting, one process)",
      yLabel: "seconds",
      series: [
        {
          label: "WebRTC: peer p50",
          points: pts((b) => ((b.perPeerToTargetMs as Record<string, number>).p50) / 1000),
        },
        {
          label: "WebRTC: peer p95",
          points: pts((b) => ((b.perPeerToTargetMs as Record<string, number>).p95) / 1000),
          dashed: true,
        },
        {
          label: "discovery: peer p50",
          points: pts(
            (b) => ((b.wholeMeetingPerPeerMs as Record<string, number>).p50) / 1000,
            disc,
          ),
        },
        {
          label: "discovery: peer p95",
          points: pts(
            (b) => ((b.wholeMeetingPerPeerMs as Record<string, number>).p95) / 1000,
            disc,
          ),
          dashed: true,
        },
      ],
      note: "WebRTC: own join → min(N−1, 32) participants; discovery: last arrival → all " +
        "records; no point = not converged",
    });
    files["scale_cost.svg"] = linePlot({
      title: "One meeting of N peers: cost per peer over the scenario",
      xLabel: "N",
      yLabel: "per peer",
      logY: true,
      series: [
        { label: "WebRTC: KiB", points: pts((b) => per(b, "kiB")) },
        { label: "WebRTC: CPU ms", points: pts((b) => per(b, "cpuSeconds") * 1000) },
        { label: "discovery: KiB", points: pts((b) => per(b, "kiB"), disc), dashed: true },
        {
          label: "discovery: CPU ms",
          points: pts((b) => per(b, "cpuSeconds") * 1000, disc),
          dashed: true,
        },
      ],
      note: "all loopback traffic and CPU of the scenario (peers + servers) divided by N",
    });
  }
  const written: string[] = [];
  for (const [name, svg] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}${name}`, svg);
    written.push(name);
  }
  const sim = ok<SimDoc>(r.parts.sim);
  if (sim) written.push(...await writeSimPlots([sim], dir));
  return written;
}
