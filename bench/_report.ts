/**
 * Turning results into plots (SVG) and the markdown tables of BENCHMARKS.md.
 *
 * @module
 */
import { barChart, distributionPlot, histogram, linePlot } from "./_plot.ts";
import type { BrowserResult } from "./browser.ts";
import type { DialResult } from "./dial.ts";
import { JOIN_STEPS, type JoinResult } from "./join.ts";
import type { MemoryResult } from "./memory.ts";
import type { ScaleResult } from "./scale.ts";
import { type SimDoc, simTables, writeSimPlots } from "./sim/report.ts";
import type { ThroughputResult } from "./throughput.ts";

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

const ok = <T>(x: T | { error: string } | undefined): T | undefined =>
  x && !(x as { error?: string }).error ? x as T : undefined;

const sec = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? "–" : (ms / 1000).toFixed(1);

const n = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });

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
  const join = ok<JoinResult>(r.parts.join);
  if (join) {
    out.push(
      `### 1. Join → first acknowledged message (${join.rounds} rounds, interleaved)`,
      "",
      "| implementation | p50 ms | p95 ms | min | max | rounds > 800 ms | p50 of the others ms | pair total p50 ms | failures | status |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const [name, s] of Object.entries(join.impls)) {
      // WebRTC on node-datachannel is bimodal (the DTLS race, section 3 of BENCHMARKS.md):
      // the p50 flips between the modes when about half the rounds are slow, so show both.
      const slow = s.newcomerMs.filter((ms) => ms > 800).length;
      const fast = s.newcomerMs.filter((ms) => ms <= 800).sort((a, b) => a - b);
      const fastP50 = fast.length > 0 ? fast[Math.floor((fast.length - 1) / 2)] : undefined;
      out.push(
        `| ${name} | ${n(s.summary?.p50, 1)} | ${n(s.summary?.p95, 1)} | ${
          n(s.summary?.min, 1)
        } | ${n(s.summary?.max, 1)} | ${slow}/${s.newcomerMs.length} | ${n(fastP50, 1)} | ${
          n(s.pairSummary?.p50, 1)
        } | ${s.failures.length} | ${s.status} |`,
      );
    }
    out.push("", "| ratio | value |", "| --- | ---: |");
    for (const [k, v] of Object.entries(join.ratios)) out.push(`| ${k} | ${n(v, 2)} |`);
    out.push(
      "",
      "meshmeet join steps, median (p95) in ms:",
      "",
      `| step | ${Object.keys(join.meshmeetSteps).join(" | ")} |`,
      `| --- | ${Object.keys(join.meshmeetSteps).map(() => "---:").join(" | ")} |`,
    );
    for (
      const [key, label] of [...JOIN_STEPS, ["discoveredMs", "join start → other peer found"], [
        "joinTotalMs",
        "joinMeeting() resolved",
      ]]
    ) {
      out.push(
        `| ${label} | ${
          Object.values(join.meshmeetSteps).map((s) =>
            s[key] ? `${n(s[key].p50)} (${n(s[key].p95)})` : "–"
          ).join(" | ")
        } |`,
      );
    }
    out.push(
      "",
      `Slowest sequential step: ${
        Object.entries(join.slowestStep).map(([k, v]) => `${k}: ${v}`).join("; ")
      }. Who dialed: ${Object.entries(join.dialers).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
      "",
      `![join distributions](${plotDir}join_distribution.svg)`,
      "",
      `![join steps](${plotDir}join_steps.svg)`,
      "",
    );
  } else if (r.parts.join) {
    out.push(`### 1. Join: error: ${(r.parts.join as { error: string }).error}`, "");
  }

  const browser = ok<BrowserResult>(r.parts.browser);
  if (browser) {
    out.push(
      `### 2. Browsers (Chromium ${
        browser.chromium ?? "?"
      }, ${browser.rounds} rounds): ${browser.status}`,
      "",
      "| implementation | p50 ms | p95 ms | min | max | failures | status |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const [name, s] of Object.entries(browser.impls)) {
      out.push(
        `| ${name} | ${n(s.summary?.p50, 1)} | ${n(s.summary?.p95, 1)} | ${
          n(s.summary?.min, 1)
        } | ${n(s.summary?.max, 1)} | ${s.failures.length} | ${s.status} |`,
      );
    }
    out.push("", `meshmeet/trystero (p50): **${n(browser.ratio, 2)}**`, "");
    if (browser.meshmeetSteps) {
      out.push(
        `meshmeet in Chromium, median step times (ms): ${
          Object.entries(browser.meshmeetSteps).map(([k, v]) => `${k} ${n(v.p50)}`).join(", ")
        }.`,
        "",
      );
    }
    out.push(`![browser distributions](${plotDir}browser_distribution.svg)`, "");
  } else if (r.parts.browser) {
    out.push(`### 2. Browsers: error: ${(r.parts.browser as { error: string }).error}`, "");
  }

  const dial = ok<DialResult>(r.parts.dial);
  if (dial) {
    out.push(
      `### 3. Dials between fresh peers (Deno, n=${dial.n})`,
      "",
      `Connected (first attempt) within 300 ms: **${
        n((dial.within300ms ?? NaN) * 100)
      }%**; raw libwebrtc pairs in one process (the limit, n=${
        dial.rawLibwebrtc?.rounds ?? "–"
      }): ${n((dial.rawLibwebrtc?.within300ms ?? NaN) * 100)}% within 300 ms, p50 ${
        n(dial.rawLibwebrtc?.ms.p50, 1)
      } ms, p95 ${
        n(dial.rawLibwebrtc?.ms.p95, 1)
      } ms; raw node-datachannel (probe, n=${dial.probe.rounds}): ${
        n((dial.probe.within300ms ?? NaN) * 100)
      }% within 300 ms. ` +
        `First attempt connected within 3 s: **${
          (dial.firstAttemptWithin3s * 100).toFixed(0)
        }%** ` +
        `(connected at all: ${(dial.successRate * 100).toFixed(0)}%). Dial time p50 ${
          n(dial.dialMs.p50)
        } ms, p95 ${n(dial.dialMs.p95)} ms. Fast mode p50 ${
          n(dial.fastMode.p50)
        } ms (${dial.fastMode.n} dials); slow mode p50 ${
          n(dial.slowMode.p50)
        } ms (${dial.slowMode.n} dials, ${(dial.slowShare * 100).toFixed(0)}%). Selected pairs: ${
          Object.entries(dial.pairs).map(([k, v]) => `${k} ${v}`).join(", ")
        }. The answerer's ICE was connected before the offerer's in ${
          (dial.answererIceFirstShare * 100).toFixed(0)
        }% of dials.`,
      "",
      "| phase (dialer side) | all p50 | all p95 | slow-mode p50 |",
      "| --- | ---: | ---: | ---: |",
    );
    for (const [k, v] of Object.entries(dial.phases)) {
      out.push(`| ${k} | ${n(v.p50, 1)} | ${n(v.p95, 1)} | ${n(dial.slowPhases[k]?.p50, 1)} |`);
    }
    const p = dial.probe;
    out.push(
      "",
      `Raw node-datachannel probe (libdatachannel log on): ${p.slow}/${p.rounds} rounds slow (p50 ${
        n(p.slowMs.p50)
      } ms vs ${n(p.fastMs.p50)} ms); ${p.slowWithUnansweredReplay}/${p.slow} slow rounds show ` +
        `the ClientHello replayed into DtlsTransport::start(), not answered, then retransmitted; ` +
        `${p.replayedAnswered}/${p.replayed} replayed ClientHellos were answered at once (fast).`,
      "",
      `![dial histogram](${plotDir}dial_histogram.svg)`,
      "",
    );
  } else if (r.parts.dial) {
    out.push(`### 3. Dials: error: ${(r.parts.dial as { error: string }).error}`, "");
  }

  const tp = ok<ThroughputResult>(r.parts.throughput);
  if (tp) {
    out.push(
      "### 4. Throughput on one connection (Deno ↔ Deno, two processes)",
      "",
      "| transfer | meshmeet Mbit/s | raw libwebrtc Mbit/s | meshmeet/raw libwebrtc (bests) | median of paired ratios | repetitions | raw node-datachannel Mbit/s |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const t of tp.transfers) {
      out.push(
        `| ${t.bytes / 1048576} MiB | ${n(t.meshmeetMbps, 1)} | ${n(t.rawMbps, 1)} | ${
          n(t.ratio, 2)
        } | ${n(t.medianRatio ?? undefined, 2)} | ${t.repeats ?? ""} | ${n(t.ndcMbps, 1)} |`,
      );
    }
    const msg = tp.messages;
    out.push(
      "",
      `| ${msg.size}-byte messages | msgs/s | note |`,
      "| --- | ---: | --- |",
      `| meshmeet, limit raised | ${
        n(msg.meshmeetRaisedLimit.msgsPerSec)
      } | ${msg.count} messages, 256 in flight, each acknowledged |`,
      `| meshmeet, default limits | ${
        n(msg.meshmeetDefaultLimit.msgsPerSec)
      } | ${msg.meshmeetDefaultLimit.refused}/${msg.meshmeetDefaultLimit.count} refused (RateLimitError) |`,
      `| raw libwebrtc data channel | ${n(msg.raw.msgsPerSec)} | ${msg.count} messages |`,
      `| raw node-datachannel data channel | ${n(msg.ndc?.msgsPerSec)} | ${msg.count} messages |`,
      `| meshmeet (limit raised) / raw libwebrtc | ${n(msg.ratio, 3)} | |`,
      `| meshmeet (default limits) / raw libwebrtc | ${n(msg.defaultRatio, 3)} | |`,
      "",
    );
  }
  const mem = ok<MemoryResult>(r.parts.memory);
  if (mem) {
    out.push(
      `### 5. Memory and CPU (idle window ${mem.idleSeconds} s)`,
      "",
      "| runtime | RSS before joining MiB | RSS joined + idle MiB | threads before / joined | JS heap MiB | idle CPU % | status |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const [k, v] of Object.entries(mem.idle)) {
      out.push(
        `| ${k} | ${n(v.baselineRssMiB, 1)} | ${n(v.joinedRssMiB, 1)} | ${n(v.baselineThreads)} / ${
          n(v.joinedThreads)
        } | ${n(v.heapUsedMiB, 1)} | ${n(v.idleCpuPercent, 1)} | ${v.status} |`,
      );
    }
    if (mem.perConnection) {
      out.push(
        "",
        "Per meeting link: one joined peer process alone (0 links), then N other peers join " +
          "the meeting (another process) and each opens a link to it; RSS after GC.",
        "",
        "| runtime | links | RSS 0 → N links MiB | MiB per link | threads 0 → N | threads per link | status |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
      );
      for (const [k, v] of Object.entries(mem.perConnection)) {
        out.push(
          `| ${k} | ${n(v.links)} | ${n(v.rssMiB0, 1)} → ${n(v.rssMiBN, 1)} | ${
            n(v.mibPerLink, 2)
          } | ${n(v.threads0)} → ${n(v.threadsN)} | ${n(v.threadsPerLink, 1)} | ${v.status} |`,
        );
      }
    }
    out.push(
      "",
      `In one process (one meeting, full mesh): ${
        mem.perPeer.steps.map((s) => `${s.peers} peers ${n(s.rssMiB)} MiB`).join(", ")
      }; slope **${n(mem.perPeer.slopeMiBPerPeer, 1)} MiB per extra peer** (including its ` +
        `connections); ${mem.perPeer.maxPeers} idle peers use ${
          n(mem.perPeer.idleCpuPercent, 1)
        }% of a core.`,
      "",
    );
  }
  const scale = ok<ScaleResult>(r.parts.scale);
  if (scale) {
    out.push(
      `### 6. Scale (${
        scale.netns ? "each scenario in its own loopback-only network namespace" : "host loopback"
      })`,
      "",
      "6a. Concurrent meetings, all peers in one process, real WebRTC:",
      "",
      "| meetings × peers | peers complete | whole meeting per peer p50 / p95 ms | per meeting p50 / p95 ms | isolation violations | handshake failures | KiB / peer | CPU s / peer |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const x of scale.meetings) {
      if (x.error) {
        out.push(`| ${x.meetings} × ${x.peers} | error: ${x.error} | | | | | | |`);
        continue;
      }
      const pp = x.wholeMeetingPerPeerMs as Record<string, number>;
      const pm = x.wholeMeetingPerMeetingMs as Record<string, number>;
      const iso = x.isolation as Record<string, number>;
      const per = x.perPeer as Record<string, number>;
      out.push(
        `| ${x.meetings} × ${x.peersPerMeeting} | ${x.complete}/${x.totalPeers} | ${n(pp.p50)} / ${
          n(pp.p95)
        } | ${n(pm.p50)} / ${n(pm.p95)} | ${iso.violations} | ${iso.handshakeFailures} | ${
          n(per.kiB)
        } | ${n(per.cpuSeconds, 2)} |`,
      );
    }
    const discoveryRows = (
      list: Record<string, unknown>[],
      first: (x: Record<string, unknown>) => string,
    ) => {
      for (const x of list) {
        if (x.error) {
          out.push(`| ${first(x)} | error: ${x.error} | | | | | | | | |`);
          continue;
        }
        const w = x.wholeMeetingPerPeerMs as Record<string, number>;
        const j = x.joinMs as Record<string, number>;
        const per = x.perPeer as Record<string, number>;
        const iso = x.isolation as Record<string, number>;
        out.push(
          `| ${first(x)} | ${x.joined}/${x.totalPeers} | ${x.complete} | ${n(w.p50)} / ${
            n(w.p95)
          } | ${n(j.p50)} / ${n(j.p95)} | ${iso.violations} | ${n(per.kiB)} | ${
            n(per.cpuSeconds, 2)
          } | ${n(per.lookups, 1)} | ${n(per.recordsFetched, 1)} |`,
        );
      }
    };
    const discoveryHeader = [
      "| scenario | joined in budget | complete | whole meeting per peer p50 / p95 ms (from last arrival) | join p50 / p95 ms | isolation violations | KiB / peer | CPU s / peer | lookups / peer | records fetched / peer |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ];
    if (scale.discoveryMeetings?.length) {
      out.push(
        "",
        "6a, discovery only (meshmeet's rendezvous on real participant nodes, no WebRTC, no handshake):",
        "",
        ...discoveryHeader,
      );
      discoveryRows(scale.discoveryMeetings, (x) => `${x.meetings} × ${x.peersPerMeeting}`);
    }
    out.push(
      "",
      "6b. One meeting of N peers (one process, the overlay; converged = every peer's roster holds all N−1 others; degree = links):",
      "",
      "| N | joined in budget | at target | converged after s | per peer p50 / p95 s | degree min / p50 / max | components | KiB / peer | packets / peer | CPU s / peer | lookups / peer | records fetched / peer | dial attempts (failures) / peer |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const b of scale.big) {
      if (b.error) {
        out.push(`| ${b.n} | error: ${b.error} | | | | | | | | | | | |`);
        continue;
      }
      const pp = b.perPeerToTargetMs as Record<string, number>;
      const d = b.degree as Record<string, number>;
      const per = b.perPeer as Record<string, number>;
      out.push(
        `| ${b.n} | ${b.joined}/${b.n} | ${b.complete}/${b.joined} | ${
          b.converged ? n((b.convergeMs as number) / 1000, 1) : "no"
        } | ${sec(pp.p50)} / ${sec(pp.p95)} | ${d.min} / ${d.p50} / ${d.max} | ${b.components} | ${
          n(per.kiB)
        } | ${n(per.packets)} | ${n(per.cpuSeconds, 2)} | ${n(per.lookups, 1)} | ${
          n(per.recordsFetched, 1)
        } | ${n(per.dialAttempts, 1)} (${n(per.dialFailures, 1)}) |`,
      );
    }
    if (scale.discoveryBig?.length) {
      out.push(
        "",
        "6b, discovery only (complete = a peer has verified records of all N−1 others):",
        "",
        ...discoveryHeader,
      );
      discoveryRows(scale.discoveryBig, (x) => `N = ${x.n}`);
    }
    out.push(
      "",
      `![convergence](${plotDir}scale_convergence.svg)`,
      "",
      `![cost per peer](${plotDir}scale_cost.svg)`,
      "",
      ...recordsTable(scale.records),
    );
    out.push("");
  }
  const sim = ok<SimDoc>(r.parts.sim);
  if (sim) {
    out.push(
      `### 7. Simulator: the real overlay (src/overlay/) with ${sim.options.members} members in virtual time`,
      "",
      "20–150 ms links, 1% loss (as retransmission delay), join wave, 1%/min churn, broadcasts; " +
        'see BENCHMARKS.md "Issue 11: simulator" for the model and the larger runs.',
      "",
      simTables([sim], plotDir),
      "",
    );
  }
  return out.join("\n");
}

/**
 * The table of part 6c: presence records under one topic on DHT servers, a newcomer's lookup.
 *
 * @param records The scenarios of part 6c.
 * @returns Markdown lines.
 */
export function recordsTable(records: Record<string, unknown>[]): string[] {
  const out = [
    "6c. Presence records under one topic, a newcomer's lookup (meshmeet's Rendezvous.lookup): the " +
    "provider list alone; `lookup({ enough: 8 })` (issue 11: stop at 8 verified entry points); the " +
    "lookup that fetches every provider answered (all lookups before issue 11):",
    "",
    "| records / servers | server limits | providers found, ms, KiB | 8 entry points: verified, ms to the 8th, GETs, KiB | full lookup: records fetched, ms, KiB | GET failures (full lookup) |",
    "| --- | --- | ---: | ---: | ---: | --- |",
  ];
  for (const c of records) {
    const limits = c.caps === false ? "none (kad-dht alone)" : "64 answered, 256 kept";
    if (c.error) {
      out.push(`| ${c.records} / ${c.servers} | ${limits} | error: ${c.error} | | | |`);
      continue;
    }
    const p = c.providers as Record<string, number>;
    const l = c.lookup as Record<string, unknown>;
    const e = c.entryPoints as Record<string, number> | undefined;
    out.push(
      `| ${c.records} / ${c.servers} | ${limits} | ${p.found}, ${n(p.ms)} ms, ${n(p.kiB)} KiB | ${
        e ? `${e.accepted}, ${n(e.enoughMs)} ms, ${e.gets}, ${n(e.kiB)} KiB` : "–"
      } | ${l.accepted}, ${n(l.ms as number)} ms, ${n(l.kiB as number)} KiB | ${
        Object.entries(l.getFailures as Record<string, number>).map(([k, v]) => `${v}× ${k}`)
          .join("; ") || "none"
      } |`,
    );
  }
  return out;
}
