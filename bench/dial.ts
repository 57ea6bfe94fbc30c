/**
 * Part 3: connection time and first-dial success between fresh peers.
 *
 * Every round is a new meeting of two fresh Deno peers joining at once; the lower peer id
 * dials. The dial time is the dialer's `connectedAt - discoveredAt` (what the README
 * reports): relay connection, signaling, ICE, DTLS, SCTP and the membership handshake.
 * First-dial success: the dialer needed one attempt, no failure, and under 3 s.
 *
 * Also: the share connected within 300 ms, and raw libwebrtc pairs in one process (the
 * limit, `workers/raw_wrtc.ts`).
 *
 * Every RTCPeerConnection is traced (workers/_pc_trace.ts) to split each dial into phases
 * and to locate the slow mode. A second probe runs raw node-datachannel pairs with
 * libdatachannel's verbose log on, and classifies each round: did the DTLS ClientHello
 * arrive before the server's DTLS transport existed (it is then replayed inside
 * DtlsTransport::start()), did the server answer the replay, and did the handshake wait for
 * the client's DTLS retransmission (OpenSSL's initial timer is 1 s)?
 *
 * @module
 */
import { denoWorker, progress, summarize, type Summary } from "./_util.ts";
import type { Child } from "./_util.ts";
import type { PairRoundResult } from "./workers/_pair_round.ts";
import type { PcTrace } from "./workers/_pc_trace.ts";
import { dialOf } from "./join.ts";

/** One dial. */
export interface Dial {
  ok: boolean;
  dialMs: number;
  firstAttempt: boolean;
  attempts: number;
  pair: string;
  phases?: Record<string, number>;
  answererIceFirst?: boolean;
  slowDtls?: boolean;
  error?: string;
}

/** Result of part 3. */
export interface DialResult {
  dials: Dial[];
  n: number;
  firstAttemptWithin3s: number;
  /** Share of all dials connected (first attempt) within 300 ms (issue 10: >= 99%). */
  within300ms: number;
  /** Raw libwebrtc pairs in one process (the limit): time to first echo. */
  rawLibwebrtc: { rounds: number; failures: number; within300ms: number; ms: Summary };
  successRate: number;
  dialMs: Summary;
  fastMode: Summary;
  slowMode: Summary;
  slowShare: number;
  phases: Record<string, Summary>;
  slowPhases: Record<string, Summary>;
  answererIceFirstShare: number;
  pairs: Record<string, number>;
  probe: {
    rounds: number;
    crashedChunks: number;
    /** Share of raw node-datachannel rounds with the first echo within 300 ms. */
    within300ms: number;
    slow: number;
    slowWithUnansweredReplay: number;
    replayed: number;
    replayedAnswered: number;
    fastMs: Summary;
    slowMs: Summary;
  };
}

const PHASES = [
  "to offer (relay dial, membership handshake, signaling stream)",
  "offer -> answer applied",
  "answer -> ICE connected",
  // libwebrtc reports connectionState "connected" (DTLS up) about when ICE connects; the
  // difference can be slightly negative (event order), SCTP comes in the next phase.
  "ICE connected -> DTLS up",
  "DTLS up -> link ready (SCTP, data channel open)",
];

function phasesOf(discoveredAt: number, connectedAt: number, traces: PcTrace[]) {
  // The successful offerer (the dialer's peer connection) and its answerer.
  const offerer = traces.filter((t) => t.role === "offerer" && t.connectedAt).pop();
  const answerer = traces.filter((t) => t.role === "answerer" && t.connectedAt).pop();
  if (!offerer || !offerer.remoteSetAt || !offerer.iceConnectedAt || !offerer.connectedAt) {
    return undefined;
  }
  const iceUp = Math.max(offerer.iceConnectedAt, answerer?.iceConnectedAt ?? 0);
  return {
    phases: {
      [PHASES[0]]: offerer.firstSeen - discoveredAt,
      [PHASES[1]]: offerer.remoteSetAt - offerer.firstSeen,
      [PHASES[2]]: iceUp - offerer.remoteSetAt,
      [PHASES[3]]: offerer.connectedAt - iceUp,
      [PHASES[4]]: connectedAt - offerer.connectedAt,
    },
    answererIceFirst: answerer?.iceConnectedAt !== undefined &&
      answerer.iceConnectedAt < offerer.iceConnectedAt,
    slowDtls: offerer.connectedAt - iceUp > 500,
  };
}

/**
 * Run part 3.
 *
 * @param options Number of dials and of probe rounds.
 * @returns Histogram data, success rate, phases, and the probe's classification.
 */
