/**
 * Probe: 100-byte messages between two Deno processes (bench part 4's message rate), three
 * rounds after a warm-up.
 *
 *     deno run -A bench/probes/message_rate.ts [count=100000] [default|raised] [root]
 *
 * `default` keeps every default (the flood limit included), `raised` lifts the limit.
 * `root` is the checkout to measure (default: this one).
 *
 * @module
 */
import { startPair } from "./_pair.ts";

const count = Number(Deno.args[0] ?? 100_000);
const joinOptions = Deno.args[1] === "raised" ? { maxFramesPerSecond: 1e9 } : {};
const root = Deno.args[2] ?? new URL("../..", import.meta.url).pathname;
const { p, qId, close } = await startPair(root, joinOptions);
try {
  await p.call("meshMessages", { to: qId, count: 2000, size: 100, window: 256 }, 60_000);
  for (let r = 0; r < 3; r++) {
    const m = await p.call<{ ms: number; refused: number }>(
      "meshMessages",
      { to: qId, count, size: 100, window: 256 },
      120_000,
    );
    console.log(
      `round ${r}: ${Math.round(count / (m.ms / 1000))}/s (${
        m.ms.toFixed(0)
      } ms, refused ${m.refused})`,
    );
  }
} finally {
  await close();
}
