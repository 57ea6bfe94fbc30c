/**
 * Part 1: join -> first acknowledged message between two peers on loopback.
 *
 * Each implementation runs in its own long-lived worker process, next to its own servers
 * in another process, and the rounds are interleaved (the order rotates every round) so
 * that the machine's noise hits all of them alike:
 * - meshmeet (Deno, and Node from the npm build when it exists): A joins; then B joins and
 *   sends A one message as soon as A is its participant; timed from B's join start to the
 *   acknowledgement. A bootstrap/relay node runs in its own process.
 * - hyperswarm on a 3-node @hyperswarm/testnet (its own Node process): A joins as server
 *   and flushes; B joins as client, writes one byte on the connection, A echoes it; timed
 *   from creating B's DHT node to the echo.
 * - the same two, each with A and B in two processes of their own (as two people's machines
 *   would have them; in one process both peers share one JavaScript thread, which on this
 *   2-core VM serialises what two machines do at once): rows "…, 2 processes".
 * - the libwebrtc limit: two raw `@roamhq/wrtc` RTCPeerConnections (what meshmeet uses on
 *   Deno/Node) in one process, SDP and candidates handed over directly (no DHT, no relay);
 *   timed from creating them to the first message echoed back. The same with raw
 *   node-datachannel (meshmeet's WebRTC before issue 10) as a second limit row.
 *
 * @module
 */
import { Child, denoWorker, progress, ratio, summarize, type Summary } from "./_util.ts";
import { nodeBuild } from "./_node_build.ts";
import { BENCH_DIR, ROOT } from "./_util.ts";
import type { PairRoundResult } from "./workers/_pair_round.ts";
import type { PcTrace } from "./workers/_pc_trace.ts";

/** Name of the libwebrtc limit row (two raw `@roamhq/wrtc` peer connections). */
export const LIMIT = "libwebrtc limit (raw)";
/** Name of the node-datachannel limit row. */
export const NDC_LIMIT = "node-datachannel limit (raw)";

/** Step names of a meshmeet join, in order, with what they mean. */
export const JOIN_STEPS: [string, string][] = [
  ["kdfMs", "KDF (PBKDF2, overlaps node start + bootstrap)"],
  ["nodeStartMs", "key + libp2p node start"],
  ["bootstrapMs", "bootstrap dial"],
  ["stunMs", "STUN / ICE servers (overlaps reservation)"],
  ["reservationMs", "relay reservation"],
  ["announceMs", "announce (put + provide; overlaps the first lookup)"],
  ["firstLookupMs", "first lookup (find + get)"],
  ["connectMs", "knock/dial + WebRTC + handshake"],
  ["ackMs", "first message acknowledged"],
];

/** The sequential steps (the others overlap them). */
const SEQUENTIAL = [
  "nodeStartMs",
  "bootstrapMs",
  "reservationMs",
  "announceMs",
  "firstLookupMs",
  "connectMs",
  "ackMs",
];

/** Result of part 1. */
export interface JoinResult {
  rounds: number;
  impls: Record<string, {
    status: string;
    newcomerMs: number[];
    pairTotalMs: number[];
    failures: string[];
    summary?: Summary;
    pairSummary?: Summary;
  }>;
  /** Per meshmeet runtime: step name -> summary. */
  meshmeetSteps: Record<string, Record<string, Summary>>;
  /** Per meshmeet runtime: the sequential step with the largest median. */
  slowestStep: Record<string, string>;
  dialers: Record<string, number>;
  ratios: Record<string, number | null>;
}

/** A row's short name in progress lines. */
function short(name: string): string {
  return name.split(/[ ,]/)[0] + (name.endsWith("2 processes") ? "×2" : "");
}

/** The workers' operations of a round with A and B in two processes. */
const MESHMEET_TWO = { join: "memberJoin", round: "newcomer", leave: "memberLeave" };
const HYPERSWARM_TWO = { join: "serverJoin", round: "clientRound", leave: "serverLeave" };

