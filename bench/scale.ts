/**
 * Part 6: scale. Runs `workers/scale.ts` in a fresh loopback-only network namespace (when
 * `unshare --net` works; otherwise on the host's loopback without byte counts), one
 * scenario per worker process so that nothing carries over between them.
 *
 * - 6a: M concurrent meetings x P peers, all in one process, real WebRTC; time until every
 *   peer has its whole meeting; isolation check (no peer ever saw another meeting's peer).
 *   At sizes beyond what one process can run with WebRTC on this machine, the same with
 *   discovery only (meshmeet's real rendezvous on real participant nodes, no WebRTC).
 * Peers arrive at a fixed join rate (as people do), at most `concurrency` joins in flight.
 * - 6b: one meeting of N peers over the overlay (the default); converged means every
 *   peer's roster holds all N - 1 others; degree (links, bounded by the overlay), components
 *   of the link graph, traffic and CPU per peer.
 * - 6c: R presence records under one topic on S DHT servers; a newcomer's lookup: the
 *   provider list alone, the lookup for 8 entry points (issue 11), and the lookup that
 *   fetches every provider answered (as before issue 11). `caps: false` runs the servers
 *   without meshmeet's limits (kad-dht's behaviour: the "before").
 *
 * @module
 */
import { denoWorker, netnsAvailable, progress } from "./_util.ts";

/** Result of part 6 (each scenario as the worker reported it, or its error). */
export interface ScaleResult {
  netns: boolean;
  joinRate: number;
  meetings: Record<string, unknown>[];
  discoveryMeetings: Record<string, unknown>[];
  big: Record<string, unknown>[];
  discoveryBig: Record<string, unknown>[];
  records: Record<string, unknown>[];
}

