/**
 * Part 2: the same newcomer round in browsers. Two Chromium pages join one meeting with
 * meshmeet (the browser bundle of the npm build, `npm/browser/meshmeet.js`, and a
 * bootstrap node over ws://) vs two pages joining one trystero room through a self-hosted
 * WebSocket BitTorrent tracker (bittorrent-tracker), all on loopback in a network
 * namespace; rounds interleaved.
 *
 * @module
 */
import {
  BENCH_DIR,
  denoWorker,
  netnsAvailable,
  progress,
  ratio,
  ROOT,
  summarize,
} from "./_util.ts";
import type { Summary } from "./_util.ts";
import { CHROMIUM_PATH } from "../tests/browser/_chromium.ts";

/** Result of part 2. */
export interface BrowserResult {
  status: string;
  chromium?: string;
  rounds: number;
  impls: Record<string, { status: string; ms: number[]; failures: string[]; summary?: Summary }>;
  meshmeetSteps?: Record<string, Summary>;
  ratio: number | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Run part 2.
 *
 * @param options Rounds.
 * @returns Samples and the ratio meshmeet/trystero (p50).
 */
export async function runBrowser(options: { rounds: number }): Promise<BrowserResult> {
  const part = "2 browser";
  const result: BrowserResult = {
    status: "ok",
    rounds: options.rounds,
    impls: {
      "meshmeet (Chromium)": { status: "ok", ms: [], failures: [] },
      "trystero (Chromium)": { status: "ok", ms: [], failures: [] },
    },
    ratio: null,
  };
  if (!(await exists(CHROMIUM_PATH))) {
    result.status = "skipped: /usr/bin/chromium is missing (apt-get install -y chromium)";
    return result;
  }
  const trysteroBundle = `${BENCH_DIR}.cache/trystero.js`;
  progress(part, "bundling the trystero page (deno bundle)");
  await Deno.mkdir(`${BENCH_DIR}.cache`, { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "-o",
      trysteroBundle,
      `${BENCH_DIR}browser/trystero_page.ts`,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!bundled.success) {
    result.status = `failed: deno bundle: ${new TextDecoder().decode(bundled.stderr).slice(-500)}`;
    return result;
  }
  const meshmeetBundle = `${ROOT}npm/browser/meshmeet.js`;
  const haveMeshmeet = await exists(meshmeetBundle);
  if (!haveMeshmeet) {
    result.impls["meshmeet (Chromium)"].status =
      "pending: no browser bundle at npm/browser/meshmeet.js (run `deno task build:npm`)";
  }
  const netns = await netnsAvailable();
  const worker = denoWorker("browser", "browser.ts", [], { netns });
  const steps: Record<string, number[]> = {};
  try {
    const started = await worker.call<{ chromium: string }>("start", {
      trystero: trysteroBundle,
      meshmeet: haveMeshmeet ? meshmeetBundle : undefined,
    }, 60_000);
    result.chromium = started.chromium;
    progress(part, `Chromium ${started.chromium} ${netns ? "in a loopback-only namespace" : ""}`);
    const kinds: ("meshmeet" | "trystero")[] = haveMeshmeet
      ? ["meshmeet", "trystero"]
      : ["trystero"];
    for (const kind of kinds) {
      progress(part, `warm-up round: ${kind}`);
      await worker.call("round", { kind }, 60_000).catch((err) =>
        progress(part, `warm-up ${kind} failed: ${(err as Error).message.split("\n")[0]}`)
      );
    }
    for (let i = 0; i < options.rounds; i++) {
      const order = i % 2 === 0 ? kinds : [...kinds].reverse();
      const line: string[] = [];
      for (const kind of order) {
        const slot = result.impls[`${kind} (Chromium)`];
        try {
          const r = await worker.call<
            { ok: boolean; ms: number; timings?: Record<string, number>; seenMs?: number }
          >("round", { kind }, 60_000);
          slot.ms.push(r.ms);
          line.push(`${kind} ${r.ms.toFixed(0)}`);
          if (r.timings) {
            for (const [k, v] of Object.entries(r.timings)) (steps[k] ??= []).push(v);
            (steps["connectedMs (join start to A)"] ??= []).push(r.seenMs ?? NaN);
          }
        } catch (err) {
          slot.failures.push((err as Error).message.split("\n")[0]);
          line.push(`${kind} FAIL`);
        }
      }
      progress(part, `round ${i + 1}/${options.rounds}: ${line.join(", ")} ms`);
    }
  } catch (err) {
    result.status = `failed: ${(err as Error).message.split("\n")[0]}`;
  } finally {
    await worker.call("stop", {}, 30_000).catch(() => {});
    await worker.close(15_000);
  }
  for (const slot of Object.values(result.impls)) {
    if (slot.ms.length) slot.summary = summarize(slot.ms);
    else if (slot.status === "ok") slot.status = "failed";
  }
  if (Object.keys(steps).length) {
    result.meshmeetSteps = Object.fromEntries(
      Object.entries(steps).map(([k, v]) => [k, summarize(v)]),
    );
  }
  result.ratio = ratio(
    result.impls["meshmeet (Chromium)"].summary?.p50,
    result.impls["trystero (Chromium)"].summary?.p50,
  );
  return result;
}
