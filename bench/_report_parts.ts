/**
 * The bench report's markdown sections for parts 1–5 (join, browsers, dials, throughput,
 * memory).
 *
 * @module
 */
import type { BenchResults } from "./_report.ts";
import { n, ok } from "./_report_format.ts";
import type { BrowserResult } from "./browser.ts";
import type { DialResult } from "./dial.ts";
import { JOIN_STEPS, type JoinResult } from "./join.ts";
import type { MemoryResult } from "./memory.ts";
import type { ThroughputResult } from "./throughput.ts";

/**
 * Part 1: join → first acknowledged message, per implementation, and meshmeet's join steps.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function joinSection(r: BenchResults, plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
}

/**
 * Part 2: the same in Chromium.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function browserSection(r: BenchResults, plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
}

/**
 * Part 3: dials between fresh peers, and the raw node-datachannel probe.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function dialSection(r: BenchResults, plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
}

/**
 * Part 4: throughput on one connection, bulk and small messages.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function throughputSection(r: BenchResults, _plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
}

/**
 * Part 5: memory and CPU, idle, per link and per peer.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function memorySection(r: BenchResults, _plotDir: string): string[] {
  const out: string[] = [];
  const mem = ok<MemoryResult>(r.parts.memory);
  if (mem) {
    out.push(
      `### 5. Memory and CPU (idle window ${mem.idleSeconds} s)`,
      "",
      "| runtime | bare runtime RSS (anon) MiB | RSS before joining MiB | RSS joined + idle MiB | of which anonymous / from files MiB | threads before / joined | JS heap MiB | idle CPU % | status |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const [k, v] of Object.entries(mem.idle)) {
      out.push(
        `| ${k} | ${n(v.runtimeRssMiB, 1)} (${n(v.runtimeAnonMiB, 1)}) | ${
          n(v.baselineRssMiB, 1)
        } | ${n(v.joinedRssMiB, 1)} | ${n(v.joinedAnonMiB, 1)} / ${n(v.joinedFileMiB, 1)} | ${
          n(v.baselineThreads)
        } / ${n(v.joinedThreads)} | ${n(v.heapUsedMiB, 1)} | ${
          n(v.idleCpuPercent, 1)
        } | ${v.status} |`,
      );
    }
    out.push(
      "",
      "Anonymous pages are what the process allocated (JavaScript and native heaps, stacks); " +
        "pages from files are the runtime's executable, native add-ons and code caches, " +
        "clean pages shared by every process of that runtime that the kernel can drop. The " +
        "bare runtime is the same binary running an empty program with one timer.",
    );
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
  return out;
}
