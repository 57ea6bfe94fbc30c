/**
 * One sample of the simulated link graph: degrees, isolated members, and the connected
 * components (union-find over the links between live members).
 *
 * @module
 */
import type { GraphSample } from "./metrics_types.ts";
import type { Member } from "./network.ts";

/**
 * Sample the link graph.
 * @param members Every member ever created, by slot.
 * @param live The live members.
 * @param now Virtual time now (ms).
 * @param settledMs Members in the meeting for less than this are young (not counted in the
 *   components: a newcomer is alone until its first link is up).
 * @param degreeHistogram Counts of each degree, added to.
 * @returns The sample.
 */
export function sampleGraph(
  members: readonly Member[],
  live: readonly Member[],
  now: number,
  settledMs: number,
  degreeHistogram: Map<number, number>,
): GraphSample {
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
    degreeHistogram.set(d, (degreeHistogram.get(d) ?? 0) + 1);
    maxNeighbours = Math.max(maxNeighbours, m.node.neighbours().length);
    for (const o of m.links) {
      if (parent[o] < 0) continue; // not live
      const a = find(m.slot), b = find(o);
      if (a !== b) parent[a] = b;
    }
  }
  // Components are counted over settled members (in the meeting for `settledMs`): a
  // newcomer is alone until its first link is up (two round trips), which is not a split.
  const sizes = new Map<number, number>();
  let settled = 0, settledIsolated = 0;
  for (const m of live) {
    if (now - m.startedAt < settledMs) continue;
    settled++;
    if (m.links.size === 0) settledIsolated++;
    const r = find(m.slot);
    sizes.set(r, (sizes.get(r) ?? 0) + 1);
  }
  let largest = 0;
  for (const s of sizes.values()) largest = Math.max(largest, s);
  return {
    t: Math.round(now / 100) / 10,
    live: live.length,
    components: sizes.size,
    largest: settled ? largest / settled : 1,
    isolated: settledIsolated,
    young: live.length - settled,
    youngIsolated: isolated - settledIsolated,
    maxDegree,
    meanDegree: live.length ? Math.round((sumDegree / live.length) * 100) / 100 : 0,
    maxNeighbours,
  };
}
