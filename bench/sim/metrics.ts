/**
 * What the simulator measures, event by event, without holding an N × N table: how long a
 * join takes to reach 99% of the members, how long a newcomer needs to hold the complete
 * roster, how broadcasts spread, how long a crashed (or departed) member stays in others'
 * rosters, the degree of every member, the connected components of the link graph, and the
 * traffic by message kind.
 *
 * Every tracker has a cohort: the members that were there when the event happened (a
 * member cannot be expected to know of a newcomer that joined after it); cohort members
 * that crash or leave meanwhile are taken out of both the count and the target.
 *
 * @module
 */
import type { OverlayAction, OverlayMessage } from "../../src/overlay/types.ts";
import type { Member, Network, NetworkObserver } from "./network.ts";
import { Bits, type Stats, stats, thin } from "./stats.ts";

export type { Stats };

/** Time for 99% (and 100%) of a cohort to reach a state, per tracked event. */
interface CohortTrack {
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
interface NewcomerTrack {
  m: Member;
  phase: string;
  t0: number;
  required: Int32Array;
  cursor: number;
}

/** One traffic window. */
interface TrafficWindow {
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

/** Collects everything; plugs into {@linkcode Network} as its observer. */
export class Metrics implements NetworkObserver {
  readonly #net: Network;
  /** How long a tracker waits before it counts as "never" (ms). */
  readonly trackMs: number;
  /** Members must have been in the meeting this long to count for broadcasts (ms). */
  readonly settledMs: number;
  #joins = new Map<number, CohortTrack>();
  #gone = new Map<number, CohortTrack>();
  #broadcasts = new Map<number, CohortTrack & { bytes: number }>();
  #newcomers: NewcomerTrack[] = [];
  /** Finished trackers. */
  readonly joinsDone: CohortTrack[] = [];
  readonly goneDone: (CohortTrack & { kind: "crash" | "leave" })[] = [];
  readonly broadcastsDone: (CohortTrack & { bytes: number })[] = [];
  readonly newcomersDone: { phase: string; ms: number | null }[] = [];
  /** Every broadcast delivery: latency (ms) and hops, per payload size. */
  readonly deliveryMs = new Map<number, number[]>();
  readonly hops: number[] = [];
  /** Members that came back into a roster after being declared gone (false deaths). */
  resurrections = 0;
  /** member:leave events with reason "failed" about members that were running. */
  falseFailures = 0;
  readonly windows: TrafficWindow[] = [];
  #window: TrafficWindow | null = null;
  readonly graph: GraphSample[] = [];
  /** Degree of every live member at every graph sample. */
  readonly degreeHistogram = new Map<number, number>();
  #broadcastSeq = 0;
  #goneKind = new Map<number, "crash" | "leave">();

  /**
   * @param net The network to observe (this sets itself as its observer).
   * @param trackMs Tracking window per event.
   * @param settledMs Broadcast cohort: members in the meeting for at least this long.
   */
  constructor(net: Network, trackMs = 60_000, settledMs = 5_000) {
    this.#net = net;
    this.trackMs = trackMs;
    this.settledMs = settledMs;
    net.observe(this);
  }

  // --- hooks called by the scenario -------------------------------------------------

  /**
   * A member was just spawned: track how fast others see it and how fast it gets the roster.
   * @param m The newcomer.
   * @param phase Label.
   */
  joined(m: Member, phase: string): void {
    const now = this.#net.now;
    if (this.#net.live.length <= 1) return; // the first member: nobody to see it, nothing to learn
    const cohort = new Bits(m.slot + 1);
    const reached = new Bits(m.slot + 1);
    const live = this.#net.live;
    const required = new Int32Array(live.length - 1);
    let k = 0;
    for (const x of live) {
      if (x === m) continue;
      cohort.add(x.slot);
      required[k++] = x.slot;
    }
    this.#joins.set(m.slot, {
      slot: m.slot,
      phase,
      t0: now,
      cohort,
      reached,
      size: k,
      count: 0,
      t99: null,
      t100: null,
      duplicates: 0,
    });
    this.#check(this.#joins.get(m.slot)!, now);
    this.#newcomers.push({ m, phase, t0: now, required, cursor: 0 });
  }

