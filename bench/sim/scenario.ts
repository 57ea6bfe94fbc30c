/**
 * One simulated meeting from start to end, in phases:
 *
 * 1. **build**: members join in waves of `joinRate` per second until there are `members`
 *    (each newcomer gets `entryPoints` random live members, as a DHT lookup would give);
 * 2. **settle** for `settleMs`;
 * 3. **quiet**: `quietMs` without joins, churn or broadcasts: the steady-state control
 *    traffic;
 * 4. **churn**: `churnMs` with `churnPerMinute` of the members replaced per minute (half
 *    leave, half crash, each followed by a newcomer) and a broadcast every
 *    `broadcastEveryMs` from a random member (payload sizes alternate through
 *    `broadcastBytes`);
 * 5. **drain**: `drainMs` without new events, so that the last crashes are detected.
 *
 * The link graph is sampled every `graphEveryMs`; at the end every live member's roster is
 * compared with the true set of live members.
 *
 * @module
 */
import type { PeerId } from "../../src/overlay/types.ts";
import { Metrics, type MetricsResult } from "./metrics.ts";
import {
  type Member,
  Network,
  NETWORK_DEFAULTS,
  type NetworkCounters,
  type NetworkOptions,
  type NodeFactory,
} from "./network.ts";
import { sample } from "./random.ts";

