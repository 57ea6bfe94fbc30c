/**
 * Part 5: memory and CPU.
 *
 * - A joined, idle peer process: two peer processes join one meeting and connect; after
 *   they settle, the RSS of one of them (from /proc) and its CPU share over an idle
 *   window. The RSS of the same worker before joining (runtime + loaded modules) is the
 *   baseline. Deno, and Node from the npm build when it exists.
 * - In-process cost per extra peer: one Deno process adds peers to one meeting (every
 *   peer connected to every other, so the cost includes its connections); RSS after a
 *   garbage collection at each size, and the least-squares slope.
 *
 * @module
 */
import {
  Child,
  cpuPercent,
  denoWorker,
  linearFit,
  memoryBreakdown,
  progress,
  sampleProc,
  sleep,
} from "./_util.ts";
import { BENCH_DIR, ROOT } from "./_util.ts";
import { nodeBuild } from "./_node_build.ts";
import { generateInvitationCode } from "../mod.ts";

/** One runtime's idle peer. */
export interface IdlePeer {
  status: string;
  baselineRssMiB?: number;
  joinedRssMiB?: number;
  /** Of the joined RSS: anonymous pages (heaps, stacks; see `MemoryBreakdown`). */
  joinedAnonMiB?: number;
  /** Of the joined RSS: pages mapped from files (the runtime's executable, add-ons). */
  joinedFileMiB?: number;
  /** The same runtime running an empty program (a timer), RSS and anonymous pages. */
  runtimeRssMiB?: number;
  runtimeAnonMiB?: number;
  baselineThreads?: number;
  joinedThreads?: number;
  idleCpuPercent?: number;
  heapUsedMiB?: number;
}

/** Result of part 5. */
export interface MemoryResult {
  idleSeconds: number;
  idle: Record<string, IdlePeer>;
  /** Per runtime: one joined peer process before and after `links` meeting links. */
  perConnection?: Record<string, PerConnection>;
  perPeer: {
    steps: { peers: number; rssMiB: number; heapMiB: number; connectMs: number }[];
    slopeMiBPerPeer: number;
    idleCpuPercent: number;
    maxPeers: number;
  };
}

/** A joined peer process with 0 and then N open meeting links. */
export interface PerConnection {
  status: string;
  links?: number;
  rssMiB0?: number;
  rssMiBN?: number;
  threads0?: number;
  threadsN?: number;
  mibPerLink?: number;
  threadsPerLink?: number;
}

const MiB = 1024 * 1024;
const mib = (b: number) => Math.round((b / MiB) * 10) / 10;

/**
 * The runtime alone: RSS and anonymous pages of `cmd args` (an empty program that keeps
 * a timer) 2 s after it starts, so that a peer's memory can be read against it.
 */
async function bareRuntime(cmd: string, args: string[]): Promise<{ rss: number; anon: number }> {
  const p = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  try {
    await sleep(2000);
    const m = memoryBreakdown(p.pid);
    if (!m) throw new Error(`${cmd} ${args.join(" ")} exited early`);
    return { rss: mib(m.rssBytes), anon: mib(m.anonymousBytes) };
  } finally {
    p.kill("SIGKILL");
    await p.status;
  }
}

