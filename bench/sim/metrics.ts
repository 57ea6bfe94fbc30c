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
import type {
  CohortResult,
  CohortTrack,
  GraphSample,
  MetricsResult,
  NewcomerTrack,
  TrafficWindow,
} from "./metrics_types.ts";
import { sampleGraph } from "./graph_sample.ts";
import { summarize } from "./metrics_summary.ts";
import { Bits, type Stats } from "./stats.ts";

export type { CohortResult, GraphSample, MetricsResult, Stats };

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
    this.graph.push(
      sampleGraph(
        this.#net.members,
        this.#net.live,
        this.#net.now,
        this.settledMs,
        this.degreeHistogram,
      ),
    );
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
    return summarize(this, now, this.#net.live.length, cut ? open : 0);
  }
}