/** What to simulate. */
export interface ScenarioOptions {
  /** Members to build the meeting up to. */
  members: number;
  /** Seed of everything random. */
  seed: number;
  /** Joins per second while building. */
  joinRate: number;
  /**
   * Warm start: this many of the `members` are created at once, each handed the roster of
   * all of them as a snapshot, then given `warmSettleMs` to build their links through the
   * protocol; the rest join in waves of `joinRate`. 0 (the default) builds every member by
   * joining. See `Network.warmStart()`.
   */
  warmMembers: number;
  /** Time for the warm-started members to link up before the join wave (ms). */
  warmSettleMs: number;
  /** Entry points a newcomer gets (random live members). */
  entryPoints: number;
  /** Phase lengths (ms). */
  settleMs: number;
  quietMs: number;
  churnMs: number;
  drainMs: number;
  /** Share of members replaced per minute during the churn phase (0.01 = 1%). */
  churnPerMinute: number;
  /** Broadcast period during the churn phase (ms); 0 for none. */
  broadcastEveryMs: number;
  /** Payload sizes, used in turn. */
  broadcastBytes: number[];
  /** Graph sampling period (ms). */
  graphEveryMs: number;
  /** At the end, check the rosters of at most this many live members (all if fewer). */
  rosterChecks: number;
  /** Stop when the wall clock exceeds this (ms); the result says so. */
  wallBudgetMs: number;
  /** Network model overrides. */
  network: Partial<NetworkOptions>;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

/** Defaults of {@linkcode ScenarioOptions}. */
export const SCENARIO_DEFAULTS: ScenarioOptions = {
  members: 1_000,
  seed: 1,
  joinRate: 100,
  warmMembers: 0,
  warmSettleMs: 30_000,
  entryPoints: 8,
  settleMs: 10_000,
  quietMs: 30_000,
  churnMs: 120_000,
  drainMs: 40_000,
  churnPerMinute: 0.01,
  broadcastEveryMs: 2_000,
  broadcastBytes: [1_024, 16_384],
  graphEveryMs: 5_000,
  rosterChecks: 2_000,
  wallBudgetMs: 3 * 3600_000,
  network: {},
};

/** The outcome of the end-of-run roster check. */
export interface RosterCheck {
  /** Live members whose roster was checked. */
  checked: number;
  /** Of those, how many hold every live member (that joined at least `settledMs` ago). */
  complete: number;
  /** Total missing entries over all checked rosters, and the worst roster. */
  missing: number;
  worstMissing: number;
  /** Crashed or departed members still in some checked roster after the drain. */
  stale: number;
  /** Longest time since a stale member's end (ms). */
  staleOldestMs: number;
}

/** Everything a run produced. */
export interface ScenarioResult {
  options: Omit<ScenarioOptions, "log" | "network"> & {
    network: Omit<NetworkOptions, "messageBytes">;
  };
  /** Wall-clock seconds per phase and in total. */
  wallSeconds: Record<string, number>;
  /** False when the wall budget stopped the run. */
  finished: boolean;
  /** Virtual seconds simulated. */
  virtualSeconds: number;
  /** Peak heap (MiB). */
  heapMiB: number;
  counters: NetworkCounters;
  /** Members at the end, crashed, left. */
  population: { live: number; crashed: number; left: number; spawned: number };
  metrics: MetricsResult;
  roster: RosterCheck;
}

/**
 * Run one scenario.
 *
 * @param factory Builds each member's node (the real `OverlayNode`, or a fake in tests).
 * @param partial Options (defaults: {@linkcode SCENARIO_DEFAULTS}).
 * @param messageBytes Size estimate of a message.
 * @returns The results.
 */
export function runScenario(
  factory: NodeFactory,
  partial: Partial<ScenarioOptions>,
  messageBytes: NetworkOptions["messageBytes"],
): ScenarioResult {
  const o: ScenarioOptions = { ...SCENARIO_DEFAULTS, ...partial };
  const netOptions: NetworkOptions = {
    ...NETWORK_DEFAULTS,
    seed: o.seed,
    ...o.network,
    messageBytes,
  };
  const log = o.log ?? (() => {});
  const net = new Network(factory, netOptions);
  const metrics = new Metrics(net);
  const wallStart = performance.now();
  const wall: Record<string, number> = {};
  let heapPeak = 0;
  let stopped = false;
  const budget = () => {
    if (performance.now() - wallStart > o.wallBudgetMs) stopped = true;
    return !stopped;
  };

  // Periodic samplers: newcomer polls (100 ms), live counts (1 s), the graph.
  let sampling = true;
  const every = (ms: number, fn: () => void) => {
    const loop = () => {
      if (!sampling) return;
      fn();
      net.at(net.now + ms, loop);
    };
    net.at(net.now + ms, loop);
  };
  every(100, () => metrics.poll());
  every(1_000, () => {
    metrics.sampleLive();
    heapPeak = Math.max(heapPeak, heapMiB());
  });
  every(o.graphEveryMs, () => metrics.sampleGraph());

  const entryPointsFor = (): PeerId[] =>
    sample(net.live, o.entryPoints, net.random).map((m) => m.peerId);
  const spawn = (phase: string): Member => {
    const m = net.spawn(entryPointsFor());
    metrics.joined(m, phase);
    return m;
  };
  const phase = (name: string, ms: number, setup: () => void) => {
    if (stopped) return;
    const t0 = performance.now();
    const end = net.now + ms;
    setup();
    const ok = net.run(end, budget);
    wall[name] = Math.round((performance.now() - t0) / 100) / 10;
    log(
      `${name}: ${(ms / 1000).toFixed(0)} virtual s in ${wall[name]} s wall; ` +
        `${net.live.length} live, ${net.counters.events.toLocaleString("en-US")} events, ` +
        `heap ${heapMiB()} MiB${ok ? "" : " (wall budget reached)"}`,
    );
  };

  // 0. warm start (optional)
  const warm = Math.min(o.warmMembers, o.members);
  if (warm > 0) {
    phase("warm", o.warmSettleMs, () => {
      net.warmStart(warm);
      log(`  warm start: ${warm} members created with the full roster`);
    });
  }
  // 1. build
  const joining = o.members - warm;
  const buildMs = Math.ceil((joining / o.joinRate) * 1000);
  phase("build", buildMs, () => {
    let spawned = 0;
    const gap = 1000 / o.joinRate;
    const start = net.now;
    for (let i = 0; i < joining; i++) {
      net.at(start + i * gap, () => {
        spawn("wave");
        spawned++;
        if (spawned % Math.max(1, Math.round(joining / 10)) === 0) {
          log(`  build: ${net.live.length} members at ${(net.now / 1000).toFixed(1)} s`);
        }
      });
    }
  });
  phase("settle", o.settleMs, () => {});
  phase("quiet", o.quietMs, () => metrics.window("steady"));
  metrics.window(null);
  // 4. churn with broadcasts
  phase("churn", o.churnMs, () => {
    metrics.window("churn");
    const start = net.now;
    const perMs = (o.members * o.churnPerMinute) / 60_000;
    if (perMs > 0) {
      const gap = 1 / perMs;
      let k = 0;
      for (let t = gap / 2; t < o.churnMs; t += gap, k++) {
        const crash = k % 2 === 1;
        net.at(start + t, () => {
          const victims = net.live.filter((m) => net.now - m.startedAt > 5_000);
          if (victims.length === 0) return;
          const m = victims[Math.floor(net.random() * victims.length)];
          metrics.ending(m, crash ? "crash" : "leave", "churn");
          if (crash) net.crash(m);
          else net.leave(m);
          spawn("churn");
        });
      }
    }
    if (o.broadcastEveryMs > 0) {
      let k = 0;
      for (let t = o.broadcastEveryMs / 2; t < o.churnMs; t += o.broadcastEveryMs, k++) {
        const bytes = o.broadcastBytes[k % o.broadcastBytes.length];
        net.at(start + t, () => {
          const settled = net.live.filter((m) => net.now - m.startedAt > 5_000);
          if (settled.length === 0) return;
          metrics.broadcast(settled[Math.floor(net.random() * settled.length)], bytes, "churn");
        });
      }
    }
  });
  metrics.window(null);
  phase("drain", o.drainMs, () => {});
  sampling = false;
  metrics.sampleGraph();
  metrics.poll();
  const t0 = performance.now();
  const roster = checkRosters(net, o.rosterChecks, metrics.settledMs);
  wall.check = Math.round((performance.now() - t0) / 100) / 10;
  wall.total = Math.round((performance.now() - wallStart) / 100) / 10;
  const result = metrics.finish(stopped);
  const { messageBytes: _, ...network } = netOptions;
  const { log: _log, network: _n, ...rest } = o;
  return {
    options: { ...rest, network },
    wallSeconds: wall,
    finished: !stopped,
    virtualSeconds: net.now / 1000,
    heapMiB: Math.max(heapPeak, heapMiB()),
    counters: net.counters,
    population: {
      live: net.live.length,
      crashed: net.members.filter((m) => m.state === "crashed").length,
      left: net.members.filter((m) => m.state === "left" || m.state === "leaving").length,
      spawned: net.members.length,
    },
    metrics: result,
    roster,
  };
}

/**
 * Compare live members' rosters with the truth.
 *
 * @param net The network.
 * @param max Check at most this many live members (a deterministic sample).
 * @param settledMs Only members that joined at least this long ago must be known.
 * @returns The outcome.
 */
export function checkRosters(net: Network, max: number, settledMs: number): RosterCheck {
  const live = [...net.live].sort((a, b) => a.slot - b.slot);
  const step = Math.max(1, live.length / max);
  const checked: Member[] = [];
  for (let i = 0; i < live.length && checked.length < max; i += step) {
    checked.push(live[Math.floor(i)]);
  }
  const must = live.filter((m) => net.now - m.startedAt >= settledMs);
  const ended = net.members.filter((m) => !m.running || m.state === "leaving");
  let complete = 0, missing = 0, worstMissing = 0, stale = 0, staleOldestMs = 0;
  for (const c of checked) {
    let miss = 0;
    for (const m of must) if (m !== c && !c.node.has(m.peerId)) miss++;
    if (miss === 0) complete++;
    missing += miss;
    worstMissing = Math.max(worstMissing, miss);
    for (const e of ended) {
      if (c.node.has(e.peerId)) {
        stale++;
        staleOldestMs = Math.max(staleOldestMs, net.now - e.endedAt);
      }
    }
  }
  return { checked: checked.length, complete, missing, worstMissing, stale, staleOldestMs };
}

function heapMiB(): number {
  return Math.round(Deno.memoryUsage().heapUsed / 1048576);
}