async function idlePeer(
  name: string,
  make: () => Child,
  bootstrap: string[],
  idleSeconds: number,
  bare: () => Promise<{ rss: number; anon: number }>,
): Promise<IdlePeer> {
  const runtime = await bare();
  const a = make();
  const b = make();
  try {
    const before = await a.call<{ rss: number }>("stats", { gc: true });
    const beforeThreads = sampleProc(a.pid)?.threads;
    const code = generateInvitationCode();
    await a.call("join", { code, bootstrap });
    await b.call("join", { code, bootstrap });
    await Promise.all([a.call("waitConnected", { each: 1 }), b.call("waitConnected", { each: 1 })]);
    await sleep(3000); // let the join's garbage settle
    const s0 = sampleProc(a.pid)!;
    await sleep(idleSeconds * 1000);
    const s1 = sampleProc(a.pid)!;
    const m1 = memoryBreakdown(a.pid)!;
    const after = await a.call<{ heapUsed: number; participants: number[] }>("stats", {});
    const peer: IdlePeer = {
      status: "ok",
      baselineRssMiB: mib(before.rss),
      joinedRssMiB: mib(m1.rssBytes),
      joinedAnonMiB: mib(m1.anonymousBytes),
      joinedFileMiB: mib(m1.fileBytes),
      runtimeRssMiB: runtime.rss,
      runtimeAnonMiB: runtime.anon,
      baselineThreads: beforeThreads,
      joinedThreads: s1.threads,
      idleCpuPercent: cpuPercent(s0, s1),
      heapUsedMiB: mib(after.heapUsed),
    };
    progress(
      "5 memory",
      `${name}: RSS ${peer.baselineRssMiB} MiB before joining, ${peer.joinedRssMiB} MiB joined ` +
        `and idle (anonymous ${peer.joinedAnonMiB}, from files ${peer.joinedFileMiB}; the bare ` +
        `runtime ${runtime.rss} MiB, anonymous ${runtime.anon}); threads ${peer.baselineThreads} -> ${peer.joinedThreads}; idle CPU ${peer.idleCpuPercent}% over ${idleSeconds} s (participants ${after.participants})`,
    );
    return peer;
  } finally {
    await Promise.allSettled([a.call("leaveAll"), b.call("leaveAll")]);
    await Promise.allSettled([a.close(), b.close()]);
  }
}

/**
 * Per-connection cost: process X joins a meeting alone (0 links), then a Deno process adds
 * `links` peers to the meeting, each of which opens a meeting link to X. X's RSS (after a
 * GC) and thread count before and after, divided by `links`.
 */
async function perConnection(
  name: string,
  make: () => Child,
  bootstrap: string[],
  links: number,
): Promise<PerConnection> {
  const x = make();
  const y = denoWorker("peers-y", "peer.ts");
  try {
    const code = generateInvitationCode();
    await x.call("join", { code, bootstrap });
    await sleep(3000);
    await x.call("stats", { gc: true });
    const s0 = sampleProc(x.pid)!;
    // One join at a time: 4 at once in a fresh process missed the 15 s bootstrap budget once
    // under load (BootstrapError, no relay slot reserved in time).
    await y.call("join", { code, bootstrap, count: links, concurrency: 1 }, 180_000);
    await x.call("waitConnected", { each: links, timeoutMs: 120_000 }, 130_000);
    await sleep(3000);
    await x.call("stats", { gc: true });
    const s1 = sampleProc(x.pid)!;
    const r: PerConnection = {
      status: "ok",
      links,
      rssMiB0: mib(s0.rssBytes),
      rssMiBN: mib(s1.rssBytes),
      threads0: s0.threads,
      threadsN: s1.threads,
      mibPerLink: Math.round(((s1.rssBytes - s0.rssBytes) / MiB / links) * 100) / 100,
      threadsPerLink: Math.round(((s1.threads - s0.threads) / links) * 10) / 10,
    };
    progress(
      "5 memory",
      `${name}: 0 -> ${links} meeting links: RSS ${r.rssMiB0} -> ${r.rssMiBN} MiB ` +
        `(${r.mibPerLink} MiB/link), threads ${r.threads0} -> ${r.threadsN} (${r.threadsPerLink}/link)`,
    );
    return r;
  } finally {
    await Promise.allSettled([x.call("leaveAll"), y.call("leaveAll")]);
    await Promise.allSettled([x.close(), y.close()]);
  }
}

/**
 * Run part 5.
 *
 * @param options Idle window and in-process sizes.
 * @returns Idle RSS/CPU per runtime and the per-peer slope.
 */
