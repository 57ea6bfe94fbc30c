/**
 * Measures every NAT lab scenario several times: path, candidate pair and time from
 * discovery to connected (median). Not a test: a script for the numbers in README.md.
 *
 *     sudo deno run -A tests/natlab/measure.ts [--runs 5] [--json]
 */
import {
  bothJoined,
  exchange,
  pairOf,
  type ScenarioOptions,
  startScenario,
  stopScenario,
} from "./_scenario.ts";

const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 5) || 5;
const scenarios: Array<[string, ScenarioOptions]> = [
  ["two hosts on one LAN", {
    homes: [{ name: "a", nat: "cone", hosts: 2 }],
    turn: true,
    peers: ["a1", "a2"],
  }],
  ["cone / cone", {
    homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }],
    turn: true,
    peers: ["a1", "b1"],
  }],
  ["symmetric / full cone", {
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "fullcone" }],
    turn: false,
    peers: ["a1", "b1"],
  }],
  ["symmetric / cone, TURN", {
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "cone" }],
    turn: true,
    peers: ["a1", "b1"],
  }],
  ["symmetric / symmetric, TURN", {
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "symmetric" }],
    turn: true,
    peers: ["a1", "b1"],
  }],
  ["symmetric / symmetric, no TURN", {
    homes: [{ name: "a", nat: "symmetric" }, { name: "b", nat: "symmetric" }],
    turn: false,
    peers: ["a1", "b1"],
  }],
  ["IPv6 hosts", {
    homes: [{ name: "a", nat: "none" }, { name: "b", nat: "none" }],
    turn: false,
    ipv6: true,
    bindIpv6: true,
    peers: ["a1", "b1"],
  }],
];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows: Array<Record<string, unknown>> = [];
for (const [name, options] of scenarios) {
  const times: number[] = [];
  const paths = new Set<string>();
  const pairs = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const s = await startScenario(options);
    try {
      const joins = await bothJoined(s, 60_000);
      await exchange(s, `run ${i}`);
      for (const j of joins) {
        paths.add(String(j.path));
        pairs.add(pairOf(j));
      }
      // The dialer's view: discovery to connected.
      const dialer = joins.find((j) => j.direction === "outbound") ?? joins[0];
      times.push((dialer.connectedAt as number) - (dialer.discoveredAt as number));
    } finally {
      await stopScenario(s);
    }
    console.error(`${name}: run ${i + 1}/${runs}: ${times.at(-1)} ms`);
  }
  rows.push({
    scenario: name,
    path: [...paths].join(","),
    pairs: [...pairs].join(" "),
    medianMs: median(times),
    times,
  });
}
if (Deno.args.includes("--json")) console.log(JSON.stringify(rows));
console.log(
  "| scenario | path | candidate pairs seen | discovery → connected, median of " + runs + " (ms) |",
);
console.log("|---|---|---|---|");
for (const r of rows) console.log(`| ${r.scenario} | ${r.path} | ${r.pairs} | ${r.medianMs} |`);
