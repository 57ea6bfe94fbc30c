/**
 * The churn soak: members in their own processes (`tests/faults/_member.ts`) around one
 * bootstrap node (a `meshmeet serve --http` process), with joins, graceful leaves and crashes
 * (SIGKILL) all along, and every live member sending a message to another one every second.
 *
 * - A few members stay for the whole run: their RSS, V8 heap after GC, file descriptors,
 *   threads and live timers are sampled after the warm-up and at the end.
 * - The bootstrap node is sampled at the same moments, from its `/metrics`: RSS, file
 *   descriptors, threads, libp2p connections, relay reservations and V8 heap (without a forced
 *   collection, so reported, not judged).
 * - Every message has a sender-side number; a member prints each arrival (checked whole)
 *   before its acknowledgement leaves, so an acknowledged message that never arrived would
 *   show even when the recipient crashed later. Lost = acknowledged but not received.
 *
 * @module
 */
import { generateInvitationCode } from "../../mod.ts";
import { MemberProcess } from "../faults/_member_process.ts";
import { CliProcess, scrapeMetrics } from "../cli/_cli.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /** Length of the run in minutes. */
  minutes: number;
  /** Members at any time. */
  members: number;
  /** Members that stay for the whole run (sampled). */
  stable: number;
  /** One churn event (join, leave or crash, in turn) every this many ms. */
  churnEveryMs: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One sample of a member process. */
export interface Sample {
  rssMB: number;
  heapMB: number;
  fds: number;
  threads: number;
  timers: number;
  /** Members it held a connected link to when sampled. */
  links: number;
}

/** One sample of the bootstrap node's process. */
export interface ServerSample {
  rssMB: number;
  /** V8 heap in use, without a forced collection (garbage included). */
  heapMB: number;
  fds: number;
  threads: number;
  /** Open libp2p connections. */
  connections: number;
  /** Relay reservations held. */
  reservations: number;
}

/** What a soak run measured. */
export interface SoakResult {
  minutes: number;
  membersAtOnce: number;
  joins: number;
  leaves: number;
  crashes: number;
  sent: number;
  acked: number;
  received: number;
  lostAcked: number;
  damaged: number;
  failedByError: Record<string, number>;
  /** Per stable member: after warm-up, at the end. */
  samples: Array<{ name: string; warm: Sample; end: Sample }>;
  /** Largest growth among stable members, per metric, in percent. */
  growthPercent: Record<Exclude<keyof Sample, "links">, number>;
  /** The bootstrap node: after warm-up, at the end (with as many members live). */
  server: { warm: ServerSample; end: ServerSample };
}

/** The bootstrap node as a `meshmeet serve --http` process, and how to sample it. */
class SoakServer {
  readonly process = new CliProcess("serve", ["serve", "--http", "127.0.0.1:0", "--json"]);
  addresses: string[] = [];
  #url = "";

  async start(): Promise<this> {
    const listening = await this.process.waitForEvent((e) => e.event === "listening", "serve");
    this.addresses = listening.addresses as string[];
    const http = await this.process.waitForEvent((e) => e.event === "http", "serve's API");
    this.#url = http.url as string;
    return this;
  }

