/**
 * The bench report's markdown sections for part 6 (scale, with 6c's records table) and
 * part 7 (the simulator).
 *
 * @module
 */
import type { BenchResults } from "./_report.ts";
import { n, ok, sec } from "./_report_format.ts";
import type { ScaleResult } from "./scale.ts";
import { type SimDoc, simTables } from "./sim/report.ts";

/**
 * Part 6: concurrent meetings, one big meeting, presence records (6a–6c).
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function scaleSection(r: BenchResults, plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
}

/**
 * Part 7: the simulator's tables.
 *
 * @param r Results.
 * @param plotDir Relative directory of the plots (for image links).
 * @returns Markdown lines (none when the part did not run).
 */
export function simSection(r: BenchResults, plotDir: string): string[] {
  const out: string[] = [];
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
  return out;
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