async function scenario(
  label: string,
  op: string,
  args: Record<string, unknown>,
  timeoutMs: number,
  netns: boolean,
): Promise<Record<string, unknown>> {
  const worker = denoWorker(`scale ${label}`, "scale.ts", [], {
    netns,
    v8Flags: ["--max-old-space-size=8192"],
    onEvent: (e) => {
      if (e.event === "progress") progress("6 scale", `${label}: ${e.message}`);
    },
  });
  const t0 = performance.now();
  try {
    const r = await worker.call<Record<string, unknown>>(op, args, timeoutMs);
    return { ...r, wallMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const message = (err as Error).message.split("\n")[0];
    progress("6 scale", `${label} failed: ${message}`);
    return { ...args, error: message, wallMs: Math.round(performance.now() - t0) };
  } finally {
    await worker.close(30_000);
  }
}

/**
 * Run part 6.
 *
 * @param options Sizes and budgets.
 * @returns All scenario results.
 */
export async function runScale(options: {
  meetings: { meetings: number; peers: number }[];
  discoveryMeetings: { meetings: number; peers: number }[];
  bigN: number[];
  discoveryN: number[];
  records: { records: number; servers: number; caps?: boolean }[];
  concurrency: number;
  /** Joins per second (peers arrive at this rate). */
  joinRate: number;
  timeoutMs: (peers: number) => number;
}): Promise<ScaleResult> {
  const netns = await netnsAvailable();
  progress(
    "6 scale",
    netns
      ? "each scenario runs in its own loopback-only network namespace (traffic counted on its lo)"
      : "unshare --net is not available: running on the host loopback, traffic not counted",
  );
  const result: ScaleResult = {
    netns,
    joinRate: options.joinRate,
    meetings: [],
    discoveryMeetings: [],
    big: [],
    discoveryBig: [],
    records: [],
  };
  const intervalMs = 1000 / options.joinRate;
  for (const m of options.meetings) {
    const label = `6a ${m.meetings}x${m.peers}`;
    progress("6 scale", `${label}: ${m.meetings} meetings of ${m.peers} peers, one process`);
    const budget = options.timeoutMs(m.meetings * m.peers);
    const args = { ...m, concurrency: options.concurrency, intervalMs, timeoutMs: budget };
    const r = await scenario(label, "meetings", args, budget + 120_000, netns);
    result.meetings.push(r);
    progress("6 scale", `${label}: ${summarizeMeetings(r)}`);
  }
  for (const m of options.discoveryMeetings) {
    const label = `6a discovery ${m.meetings}x${m.peers}`;
    progress("6 scale", `${label}: rendezvous only (no WebRTC), one process`);
    const budget = options.timeoutMs(m.meetings * m.peers);
    const args = { ...m, concurrency: options.concurrency, intervalMs, timeoutMs: budget };
    const r = await scenario(label, "discovery", args, budget + 180_000, netns);
    result.discoveryMeetings.push(r);
    progress("6 scale", `${label}: ${summarizeDiscovery(r)}`);
  }
  for (const n of options.bigN) {
    const label = `6b N=${n}`;
    progress("6 scale", `${label}: one meeting of ${n} peers, one process`);
    const budget = options.timeoutMs(n);
    const args = { n, concurrency: options.concurrency, intervalMs, timeoutMs: budget };
    const r = await scenario(label, "bigMeeting", args, budget + 120_000, netns);
    result.big.push(r);
    progress("6 scale", `${label}: ${summarizeBig(r)}`);
  }
  for (const n of options.discoveryN) {
    const label = `6b discovery N=${n}`;
    progress("6 scale", `${label}: rendezvous only (no WebRTC), one process`);
    const budget = options.timeoutMs(n);
    const args = {
      meetings: 1,
      peers: n,
      concurrency: options.concurrency,
      intervalMs,
      timeoutMs: budget,
    };
    const r = await scenario(label, "discovery", args, budget + 180_000, netns);
    result.discoveryBig.push({ ...r, n });
    progress("6 scale", `${label}: ${summarizeDiscovery(r)}`);
  }
  for (const rec of options.records) {
    const label = `6c ${rec.records} records/${rec.servers} servers${
      rec.caps === false ? " (no limits)" : ""
    }`;
    progress("6 scale", `${label}`);
    const r = await scenario(label, "records", { ...rec, timeoutMs: 600_000 }, 900_000, netns);
    result.records.push(r);
    const l = r.lookup as Record<string, number> | undefined;
    const p = r.providers as Record<string, number> | undefined;
    const e = r.entryPoints as Record<string, number> | undefined;
    progress(
      "6 scale",
      r.error
        ? `${label}: failed`
        : `${label}: providers ${p?.found} in ${p?.ms} ms (${p?.kiB} KiB); ` +
          `${e?.enough} entry points: ${e?.accepted} verified, the ${e?.enough}th after ` +
          `${e?.enoughMs} ms (${e?.gets} GETs, ${e?.kiB} KiB); ` +
          `full lookup ${l?.accepted} records in ${l?.ms} ms, ${l?.kiB} KiB`,
    );
  }
  return result;
}

function summarizeMeetings(r: Record<string, unknown>): string {
  if (r.error) return `failed: ${r.error}`;
  const per = r.wholeMeetingPerPeerMs as Record<string, number>;
  const iso = r.isolation as Record<string, number>;
  return `${r.complete}/${r.totalPeers} peers have their whole meeting; p50 ${per.p50} ms, p95 ${per.p95} ms; ` +
    `isolation violations ${iso.violations}`;
}

function summarizeDiscovery(r: Record<string, unknown>): string {
  if (r.error) return `failed: ${r.error}`;
  const pp = r.perPeer as Record<string, number>;
  const w = r.wholeMeetingPerPeerMs as Record<string, number>;
  return `${r.complete}/${r.totalPeers} found their whole meeting` +
    (r.converged
      ? ` (all within ${r.convergeMs} ms of the last arrival)`
      : " (not all within the budget)") +
    `; per peer p50 ${w.p50} ms; ${pp.kiB} KiB, ${pp.lookups} lookups, ${pp.cpuSeconds} CPU s per peer`;
}

function summarizeBig(r: Record<string, unknown>): string {
  if (r.error) return `failed: ${r.error}`;
  const pp = r.perPeer as Record<string, number>;
  return `${r.complete}/${r.n} at degree >= ${r.target}` +
    (r.converged ? ` after ${r.convergeMs} ms` : " (not converged in budget)") +
    `; ${pp.kiB} KiB, ${pp.packets} packets, ${pp.cpuSeconds} CPU s per peer`;
}
