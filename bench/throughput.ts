/**
 * Part 4: throughput and message rate on one connection, meshmeet vs a raw
 * node-datachannel data channel between the same two Deno processes.
 *
 * - meshmeet: `meeting.send()` of 256 KiB messages with 8 in flight (each resolves on the
 *   receiver's acknowledgement), until every one is acknowledged; 100-byte messages with
 *   256 in flight. Measured twice: with the default flood limit (maxFramesPerSecond 2000,
 *   requirement S6) and with the limit raised, to show the transport's own rate.
 * - raw: one SCTP data channel (node-datachannel, same processes), 64 KiB messages with a
 *   4 MiB send buffer, until the receiver reports it has everything.
 *
 * @module
 */
import { type Child, denoWorker, progress, ratio } from "./_util.ts";
import { generateInvitationCode } from "../mod.ts";

/** One transfer size. */
export interface TransferRow {
  bytes: number;
  meshmeetMbps: number;
  rawMbps: number;
  ratio: number | null;
}

/** Result of part 4. */
export interface ThroughputResult {
  transfers: TransferRow[];
  messages: {
    size: number;
    count: number;
    meshmeetDefaultLimit: { msgsPerSec: number; refused: number; count: number };
    meshmeetRaisedLimit: { msgsPerSec: number; refused: number };
    raw: { msgsPerSec: number };
    ratio: number | null;
  };
}

const MiB = 1024 * 1024;
const mbps = (bytes: number, ms: number) => Math.round((bytes * 8) / ms / 1000 * 10) / 10;

/**
 * Run part 4.
 *
 * @param options Transfer sizes (MiB), small-message count, repetitions.
 * @returns Mbit/s and msgs/s, each with its ratio to raw.
 */
export async function runThroughput(
  options: { sizesMiB: number[]; messages: number; repeats: number },
): Promise<ThroughputResult> {
  const part = "4 throughput";
  const children: Child[] = [];
  try {
    const boot = denoWorker("bootstrap", "bootstrap.ts");
    const p = denoWorker("peer-P", "peer.ts");
    const q = denoWorker("peer-Q", "peer.ts");
    children.push(boot, p, q);
    const bootstrap = (await boot.waitEvent("ready")).addresses as string[];
    const code = generateInvitationCode();
    const raised = generateInvitationCode();
    const big = { maxMessageBytes: 4 * MiB };
    progress(part, "two processes join one meeting (default limits) and one with the limit raised");
    await p.call("join", { code, bootstrap, options: big });
    const [qId] = await q.call<string[]>("join", { code, bootstrap, options: big });
    await p.call("join", { code: raised, bootstrap, options: { maxFramesPerSecond: 1e9 } });
    const [qId2] = await q.call<string[]>("join", {
      code: raised,
      bootstrap,
      options: { maxFramesPerSecond: 1e9 },
    });
    await Promise.all([p.call("waitConnected", { each: 1 }), q.call("waitConnected", { each: 1 })]);
    progress(part, "raw data channel between the same processes (SDP handed over directly)");
    const offer = await p.call<string>("rawOffer");
    const answer = await q.call<string>("rawAnswer", { sdp: offer });
    await p.call("rawAccept", { sdp: answer });
    await Promise.all([p.call("rawWaitOpen"), q.call("rawWaitOpen")]);

    progress(part, "warm-up: 1 MiB each way, untimed");
    await p.call("meshSend", { to: qId, totalBytes: MiB, chunkBytes: 256 * 1024, window: 8 });
    await p.call("rawSend", { totalBytes: MiB, chunkBytes: 64 * 1024 });
    const transfers: TransferRow[] = [];
    for (const sizeMiB of options.sizesMiB) {
      const bytes = sizeMiB * MiB;
      const mesh: number[] = [];
      const raw: number[] = [];
      for (let r = 0; r < options.repeats; r++) {
        const budget = 60_000 + sizeMiB * 4000;
        if (r % 2 === 0) {
          mesh.push(
            await p.call<number>("meshSend", {
              to: qId,
              totalBytes: bytes,
              chunkBytes: 256 * 1024,
              window: 8,
            }, budget),
          );
          raw.push(
            await p.call<number>("rawSend", { totalBytes: bytes, chunkBytes: 64 * 1024 }, budget),
          );
        } else {
          raw.push(
            await p.call<number>("rawSend", { totalBytes: bytes, chunkBytes: 64 * 1024 }, budget),
          );
          mesh.push(
            await p.call<number>("meshSend", {
              to: qId,
              totalBytes: bytes,
              chunkBytes: 256 * 1024,
              window: 8,
            }, budget),
          );
        }
      }
      const row = {
        bytes,
        meshmeetMbps: mbps(bytes, Math.min(...mesh)),
        rawMbps: mbps(bytes, Math.min(...raw)),
        ratio: 0 as number | null,
      };
      row.ratio = ratio(row.meshmeetMbps, row.rawMbps);
      transfers.push(row);
      progress(
        part,
        `${sizeMiB} MiB: meshmeet ${row.meshmeetMbps} Mbit/s, raw ${row.rawMbps} Mbit/s (best of ${options.repeats})`,
      );
    }

    const size = 100;
    const count = options.messages;
    const defaultCount = Math.min(count, 4000);
    const d = await p.call<{ ms: number; refused: number }>("meshMessages", {
      to: qId,
      count: defaultCount,
      size,
      window: 256,
    }, 120_000);
    const m = await p.call<{ ms: number; refused: number }>("meshMessages", {
      to: qId2,
      count,
      size,
      window: 256,
      index: 1,
    }, 120_000);
    const rawMs = await p.call<number>("rawMessages", { count, size }, 120_000);
    const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
    const messages = {
      size,
      count,
      meshmeetDefaultLimit: {
        msgsPerSec: rate(defaultCount - d.refused, d.ms),
        refused: d.refused,
        count: defaultCount,
      },
      meshmeetRaisedLimit: { msgsPerSec: rate(count - m.refused, m.ms), refused: m.refused },
      raw: { msgsPerSec: rate(count, rawMs) },
      ratio: null as number | null,
    };
    messages.ratio = ratio(messages.meshmeetRaisedLimit.msgsPerSec, messages.raw.msgsPerSec);
    progress(
      part,
      `${count} x ${size} B: meshmeet ${messages.meshmeetRaisedLimit.msgsPerSec}/s (limit raised), ` +
        `${messages.meshmeetDefaultLimit.msgsPerSec}/s with the default limit ` +
        `(${d.refused}/${defaultCount} refused), raw ${messages.raw.msgsPerSec}/s`,
    );
    await Promise.allSettled([p.call("leaveAll"), q.call("leaveAll")]);
    return { transfers, messages };
  } finally {
    await Promise.allSettled(children.reverse().map((c) => c.close()));
  }
}