  async sample(): Promise<ServerSample> {
    const metric = await scrapeMetrics(this.#url);
    return {
      rssMB: +(metric("process_resident_memory_bytes") / MB).toFixed(1),
      heapMB: +(metric("meshmeet_heap_used_bytes") / MB).toFixed(1),
      fds: metric("process_open_fds"),
      threads: metric("meshmeet_process_threads"),
      connections: metric("meshmeet_libp2p_connections"),
      reservations: metric("meshmeet_relay_reservations"),
    };
  }
}

const MB = 2 ** 20;

/**
 * Both resource samples are taken in the same state: the senders paused and no churn for
 * at least `churnEveryMs` + QUIET_MS (the end sample after the last churn step). Live timers
 * move with traffic: each message holds its link's ack timer, and each join leaves dial,
 * signaling and DHT timeouts of up to 17 s behind in the members it met. A sample in the
 * middle of that measured the traffic of the moment (27 → 44 timers with nothing leaking:
 * the sites of the extra timers were all such timeouts), not a leak.
 */
const QUIET_MS = 15_000;

async function sample(m: MemberProcess): Promise<Sample> {
  const s = await m.call("stats", {}, 30_000) as {
    rss: number;
    heapUsed: number;
    fds: number;
    threads: number;
    timers: number;
    participants: number;
    timerSites?: Record<string, number>;
  };
  if (s.timerSites) console.error(`TIMER_SITES ${m.name} ${JSON.stringify(s.timerSites)}`);
  return {
    rssMB: +(s.rss / MB).toFixed(1),
    heapMB: +(s.heapUsed / MB).toFixed(1),
    fds: s.fds,
    threads: s.threads,
    timers: s.timers,
    links: s.participants,
  };
}

/**
 * Sample a member once it is linked to every other live member (for at most 30 s): file
 * descriptors and threads go with the number of links (each WebRTC link has its sockets and
 * about 2.4 threads), so the warm-up and end samples compare like with like. A crashed
 * member's link lingers until its lease runs out (14 s), which is why this waits.
 */
async function sampleLinked(m: MemberProcess, others: () => number): Promise<Sample> {
  const deadline = performance.now() + 30_000;
  let s = await sample(m);
  while (s.links !== others() && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    s = await sample(m);
  }
  return s;
}

/** Run the soak. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const boot = await new SoakServer().start();
  const code = generateInvitationCode();
  const all: MemberProcess[] = [];
  const live = new Set<MemberProcess>();
  let serial = 0;
  const counts = { joins: 0, leaves: 0, crashes: 0, sent: 0 };
  const start = async (prefix: string) => {
    const m = await MemberProcess.start({
      name: `${prefix}${serial++}`,
      code,
      bootstrap: boot.addresses,
      timeoutMs: 60_000,
    });
    all.push(m);
    live.add(m);
    counts.joins++;
    return m;
  };
  const t0 = performance.now();
  const endAt = t0 + options.minutes * 60_000;
  // The warm-up ends 30 % into the run (at most 5 min), and not before every member has
  // been up for 20 s.
  let warmAt = t0 + Math.min(options.minutes * 60_000 * 0.3, 5 * 60_000);
  let sender: ReturnType<typeof setInterval> | undefined;
  try {
    const stable: MemberProcess[] = [];
    for (let i = 0; i < options.stable; i++) stable.push(await start("S"));
    while (live.size < options.members) await start("C");
    log(`${live.size} members up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    warmAt = Math.max(warmAt, performance.now() + 20_000);

    // Every second each live member sends one message to a random other live member that
    // it is connected to (as far as the driver knows from its peer:join/peer:leave lines).
    const linked = (m: MemberProcess) => {
      const peers = new Set<string>();
      for (const e of m.events) {
        if (e.event === "peer:join") peers.add(e.peerId as string);
        else if (e.event === "peer:leave") peers.delete(e.peerId as string);
      }
      return [...live].filter((o) => o !== m && peers.has(o.peerId));
    };
    let paused = false;
    sender = setInterval(() => {
      if (paused) return;
      for (const m of live) {
        const peers = linked(m);
        if (peers.length === 0) continue;
        const to = peers[Math.floor(Math.random() * peers.length)];
        counts.sent++;
        void m.post("send", {
          to: to.peerId,
          count: 1,
          bytes: 64 + Math.floor(Math.random() * 4096),
        });
      }
    }, 1000);

    let warm: Sample[] | undefined;
    let serverWarm: ServerSample | undefined;
    let turn = 0;
    while (performance.now() < endAt) {
      await new Promise((r) => setTimeout(r, options.churnEveryMs));
      if (warm === undefined && performance.now() >= warmAt) {
        // Sampled like the end: no message in flight and no churn for 10 + QUIET_MS.
        paused = true;
        await new Promise((r) => setTimeout(r, QUIET_MS));
        warm = await Promise.all(stable.map((m) => sampleLinked(m, () => live.size - 1)));
        serverWarm = await boot.sample();
        paused = false;
        log(`warm-up samples: ${JSON.stringify(warm)}; server ${JSON.stringify(serverWarm)}`);
      }
      if (performance.now() >= endAt) break;
      const churners = [...live].filter((m) => !stable.includes(m));
      const kind = ["crash", "leave", "join"][turn++ % 3];
      if (kind !== "join" && churners.length > 0) {
        const victim = churners[Math.floor(Math.random() * churners.length)];
        live.delete(victim);
        if (kind === "crash") {
          await victim.kill();
          counts.crashes++;
        } else {
          await victim.leave(10_000);
          counts.leaves++;
        }
      }
      while (live.size < options.members) await start("C");
      log(
        `${((performance.now() - t0) / 60_000).toFixed(1)} min: ${kind}; ${live.size} live, ` +
          `${counts.sent} sent`,
      );
    }
    clearInterval(sender);
    sender = undefined;
    // Let the last messages settle and the last churn's timeouts run out (as at the warm-up).
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const end = await Promise.all(stable.map((m) => sampleLinked(m, () => live.size - 1)));
    const serverEnd = await boot.sample();
    warm ??= end;
    serverWarm ??= serverEnd;

    // Accounting over every process that ever ran (killed ones included).
    const byId = new Map(all.map((m) => [m.peerId, m]));
    let acked = 0;
    let received = 0;
    let lostAcked = 0;
    let damaged = 0;
    const failedByError: Record<string, number> = {};
    for (const m of all) {
      for (const e of m.events) {
        if (e.event === "message") {
          received++;
          if (e.intact !== true) damaged++;
        } else if (e.event === "send-failed") {
          const k = e.error as string;
          failedByError[k] = (failedByError[k] ?? 0) + 1;
        } else if (e.event === "acked") {
          acked++;
          const to = byId.get(e.to as string);
          const arrived = to?.events.some((r) =>
            r.event === "message" && r.from === m.peerId && r.index === e.index
          );
          if (!arrived) lostAcked++;
        }
      }
    }
    const growth = (key: keyof Sample) =>
      Math.max(
        ...stable.map((_, i) => warm![i][key] === 0 ? 0 : (end[i][key] / warm![i][key] - 1) * 100),
      );
    return {
      minutes: options.minutes,
      membersAtOnce: options.members,
      joins: counts.joins,
      leaves: counts.leaves,
      crashes: counts.crashes,
      sent: counts.sent,
      acked,
      received,
      lostAcked,
      damaged,
      failedByError,
      samples: stable.map((m, i) => ({ name: m.name, warm: warm![i], end: end[i] })),
      growthPercent: {
        rssMB: +growth("rssMB").toFixed(1),
        heapMB: +growth("heapMB").toFixed(1),
        fds: +growth("fds").toFixed(1),
        threads: +growth("threads").toFixed(1),
        timers: +growth("timers").toFixed(1),
      },
      server: { warm: serverWarm, end: serverEnd },
    };
  } finally {
    clearInterval(sender);
    await Promise.allSettled([...live].map((m) => m.leave(5000)));
    await Promise.allSettled(all.map((m) => m.kill()));
    await boot.process.stop();
  }
}