export async function runMemory(
  options: { idleSeconds: number; sizes: number[]; links?: number },
): Promise<MemoryResult> {
  const part = "5 memory";
  const boot = denoWorker("bootstrap", "bootstrap.ts");
  try {
    const bootstrap = (await boot.waitEvent("ready")).addresses as string[];
    const idle: Record<string, IdlePeer> = {};
    idle["Deno"] = await idlePeer(
      "Deno",
      () => denoWorker("peer", "peer.ts", [], { v8Flags: ["--expose-gc"] }),
      bootstrap,
      options.idleSeconds,
      () => bareRuntime(Deno.execPath(), ["eval", "setInterval(() => {}, 1000)"]),
    ).catch((err) => ({ status: `failed: ${(err as Error).message.split("\n")[0]}` }));
    const node = await nodeBuild();
    const makeNode = typeof node === "string" ? undefined : () =>
      new Child({
        name: "peer-node",
        cmd: node.node,
        args: ["--expose-gc", `${BENCH_DIR}workers/peer_node.mjs`, node.entry],
        cwd: ROOT,
      });
    const nodeName = typeof node === "string" ? "Node" : `Node ${node.version}`;
    if (!makeNode) idle["Node"] = { status: node as string };
    else {
      const nodeBin = (node as { node: string }).node;
      const bareNode = () => bareRuntime(nodeBin, ["-e", "setInterval(() => {}, 1000)"]);
      idle[nodeName] = await idlePeer(nodeName, makeNode, bootstrap, options.idleSeconds, bareNode)
        .catch((err) => ({ status: `failed: ${(err as Error).message.split("\n")[0]}` }));
    }
    const links = options.links ?? 10;
    const perConn: Record<string, PerConnection> = {};
    const failed = (err: unknown) => {
      const status = `failed: ${(err as Error).message.split("\n")[0]}`;
      progress(part, `per-link measure ${status}`);
      return { status };
    };
    perConn["Deno"] = await perConnection(
      "Deno",
      () => denoWorker("peer-x", "peer.ts", [], { v8Flags: ["--expose-gc"] }),
      bootstrap,
      links,
    ).catch(failed);
    if (makeNode) {
      perConn[nodeName] = await perConnection(nodeName, makeNode, bootstrap, links).catch(failed);
    }

    progress(part, `in-process: adding peers to one meeting: ${options.sizes.join(", ")}`);
    const w = denoWorker("peers", "peer.ts", [], { v8Flags: ["--expose-gc"] });
    const steps: MemoryResult["perPeer"]["steps"] = [];
    let idleCpu = NaN;
    try {
      const code = generateInvitationCode();
      let have = 0;
      for (const size of options.sizes) {
        const t0 = performance.now();
        await w.call("join", { code, bootstrap, count: size - have, concurrency: 4 }, 180_000);
        have = size;
        await w.call("waitConnected", { each: size - 1, timeoutMs: 120_000 }, 130_000);
        const connectMs = Math.round(performance.now() - t0);
        await sleep(2000);
        const s = await w.call<{ rss: number; heapUsed: number }>("stats", { gc: true });
        steps.push({ peers: size, rssMiB: mib(s.rss), heapMiB: mib(s.heapUsed), connectMs });
        progress(
          part,
          `${size} peers in one process (full mesh): RSS ${mib(s.rss)} MiB, heap ${
            mib(s.heapUsed)
          } MiB (joined and connected in ${connectMs} ms)`,
        );
      }
      const s0 = sampleProc(w.pid)!;
      await sleep(options.idleSeconds * 1000);
      idleCpu = cpuPercent(s0, sampleProc(w.pid)!);
      progress(part, `${have} idle peers in one process: ${idleCpu}% CPU`);
    } finally {
      await w.call("leaveAll", {}, 60_000).catch(() => {});
      await w.close();
    }
    const fit = linearFit(steps.map((s) => s.peers), steps.map((s) => s.rssMiB));
    return {
      idleSeconds: options.idleSeconds,
      idle,
      perConnection: perConn,
      perPeer: {
        steps,
        slopeMiBPerPeer: Math.round(fit.slope * 100) / 100,
        idleCpuPercent: idleCpu,
        maxPeers: options.sizes[options.sizes.length - 1],
      },
    };
  } finally {
    await boot.close();
  }
}