  /**
   * A member is about to crash or leave: track how fast it is gone from others' rosters,
   * and take it out of every cohort.
   * @param m The member.
   * @param kind Crash or leave.
   * @param phase Label.
   */
  ending(m: Member, kind: "crash" | "leave", phase: string): void {
    this.#removeFromCohorts(m);
    const now = this.#net.now;
    const cohort = new Bits(this.#net.members.length);
    let size = 0;
    for (const x of this.#net.live) {
      if (x === m || !x.node.has(m.peerId)) continue;
      cohort.add(x.slot);
      size++;
    }
    this.#goneKind.set(m.slot, kind);
    this.#gone.set(m.slot, {
      slot: m.slot,
      phase,
      t0: now,
      cohort,
      reached: new Bits(this.#net.members.length),
      size,
      count: 0,
      t99: null,
      t100: null,
      duplicates: 0,
    });
    this.#check(this.#gone.get(m.slot)!, now);
  }

  /**
   * Broadcast from `m` and track delivery to every settled member.
   * @param m Origin.
   * @param bytes Payload size (at least 4).
   * @param phase Label.
   */
  broadcast(m: Member, bytes: number, phase: string): void {
    const num = this.#broadcastSeq++;
    const payload = new Uint8Array(Math.max(4, bytes));
    new DataView(payload.buffer).setUint32(0, num, true);
    const now = this.#net.now;
    const cohort = new Bits(this.#net.members.length);
    let size = 0;
    for (const x of this.#net.live) {
      if (x === m || now - x.startedAt < this.settledMs) continue;
      cohort.add(x.slot);
      size++;
    }
    const track = {
      slot: m.slot,
      phase,
      t0: now,
      cohort,
      reached: new Bits(this.#net.members.length),
      size,
      count: 0,
      t99: null,
      t100: null,
      duplicates: 0,
      bytes: payload.byteLength,
    };
    this.#broadcasts.set(num, track);
    this.#check(track, now);
    this.#net.broadcast(m, 1, payload);
  }

  /** Poll newcomers' rosters and expire old trackers (call every ~100 ms of virtual time). */
  poll(): void {
    const now = this.#net.now;
    const members = this.#net.members;
    this.#newcomers = this.#newcomers.filter((t) => {
      if (!t.m.running) return false;
      const node = t.m.node;
      const req = t.required;
      while (t.cursor < req.length) {
        const r = members[req[t.cursor]];
        if (r.state !== "live" || node.has(r.peerId)) t.cursor++;
        else break;
      }
      if (t.cursor === req.length) {
        // Confirm (an entry seen earlier may have been dropped since).
        let ok = true;
        for (let i = 0; i < req.length && ok; i++) {
          const r = members[req[i]];
          ok = r.state !== "live" || node.has(r.peerId);
        }
        if (ok) {
          this.newcomersDone.push({ phase: t.phase, ms: now - t.t0 });
          return false;
        }
        t.cursor = 0;
      }
      if (now - t.t0 > this.trackMs) {
        this.newcomersDone.push({ phase: t.phase, ms: null });
        return false;
      }
      return true;
    });
    for (
      const [key, map, done] of [
        ["join", this.#joins, this.joinsDone],
        ["gone", this.#gone, this.goneDone],
        ["broadcast", this.#broadcasts, this.broadcastsDone],
      ] as const
    ) {
      for (const [k, t] of map as Map<number, CohortTrack>) {
        if (t.t100 !== null || now - t.t0 > this.trackMs) {
          map.delete(k);
          if (key === "gone") {
            (done as (CohortTrack & { kind: string })[]).push({
              ...t,
              kind: this.#goneKind.get(t.slot)!,
            });
          } else (done as CohortTrack[]).push(t);
        }
      }
    }
  }

  /** Trackers still open. */
  get open(): number {
    return this.#joins.size + this.#gone.size + this.#broadcasts.size + this.#newcomers.length;
  }

  /** Sample the link graph (degrees, components). */
  sampleGraph(): void {
    const members = this.#net.members;
    const live = this.#net.live;
    const parent = new Int32Array(members.length).fill(-1);
    for (const m of live) parent[m.slot] = m.slot;
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
      }
      return x;
    };
    let maxDegree = 0, sumDegree = 0, isolated = 0, maxNeighbours = 0;
    for (const m of live) {
      const d = m.links.size;
      maxDegree = Math.max(maxDegree, d);
      sumDegree += d;
      if (d === 0) isolated++;
      this.degreeHistogram.set(d, (this.degreeHistogram.get(d) ?? 0) + 1);
      maxNeighbours = Math.max(maxNeighbours, m.node.neighbours().length);
      for (const o of m.links) {
        if (parent[o] < 0) continue; // not live
        const a = find(m.slot), b = find(o);
        if (a !== b) parent[a] = b;
      }
    }
    // Components are counted over settled members (in the meeting for `settledMs`): a
    // newcomer is alone until its first link is up (two round trips), which is not a split.
    const now = this.#net.now;
    const sizes = new Map<number, number>();
    let settled = 0, settledIsolated = 0;
    for (const m of live) {
      if (now - m.startedAt < this.settledMs) continue;
      settled++;
      if (m.links.size === 0) settledIsolated++;
      const r = find(m.slot);
      sizes.set(r, (sizes.get(r) ?? 0) + 1);
    }
    let largest = 0;
    for (const s of sizes.values()) largest = Math.max(largest, s);
    this.graph.push({
      t: Math.round(this.#net.now / 100) / 10,
      live: live.length,
      components: sizes.size,
      largest: settled ? largest / settled : 1,
      isolated: settledIsolated,
      young: live.length - settled,
      youngIsolated: isolated - settledIsolated,
      maxDegree,
      meanDegree: live.length ? Math.round((sumDegree / live.length) * 100) / 100 : 0,
      maxNeighbours,
    });
  }

  /**
   * Start a traffic window (ends the previous one).
   * @param name Label, or null to only end the current one.
   */
  window(name: string | null): void {
    if (this.#window) {
      this.#window.end = this.#net.now;
      this.windows.push(this.#window);
      this.#window = null;
    }
    if (name) {
      this.#window = {
        name,
        start: this.#net.now,
        end: this.#net.now,
        liveSamples: 0,
        liveSum: 0,
        kinds: new Map(),
      };
    }
  }

  /** Count live members for the window's per-member rates (call every second). */
  sampleLive(): void {
    if (!this.#window) return;
    this.#window.liveSamples++;
    this.#window.liveSum += this.#net.live.length;
  }

  // --- NetworkObserver ----------------------------------------------------------------

  onSend(_from: Member, msg: OverlayMessage, bytes: number): void {
    const w = this.#window;
    if (!w) return;
    const kind = msg.t === "gossip" ? `gossip:${msg.rumor.k}` : msg.t;
    let c = w.kinds.get(kind);
    if (!c) w.kinds.set(kind, c = { msgs: 0, bytes: 0 });
    c.msgs++;
    c.bytes += bytes;
  }

  onObservation(m: Member, action: OverlayAction, now: number): void {
    switch (action.type) {
      case "member:join": {
        const x = this.#net.member(action.entry.peerId);
        if (!x || x === m) return;
        const t = this.#joins.get(x.slot);
        if (t) this.#reach(t, m, now);
        const g = this.#gone.get(x.slot);
        if (g && g.reached.has(m.slot)) this.resurrections++;
        return;
      }
      case "member:leave": {
        const x = this.#net.member(action.peerId);
        if (!x || x === m) return;
        if (action.reason === "failed" && x.running) this.falseFailures++;
        const g = this.#gone.get(x.slot);
        if (g) this.#reach(g, m, now);
        return;
      }
      case "deliver": {
        const p = action.payload;
        if (p.byteLength < 4) return;
        const num = new DataView(p.buffer, p.byteOffset, 4).getUint32(0, true);
        const t = this.#broadcasts.get(num);
        if (!t) return;
        if (m.slot === t.slot) return;
        if (t.reached.has(m.slot)) {
          t.duplicates++;
          return;
        }
        let list = this.deliveryMs.get(t.bytes);
        if (!list) this.deliveryMs.set(t.bytes, list = []);
        list.push(now - t.t0);
        this.hops.push(action.hops);
        this.#reach(t, m, now);
        return;
      }
    }
  }

  // --- internals -------------------------------------------------------------------

  #reach(t: CohortTrack, m: Member, now: number): void {
    if (!t.cohort.has(m.slot) || t.reached.has(m.slot)) return;
    t.reached.add(m.slot);
    t.count++;
    this.#check(t, now);
  }

  #check(t: CohortTrack, now: number): void {
    if (t.t99 === null && t.count >= Math.ceil(0.99 * t.size)) t.t99 = now - t.t0;
    if (t.t100 === null && t.count >= t.size) t.t100 = now - t.t0;
  }

  #removeFromCohorts(m: Member): void {
    const now = this.#net.now;
    for (const map of [this.#joins, this.#gone, this.#broadcasts] as Map<number, CohortTrack>[]) {
      for (const t of map.values()) {
        if (!t.cohort.has(m.slot)) continue;
        t.size--;
        if (t.reached.has(m.slot)) t.count--;
        // Take it out for good, so a later event about it is not counted again.
        t.reached.add(m.slot);
        this.#check(t, now);
      }
    }
  }

  /**
   * Close every tracker (call at the end) and summarize.
   * @param cut Whether the wall-clock budget cut the run short.
   * @returns The results.
   */
  finish(cut = false): MetricsResult {
    this.window(null);
    const now = this.#net.now;
    // Trackers still open: failures when the run ended normally (they had the drain window);
    // left out when the wall-clock budget cut the run short.
    const open = this.open;
    if (!cut) {
      for (const t of this.#newcomers) this.newcomersDone.push({ phase: t.phase, ms: null });
      for (const t of this.#joins.values()) this.joinsDone.push(t);
      for (const t of this.#gone.values()) {
        this.goneDone.push({ ...t, kind: this.#goneKind.get(t.slot)! });
      }
      for (const t of this.#broadcasts.values()) this.broadcastsDone.push(t);
    }
    this.#newcomers = [];
    this.#joins.clear();
    this.#gone.clear();
    this.#broadcasts.clear();
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
    for (const [phase, list] of byPhase(this.newcomersDone)) {
      newcomers[phase] = {
        events: list.length,
        ms: stats(list.map((x) => x.ms ?? NaN)),
        never: list.filter((x) => x.ms === null).length,
      };
    }
    const joins: Record<string, CohortResult> = {};
    for (const [phase, list] of byPhase(this.joinsDone)) joins[phase] = cohort(list);
    const gone: Record<string, CohortResult> = {};
    for (const kind of ["crash", "leave"] as const) {
      const list = this.goneDone.filter((t) => t.kind === kind);
      if (list.length) gone[kind] = cohort(list);
    }
    const broadcasts: MetricsResult["broadcasts"] = [];
    for (
      const size of [...new Set(this.broadcastsDone.map((t) => t.bytes))].sort((a, b) => a - b)
    ) {
      const list = this.broadcastsDone.filter((t) => t.bytes === size);
      const coverage = list.map((t) => (t.size ? t.count / t.size : 1));
      broadcasts.push({
        bytes: size,
        ...cohort(list),
        coverageMin: Math.min(1, ...coverage),
        coverageMean: coverage.reduce((a, b) => a + b, 0) / (coverage.length || 1),
        fullyCovered: list.filter((t) => t.count >= t.size).length,
        duplicates: list.reduce((a, t) => a + t.duplicates, 0),
        latency: stats(this.deliveryMs.get(size) ?? []),
        latencySample: thin(this.deliveryMs.get(size) ?? [], 600),
      });
    }
    const traffic = this.windows.map((w) => {
      const seconds = (w.end - w.start) / 1000;
      const liveAvg = w.liveSamples ? w.liveSum / w.liveSamples : this.#net.live.length;
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
      openAtCut: cut ? open : 0,
      newcomers,
      joins,
      gone,
      broadcasts,
      hops: stats(this.hops),
      traffic,
      graph: this.graph,
      degreeHistogram: Object.fromEntries([...this.degreeHistogram].sort((a, b) => a[0] - b[0])),
      resurrections: this.resurrections,
      falseFailures: this.falseFailures,
      samples: {
        newcomerMs: Object.fromEntries(
          [...byPhase(this.newcomersDone)].map(([phase, list]) => [
            phase,
            thin(list.map((x) => x.ms ?? NaN).filter(Number.isFinite), 600),
          ]),
        ),
        join99Ms: Object.fromEntries(
          [...byPhase(this.joinsDone)].map(([phase, list]) => [
            phase,
            thin(list.map((t) => t.t99 ?? NaN).filter(Number.isFinite), 600),
          ]),
        ),
        crash99Ms: this.goneDone.filter((t) => t.kind === "crash").map((t) => t.t99 ?? NaN)
          .filter(Number.isFinite),
        leave99Ms: this.goneDone.filter((t) => t.kind === "leave").map((t) => t.t99 ?? NaN)
          .filter(Number.isFinite),
      },
    };
  }
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
