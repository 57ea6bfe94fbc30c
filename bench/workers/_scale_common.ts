/**
 * What the part-6 (scale) scenarios share: the loopback-only RTC configuration, the
 * bootstrap child, a meter of CPU and loopback traffic, pacing of arrivals, and the
 * statistics helpers. See `scale.ts`.
 *
 * @module
 */
import { Child, loopbackCounters, quantile, sampleProc, sleep } from "../_util.ts";

/** ICE on loopback only: no STUN/TURN servers, libdatachannel bound to 127.0.0.1. */
export const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };

/**
 * A peer is complete when it has every other peer of its meeting that managed to join
 * (capped by `bound`): a failed join must not hide how the others did.
 */
export function settle<T extends { meeting: number; reached: number[]; completeAt?: number }>(
  list: T[],
  isJoined: (p: T) => boolean,
  bound: number,
): void {
  const joined = new Map<number, number>();
  for (const p of list) if (isJoined(p)) joined.set(p.meeting, (joined.get(p.meeting) ?? 0) + 1);
  for (const p of list) {
    const target = Math.min(bound, (joined.get(p.meeting) ?? 1) - 1);
    p.completeAt = isJoined(p) ? p.reached[target] : undefined;
  }
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** n, p50, p95, max and min of the finite values, rounded. */
export function dist(xs: number[]) {
  const f = xs.filter(Number.isFinite);
  return {
    n: f.length,
    p50: round(quantile(f, 0.5)),
    p95: round(quantile(f, 0.95)),
    max: round(f.length ? Math.max(...f) : NaN),
    min: round(f.length ? Math.min(...f) : NaN),
  };
}

/** CPU seconds and traffic of this namespace since `start()`. */
export class Meter {
  #pids: number[];
  #cpu0: number;
  #lo0: { bytes: number; packets: number } | undefined;
  #t0 = performance.now();
  constructor(pids: number[]) {
    this.#pids = pids;
    this.#cpu0 = this.#cpu();
    this.#lo0 = loopbackCounters();
  }
  #cpu(): number {
    return [sampleProc("self"), ...this.#pids.map((p) => sampleProc(p))]
      .reduce((a, s) => a + (s?.cpuSeconds ?? 0), 0);
  }
  read() {
    const lo = loopbackCounters();
    return {
      seconds: round((performance.now() - this.#t0) / 1000, 2),
      cpuSeconds: round(this.#cpu() - this.#cpu0, 2),
      loBytes: lo && this.#lo0 ? lo.bytes - this.#lo0.bytes : NaN,
      loPackets: lo && this.#lo0 ? lo.packets - this.#lo0.packets : NaN,
    };
  }
}

/** Starts the bootstrap node as a child process and waits for its addresses. */
export async function startBoot(): Promise<{ child: Child; addresses: string[] }> {
  const child = new Child({
    name: "scale-bootstrap",
    cmd: Deno.execPath(),
    args: ["run", "-A", new URL("./bootstrap.ts", import.meta.url).pathname],
  });
  const addresses = (await child.waitEvent("ready", 60_000)).addresses as string[];
  return { child, addresses };
}

/** Arguments of the `meetings` and `discovery` scenarios: `meetings` × `peers`. */
export interface ScenarioArgs {
  meetings: number;
  peers: number;
  concurrency: number;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Start `task(0)`, `task(1)`, … in order, task i no sooner than `intervalMs · i` after the
 * start (an arrival rate, as people arrive), with at most `concurrency` in flight; tasks not
 * started by `deadline` are skipped.
 */
export async function paced(
  count: number,
  concurrency: number,
  intervalMs: number,
  deadline: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      const wait = t0 + i * intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      await task(i);
    }
  }));
}

/** One entry per peer, round-robin over meetings so that all of them fill at the same time. */
export function roundRobin<T>(meetings: number, peers: number, make: (meeting: number) => T): T[] {
  const out: T[] = [];
  for (let j = 0; j < peers; j++) {
    for (let k = 0; k < meetings; k++) out.push(make(k));
  }
  return out;
}