/** Split one meshmeet round into its steps (ms). */
export function stepsOf(r: PairRoundResult): Record<string, number> {
  const t = r.b.joinTimings;
  const other = r.b.other;
  // Announce and the first lookup run at once (since 2026-11-21; before, one after the other).
  const seq = (t.bootstrapMs ?? 0) + (t.reservationMs ?? 0) +
    Math.max(t.announceMs ?? 0, t.firstLookupMs ?? 0);
  const joinTotal = t.totalMs ?? (r.b.joinEnd - r.b.joinStart);
  const connectMs = other ? other.connectedAt - other.discoveredAt : NaN;
  return {
    kdfMs: t.kdfMs,
    nodeStartMs: Math.max(0, joinTotal - seq),
    bootstrapMs: t.bootstrapMs,
    stunMs: t.stunMs ?? NaN,
    reservationMs: t.reservationMs,
    announceMs: t.announceMs,
    firstLookupMs: t.firstLookupMs,
    discoveredMs: other ? other.discoveredAt - r.b.joinStart : NaN,
    connectMs,
    ackMs: r.ackMs ?? NaN,
    joinTotalMs: joinTotal,
  };
}

/** The dialer's connection time of a round (ms) and its traces, for part 3. */
export function dialOf(r: PairRoundResult & { traces?: PcTrace[] }) {
  // The lower peer id dials; its participant entry of the other side is "outbound".
  const bDialed = r.b.other?.direction === "outbound";
  const dialer = bDialed ? r.b : r.a;
  const other = dialer.other;
  return {
    dialer: bDialed ? "newcomer" : "existing member (after a knock)",
    dialMs: other ? other.connectedAt - other.discoveredAt : NaN,
    attempts: dialer.dialAttempts,
    failures: dialer.dialFailures,
    pair: other?.selectedCandidatePair
      ? `${other.selectedCandidatePair.local.type}/${other.selectedCandidatePair.remote.type}`
      : "?",
    discoveredAt: other?.discoveredAt ?? NaN,
    connectedAt: other?.connectedAt ?? NaN,
  };
}

/**
 * Run part 1.
 *
 * @param options Number of rounds.
 * @returns Samples, summaries, steps and ratios.
 */