export async function runDial(
  options: { dials: number; probeRounds: number },
): Promise<DialResult> {
  const part = "3 dial";
  const children: Child[] = [];
  const dials: Dial[] = [];
  const probe: Array<
    { ms: number; replayed: boolean; retransmitted: boolean; serverAnsweredReplay: boolean }
  > = [];
  try {
    const boot = denoWorker("bootstrap", "bootstrap.ts");
    const pair = denoWorker("pair", "pair.ts");
    children.push(boot, pair);
    const bootstrap = (await boot.waitEvent("ready")).addresses as string[];
    await pair.call("round", { bootstrap, mode: "together" }, 60_000).catch(() => {});
    for (let i = 0; i < options.dials; i++) {
      const r = await pair.call<PairRoundResult & { traces: PcTrace[] }>(
        "round",
        { bootstrap, mode: "together", timeoutMs: 20_000 },
        60_000,
      ).catch((
        err,
      ) => ({ ok: false, error: (err as Error).message } as unknown as PairRoundResult & {
        traces: PcTrace[];
      }));
      if (!r.ok || !r.a) {
        dials.push({
          ok: false,
          dialMs: NaN,
          firstAttempt: false,
          attempts: 0,
          pair: "?",
          error: r.error,
        });
      } else {
        const d = dialOf(r);
        const ph = phasesOf(d.discoveredAt, d.connectedAt, r.traces ?? []);
        dials.push({
          ok: Number.isFinite(d.dialMs),
          dialMs: d.dialMs,
          attempts: d.attempts,
          firstAttempt: d.attempts <= 1 && d.failures === 0 && d.dialMs < 3000,
          pair: d.pair,
          ...ph,
        });
      }
      const last = dials[dials.length - 1];
      if ((i + 1) % 5 === 0 || i === options.dials - 1) {
        const ok = dials.filter((x) => x.firstAttempt).length;
        progress(
          part,
          `${i + 1}/${options.dials} dials; last ${
            last.ok ? last.dialMs.toFixed(0) + " ms" : "FAILED"
          }; ` +
            `first-attempt success so far ${ok}/${dials.length}, within 300 ms ${
              dials.filter((x) => x.firstAttempt && x.dialMs <= 300).length
            }`,
        );
      }
    }
  } finally {
    await Promise.allSettled(children.reverse().map((c) => c.close()));
  }
  // The probe runs in chunks, each in a fresh process: node-datachannel's verbose logger
  // has crashed a process now and then; a crash then costs one chunk, not the part.
  progress(
    part,
    `raw node-datachannel probe with libdatachannel's log: ${options.probeRounds} rounds`,
  );
  let probeCrashes = 0;
  for (let done = 0; done < options.probeRounds; done += 10) {
    const chunk = Math.min(10, options.probeRounds - done);
    const w = denoWorker("dtls-probe", "raw.ts");
    try {
      probe.push(...await w.call<typeof probe>("dtlsProbe", { rounds: chunk }, 60_000));
    } catch (err) {
      probeCrashes++;
      progress(part, `probe chunk failed: ${(err as Error).message.split("\n")[0]}`);
    } finally {
      await w.close();
    }
  }

  progress(part, `raw libwebrtc pairs (the limit): ${options.dials} rounds`);
  const rawMs: number[] = [];
  let rawFailures = 0;
  const rw = denoWorker("raw-libwebrtc", "raw_wrtc.ts");
  try {
    await rw.call("round", {}, 20_000).catch(() => {}); // warm-up
    for (let i = 0; i < options.dials; i++) {
      try {
        rawMs.push((await rw.call<{ ms: number }>("round", {}, 20_000)).ms);
      } catch {
        rawFailures++;
      }
    }
  } finally {
    await rw.close();
  }
  const rawLibwebrtc = {
    rounds: options.dials,
    failures: rawFailures,
    within300ms: rawMs.filter((ms) => ms <= 300).length / Math.max(1, options.dials),
    ms: summarize(rawMs),
  };
  progress(
    part,
    `raw libwebrtc: p50 ${rawLibwebrtc.ms.p50?.toFixed(0)} ms, within 300 ms ${
      (rawLibwebrtc.within300ms * 100).toFixed(0)
    }%`,
  );

  const ok = dials.filter((d) => d.ok);
  const withPhases = ok.filter((d) => d.phases);
  const slow = withPhases.filter((d) => d.slowDtls);
  const fast = withPhases.filter((d) => !d.slowDtls);
  const phaseSummary = (list: Dial[]) =>
    Object.fromEntries(PHASES.map((p) => [p, summarize(list.map((d) => d.phases![p]))]));
  const pairs: Record<string, number> = {};
  for (const d of ok) pairs[d.pair] = (pairs[d.pair] ?? 0) + 1;
  const probeSlow = probe.filter((p) => p.ms > 500);
  return {
    dials,
    n: dials.length,
    firstAttemptWithin3s: dials.filter((d) => d.firstAttempt).length / Math.max(1, dials.length),
    within300ms: dials.filter((d) => d.firstAttempt && d.dialMs <= 300).length /
      Math.max(1, dials.length),
    rawLibwebrtc,
    successRate: ok.length / Math.max(1, dials.length),
    dialMs: summarize(ok.map((d) => d.dialMs)),
    fastMode: summarize(fast.map((d) => d.dialMs)),
    slowMode: summarize(slow.map((d) => d.dialMs)),
    slowShare: slow.length / Math.max(1, withPhases.length),
    phases: phaseSummary(withPhases),
    slowPhases: phaseSummary(slow),
    answererIceFirstShare: withPhases.filter((d) => d.answererIceFirst).length /
      Math.max(1, withPhases.length),
    pairs,
    probe: {
      rounds: probe.length,
      within300ms: probe.filter((p) => p.ms <= 300).length / Math.max(1, probe.length),
      crashedChunks: probeCrashes,
      slow: probeSlow.length,
      slowWithUnansweredReplay:
        probeSlow.filter((p) => p.replayed && !p.serverAnsweredReplay && p.retransmitted).length,
      replayed: probe.filter((p) => p.replayed).length,
      replayedAnswered: probe.filter((p) => p.replayed && p.serverAnsweredReplay).length,
      fastMs: summarize(probe.filter((p) => p.ms <= 500).map((p) => p.ms)),
      slowMs: summarize(probeSlow.map((p) => p.ms)),
    },
  };
}
