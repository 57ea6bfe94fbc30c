/**
 * Probe: bulk transfers, meshmeet against a raw libwebrtc data channel between the same two
 * Deno processes, as back-to-back pairs (bench part 4's transfers, more repetitions).
 *
 *     deno run -A bench/probes/bulk_pairs.ts [sizesMiB=1,4] [pairs=5] [root]
 *
 * `root` is the checkout to measure (default: this one), so that two versions can be
 * compared in the same minutes. Prints, per size, each pair's times, the ratio of the bests
 * and the median of the paired ratios.
 *
 * @module
 */
import { startPair } from "./_pair.ts";

const sizes = (Deno.args[0] ?? "1,4").split(",").map(Number);
const pairs = Number(Deno.args[1] ?? 5);
const root = Deno.args[2] ?? new URL("../..", import.meta.url).pathname;
const MiB = 1 << 20;
const CHUNK = 256 * 1024;
const { p, q, qId, close } = await startPair(root, { maxMessageBytes: 4 * MiB });
try {
  const offer = await p.call<string>("rawOffer", {});
  const answer = await q.call<string>("rawAnswer", { sdp: offer });
  await p.call("rawAccept", { sdp: answer });
  await Promise.all([p.call("rawWaitOpen", {}), q.call("rawWaitOpen", {})]);
  await p.call("meshSend", { to: qId, totalBytes: MiB, chunkBytes: CHUNK, window: 8 });
  await p.call("rawSend", { totalBytes: MiB, chunkBytes: 64 * 1024 });
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  for (const size of sizes) {
    const mesh: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < pairs; r++) {
      const bytes = size * MiB;
      mesh.push(
        await p.call<number>("meshSend", {
          to: qId,
          totalBytes: bytes,
          chunkBytes: CHUNK,
          window: 8,
        }, 120_000),
      );
      raw.push(
        await p.call<number>("rawSend", { totalBytes: bytes, chunkBytes: 64 * 1024 }, 120_000),
      );
    }
    const mbps = (ms: number) => Math.round(size * MiB * 8 / ms / 1000);
    const paired = median(mesh.map((ms, i) => raw[i] / ms));
    console.log(
      `${size} MiB: meshmeet ms ${mesh.map((x) => x.toFixed(0)).join(" ")} | raw ms ${
        raw.map((x) => x.toFixed(0)).join(" ")
      } | bests ${mbps(Math.min(...mesh))} / ${mbps(Math.min(...raw))} Mbit/s, ratio ${
        (Math.min(...raw) / Math.min(...mesh)).toFixed(2)
      }, median of paired ratios ${paired.toFixed(2)}`,
    );
  }
} finally {
  await close();
}