export async function runJoin(options: { rounds: number }): Promise<JoinResult> {
  const part = "1 join";
  const children: Child[] = [];
  const result: JoinResult = {
    rounds: options.rounds,
    impls: {},
    meshmeetSteps: {},
    slowestStep: {},
    dialers: {},
    ratios: {},
  };
  const stepSamples: Record<string, Record<string, number[]>> = {};
  try {
    progress(part, "starting servers: meshmeet bootstrap (Deno), hyperswarm testnet (Node)");
    const boot = denoWorker("bootstrap", "bootstrap.ts");
    const testnet = new Child({
      name: "testnet",
      cmd: "node",
      args: [`${BENCH_DIR}workers/hyperswarm.mjs`, "testnet"],
      cwd: ROOT,
    });
    children.push(boot, testnet);
    const bootstrap = (await boot.waitEvent("ready")).addresses as string[];
    const hsBootstrap = (await testnet.waitEvent("ready")).bootstrap;

    type Round = { ok: boolean; error?: string; newcomerMs?: number; pairTotalMs?: number };
    const impls: { name: string; run: () => Promise<Round> }[] = [];
    /** A round in one worker. */
    const inOne = (child: Child, args: unknown, timeoutMs: number) => () =>
      child.call<Round>("round", args, timeoutMs);
    /** A member waiting in `member`, the newcomer's round in `newcomer` (another process). */
    const inTwo = (
      member: Child,
      newcomer: Child,
      ops: { join: string; round: string; leave: string },
      servers: unknown,
    ) =>
    async () => {
      const joined = await member.call<Record<string, string>>(
        ops.join,
        { bootstrap: servers },
        30_000,
      );
      let r: Round & Partial<PairRoundResult>;
      try {
        r = await newcomer.call(ops.round, { bootstrap: servers, ...joined }, 60_000);
      } catch (err) {
        await member.call(ops.leave, {}, 30_000).catch(() => {});
        throw err;
      }
      const a = await member.call<PairRoundResult["a"] | null>(
        ops.leave,
        { other: r.b?.peerId },
        30_000,
      );
      return a && r.b ? { ...r, a } : r;
    };
    const pair = denoWorker("meshmeet-deno", "pair.ts");
    const pairMember = denoWorker("meshmeet-deno-member", "pair.ts");
    children.push(pair, pairMember);
    impls.push({ name: "meshmeet (Deno)", run: inOne(pair, { bootstrap }, 60_000) });
    impls.push({
      name: "meshmeet (Deno), 2 processes",
      run: inTwo(pairMember, pair, MESHMEET_TWO, bootstrap),
    });
    const node = await nodeBuild();
    if (typeof node === "string") {
      result.impls["meshmeet (Node)"] = {
        status: node,
        newcomerMs: [],
        pairTotalMs: [],
        failures: [],
      };
      progress(part, `meshmeet on Node: ${node}`);
    } else {
      const nodePair = (name: string) =>
        new Child({
          name,
          cmd: node.node,
          args: [`${BENCH_DIR}workers/pair_node.mjs`, node.entry],
          cwd: ROOT,
        });
      const pn = nodePair("meshmeet-node");
      const pnMember = nodePair("meshmeet-node-member");
      children.push(pn, pnMember);
      impls.push({ name: "meshmeet (Node)", run: inOne(pn, { bootstrap }, 60_000) });
      impls.push({
        name: "meshmeet (Node), 2 processes",
        run: inTwo(pnMember, pn, MESHMEET_TWO, bootstrap),
      });
    }
    const hsWorker = (name: string) =>
      new Child({
        name,
        cmd: "node",
        args: [`${BENCH_DIR}workers/hyperswarm.mjs`],
        cwd: ROOT,
      });
    const hs = hsWorker("hyperswarm");
    const hsServer = hsWorker("hyperswarm-server");
    children.push(hs, hsServer);
    impls.push({ name: "hyperswarm", run: inOne(hs, { bootstrap: hsBootstrap }, 30_000) });
    impls.push({
      name: "hyperswarm, 2 processes",
      run: inTwo(hsServer, hs, HYPERSWARM_TWO, hsBootstrap),
    });
    const rawWrtc = denoWorker("raw-libwebrtc", "raw_wrtc.ts");
    const raw = denoWorker("raw-ndc", "raw.ts");
    children.push(rawWrtc, raw);
    impls.push({ name: LIMIT, run: inOne(rawWrtc, {}, 20_000) });
    impls.push({ name: NDC_LIMIT, run: inOne(raw, {}, 20_000) });

    for (const impl of impls) {
      result.impls[impl.name] ??= {
        status: "ok",
        newcomerMs: [],
        pairTotalMs: [],
        failures: [],
      };
      progress(part, `warm-up round: ${impl.name}`);
      await impl.run().catch((err) => {
        progress(part, `warm-up of ${impl.name} failed: ${(err as Error).message.split("\n")[0]}`);
      });
    }

    for (let i = 0; i < options.rounds; i++) {
      const order = impls.map((_, k) => impls[(k + i) % impls.length]);
      const line: string[] = [];
      for (const impl of order) {
        const slot = result.impls[impl.name];
        try {
          const r: Round & { ms?: number } = await impl.run();
          if (!r.ok) throw new Error(r.error ?? "failed");
          const ms = r.newcomerMs ?? r.ms!;
          slot.newcomerMs.push(ms);
          slot.pairTotalMs.push(r.pairTotalMs ?? ms);
          line.push(`${short(impl.name)} ${ms.toFixed(0)}`);
          if (impl.name.startsWith("meshmeet")) {
            const pr = r as unknown as PairRoundResult;
            const samples = stepSamples[impl.name] ??= {};
            for (const [k, v] of Object.entries(stepsOf(pr))) (samples[k] ??= []).push(v);
            const d = `${impl.name}: ${dialOf(pr).dialer}`;
            result.dialers[d] = (result.dialers[d] ?? 0) + 1;
          }
        } catch (err) {
          slot.failures.push((err as Error).message.split("\n")[0]);
          line.push(`${short(impl.name)} FAIL`);
        }
      }
      progress(part, `round ${i + 1}/${options.rounds}: ${line.join(", ")} ms`);
    }
  } finally {
    await Promise.allSettled(children.reverse().map((c) => c.close()));
  }

  for (const slot of Object.values(result.impls)) {
    if (slot.newcomerMs.length) {
      slot.summary = summarize(slot.newcomerMs);
      slot.pairSummary = summarize(slot.pairTotalMs);
    } else if (slot.status === "ok") slot.status = "failed";
  }
  for (const [impl, samples] of Object.entries(stepSamples)) {
    const steps: Record<string, Summary> = {};
    for (const [k, v] of Object.entries(samples)) steps[k] = summarize(v);
    result.meshmeetSteps[impl] = steps;
    const seq = SEQUENTIAL.map((k) => [k, steps[k]?.p50 ?? NaN] as const)
      .filter(([, v]) => Number.isFinite(v));
    if (seq.length) result.slowestStep[impl] = seq.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  }
  const s = (name: string) => result.impls[name]?.summary;
  const m = s("meshmeet (Deno)");
  const mn = s("meshmeet (Node)");
  const hs = s("hyperswarm");
  const m2 = s("meshmeet (Deno), 2 processes");
  const mn2 = s("meshmeet (Node), 2 processes");
  const hs2 = s("hyperswarm, 2 processes");
  const lim = s(LIMIT);
  const ndc = s(NDC_LIMIT);
  result.ratios = {
    "meshmeet(Deno)/libwebrtc limit p50": ratio(m?.p50, lim?.p50),
    "meshmeet(Deno)/libwebrtc limit p95": ratio(m?.p95, lim?.p95),
    "meshmeet(Node)/libwebrtc limit p50": ratio(mn?.p50, lim?.p50),
    "meshmeet(Node)/libwebrtc limit p95": ratio(mn?.p95, lim?.p95),
    "meshmeet(Deno)/hyperswarm p50": ratio(m?.p50, hs?.p50),
    "meshmeet(Deno)/hyperswarm p95": ratio(m?.p95, hs?.p95),
    "meshmeet(Node)/hyperswarm p50": ratio(mn?.p50, hs?.p50),
    "meshmeet(Node)/hyperswarm p95": ratio(mn?.p95, hs?.p95),
    "meshmeet(Node)/meshmeet(Deno) p50": ratio(mn?.p50, m?.p50),
    "node-datachannel limit/libwebrtc limit p50": ratio(ndc?.p50, lim?.p50),
    "meshmeet(Deno, 2 processes)/libwebrtc limit p50": ratio(m2?.p50, lim?.p50),
    "meshmeet(Node, 2 processes)/libwebrtc limit p50": ratio(mn2?.p50, lim?.p50),
    "meshmeet(Deno, 2 processes)/hyperswarm(2 processes) p50": ratio(m2?.p50, hs2?.p50),
    "meshmeet(Deno, 2 processes)/hyperswarm(2 processes) p95": ratio(m2?.p95, hs2?.p95),
    "meshmeet(Node, 2 processes)/hyperswarm(2 processes) p50": ratio(mn2?.p50, hs2?.p50),
    "meshmeet(Node, 2 processes)/hyperswarm(2 processes) p95": ratio(mn2?.p95, hs2?.p95),
    "meshmeet(Deno, 2 processes)/meshmeet(Deno) p50": ratio(m2?.p50, m?.p50),
  };
  return result;
}
