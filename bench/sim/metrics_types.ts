/**
 * The shapes of the simulator's trackers and of its results (see `metrics.ts`).
 *
 * @module
 */
import type { Member } from "./network.ts";
import type { Bits, Stats } from "./stats.ts";

/** Time for 99% (and 100%) of a cohort to reach a state, per tracked event. */
export interface CohortTrack {
  /** Which member the event is about. */
  slot: number;
  /** Label ("wave", "churn", …). */
  phase: string;
  t0: number;
  /** Members that count (bit per slot) and those that reached the state. */
  cohort: Bits;
  reached: Bits;
  /** Cohort members still running, and how many of them reached the state. */
  size: number;
  count: number;
  t99: number | null;
  t100: number | null;
  /** For broadcasts: deliveries seen twice by the same member. */
  duplicates: number;
}

/** A newcomer waiting to hold every member that was live when it joined. */
export interface NewcomerTrack {
  m: Member;
  phase: string;
  t0: number;
  required: Int32Array;
  cursor: number;
}

/** One traffic window. */
export interface TrafficWindow {
  name: string;
  start: number;
  end: number;
  liveSamples: number;
  liveSum: number;
  kinds: Map<string, { msgs: number; bytes: number }>;
}

/** A sample of the link graph. */
export interface GraphSample {
  /** Virtual time (s). */
  t: number;
  /** Live members. */
  live: number;
  /** Connected components of settled members (links between live members only). */
  components: number;
  /** Share of settled members in the largest component. */
  largest: number;
  /** Settled members without any link. */
  isolated: number;
  /** Members that joined less than `settledMs` ago, and how many of them have no link yet. */
  young: number;
  youngIsolated: number;
  /** Degree (links counted by the simulator, to live or not-yet-failed members). */
  maxDegree: number;
  meanDegree: number;
  /** Largest `neighbours().length` any node reported. */
  maxNeighbours: number;
}

/** The results of one tracker kind, per phase. */
export interface CohortResult {
  /** Events tracked. */
  events: number;
  /** Time until 99% / 100% of the cohort (ms), over the events that got there. */
  t99: Stats;
  t100: Stats;
  /** Events that never reached 99% / 100% within the tracking window. */
  never99: number;
  never100: number;
}

/** Summaries of one run's metrics. */
export interface MetricsResult {
  endedAtMs: number;
  /** Trackers still open when the wall-clock budget cut the run (left out of the results). */
  openAtCut: number;
  /** Newcomer holds every member that was live when it joined, per phase. */
  newcomers: Record<string, { events: number; ms: Stats; never: number }>;
  /** A join seen by 99% / 100% of the members, per phase. */
  joins: Record<string, CohortResult>;
  /** A crashed or departed member gone from 99% / 100% of the rosters that held it. */
  gone: Record<string, CohortResult>;
  /** Broadcasts per payload size. */
  broadcasts: (CohortResult & {
    bytes: number;
    coverageMin: number;
    coverageMean: number;
    fullyCovered: number;
    duplicates: number;
    latency: Stats;
    latencySample: number[];
  })[];
  hops: Stats;
  traffic: {
    name: string;
    seconds: number;
    liveAvg: number;
    controlMsgsPerMemberPerS: number;
    controlBytesPerMemberPerS: number;
    appBytesPerMemberPerS: number;
    kinds: Record<string, { msgsPerMemberPerS: number; bytesPerMemberPerS: number }>;
  }[];
  graph: GraphSample[];
  degreeHistogram: Record<string, number>;
  resurrections: number;
  falseFailures: number;
  /** Thinned samples for plots. */
  samples: {
    newcomerMs: Record<string, number[]>;
    join99Ms: Record<string, number[]>;
    crash99Ms: number[];
    leave99Ms: number[];
  };
}
