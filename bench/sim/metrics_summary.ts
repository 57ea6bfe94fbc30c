/**
 * The simulator's results from what its trackers collected: statistics per phase, per
 * payload size and per traffic window, and thinned samples for the plots.
 *
 * @module
 */
import type {
  CohortResult,
  CohortTrack,
  GraphSample,
  MetricsResult,
  TrafficWindow,
} from "./metrics_types.ts";
import { type Stats, stats, thin } from "./stats.ts";

/** What the trackers collected (the finished parts of `Metrics`). */
export interface Collected {
  readonly joinsDone: CohortTrack[];
  readonly goneDone: (CohortTrack & { kind: "crash" | "leave" })[];
  readonly broadcastsDone: (CohortTrack & { bytes: number })[];
  readonly newcomersDone: { phase: string; ms: number | null }[];
  readonly deliveryMs: Map<number, number[]>;
  readonly hops: number[];
  readonly windows: TrafficWindow[];
  readonly graph: GraphSample[];
  readonly degreeHistogram: Map<number, number>;
  readonly resurrections: number;
  readonly falseFailures: number;
}

/**
 * Summarize a run.
 * @param m What the trackers collected.
 * @param now Virtual time at the end (ms).
 * @param liveNow Live members at the end (for a traffic window without live samples).
 * @param openAtCut Trackers left open when the wall-clock budget cut the run.
 * @returns The results.
 */
export function summarize(
  m: Collected,
  now: number,
  liveNow: number,
  openAtCut: number,
): MetricsResult {
  const byPhase = <T extends { phase: string }>(list: T[]) => {
    const out = new Map<string, T[]>();
    for (const x of list) {
      if (!out.has(x.phase)) out.set(x.phase, []);
      out.get(x.phase)!.push(x);
    }
    return out;
  };
  const cohort = (list: CohortTrack[]): CohortResult => ({
    events: list.length,
    t99: stats(list.map((t) => t.t99 ?? NaN)),
    t100: stats(list.map((t) => t.t100 ?? NaN)),
    never99: list.filter((t) => t.t99 === null).length,
    never100: list.filter((t) => t.t100 === null).length,
  });
  const newcomers: Record<string, { events: number; ms: Stats; never: number }> = {};
  for (const [phase, list] of byPhase(m.newcomersDone)) {
    newcomers[phase] = {
      events: list.length,
      ms: stats(list.map((x) => x.ms ?? NaN)),
      never: list.filter((x) => x.ms === null).length,
    };
  }
  const joins: Record<string, CohortResult> = {};
  for (const [phase, list] of byPhase(m.joinsDone)) joins[phase] = cohort(list);
  const gone: Record<string, CohortResult> = {};
  for (const kind of ["crash", "leave"] as const) {
    const list = m.goneDone.filter((t) => t.kind === kind);
    if (list.length) gone[kind] = cohort(list);
  }
  const broadcasts: MetricsResult["broadcasts"] = [];
  for (
    const size of [...new Set(m.broadcastsDone.map((t) => t.bytes))].sort((a, b) => a - b)
  ) {
    const list = m.broadcastsDone.filter((t) => t.bytes === size);
    const coverage = list.map((t) => (t.size ? t.count / t.size : 1));
    broadcasts.push({
      bytes: size,
      ...cohort(list),
      coverageMin: Math.min(1, ...coverage),
      coverageMean: coverage.reduce((a, b) => a + b, 0) / (coverage.length || 1),
      fullyCovered: list.filter((t) => t.count >= t.size).length,
      duplicates: list.reduce((a, t) => a + t.duplicates, 0),
      latency: stats(m.deliveryMs.get(size) ?? []),
      latencySample: thin(m.deliveryMs.get(size) ?? [], 600),
    });
  }
  const traffic = m.windows.map((w) => {
    const seconds = (w.end - w.start) / 1000;
    const liveAvg = w.liveSamples ? w.liveSum / w.liveSamples : liveNow;
    const per = (x: number) => (seconds > 0 && liveAvg > 0 ? x / seconds / liveAvg : NaN);
    const kinds: Record<string, { msgsPerMemberPerS: number; bytesPerMemberPerS: number }> = {};
    let controlMsgs = 0, controlBytes = 0, appBytes = 0;
    for (const [k, c] of [...w.kinds].sort()) {
      kinds[k] = { msgsPerMemberPerS: per(c.msgs), bytesPerMemberPerS: per(c.bytes) };
      if (k === "gossip:app") appBytes += c.bytes;
      else controlMsgs += c.msgs, controlBytes += c.bytes;
    }
    return {
      name: w.name,
      seconds,
      liveAvg: Math.round(liveAvg),
      controlMsgsPerMemberPerS: per(controlMsgs),
      controlBytesPerMemberPerS: per(controlBytes),
      appBytesPerMemberPerS: per(appBytes),
      kinds,
    };
  });
  return {
    endedAtMs: now,
    openAtCut,
    newcomers,
    joins,
    gone,
    broadcasts,
    hops: stats(m.hops),
    traffic,
    graph: m.graph,
    degreeHistogram: Object.fromEntries([...m.degreeHistogram].sort((a, b) => a[0] - b[0])),
    resurrections: m.resurrections,
    falseFailures: m.falseFailures,
    samples: {
      newcomerMs: Object.fromEntries(
        [...byPhase(m.newcomersDone)].map(([phase, list]) => [
          phase,
          thin(list.map((x) => x.ms ?? NaN).filter(Number.isFinite), 600),
        ]),
      ),
      join99Ms: Object.fromEntries(
        [...byPhase(m.joinsDone)].map(([phase, list]) => [
          phase,
          thin(list.map((t) => t.t99 ?? NaN).filter(Number.isFinite), 600),
        ]),
      ),
      crash99Ms: m.goneDone.filter((t) => t.kind === "crash").map((t) => t.t99 ?? NaN)
        .filter(Number.isFinite),
      leave99Ms: m.goneDone.filter((t) => t.kind === "leave").map((t) => t.t99 ?? NaN)
        .filter(Number.isFinite),
    },
  };
}
