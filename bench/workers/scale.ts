/**
 * Worker: part 6 (scale), meant to run in its own loopback-only network namespace
 * (`unshare --net`), so that the loopback counters of /proc/net/dev count this part's
 * traffic and nothing else. It starts its own bootstrap node (or DHT servers) as child
 * processes in the same namespace and runs every participant in this process.
 *
 * Ops:
 * - `meetings` ({ meetings, peers, concurrency, timeoutMs }) -> 6a
 * - `bigMeeting` ({ n, concurrency, timeoutMs }) -> 6b
 * - `records` ({ records, servers, timeoutMs }) -> 6c
 * - `discovery` ({ meetings, peers, concurrency, intervalMs, timeoutMs }) -> 6a/6b without
 *   WebRTC (see {@linkcode discovery})
 *
 * @module
 */
import { generateInvitationCode, joinMeeting, type Meeting, type PresenceInfo } from "../../mod.ts";
import { deriveTopicKeys } from "../../mod.ts";
import { createParticipantLibp2p } from "../../src/node.ts";
import { Rendezvous, topicCid } from "../../src/rendezvous.ts";
import { createLogger } from "../../src/logger.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { Child, loopbackCounters, quantile, sampleProc, sleep } from "../_util.ts";
import { groupBootstrapAddresses } from "../../src/_bootstrap_addresses.ts";
import { emit, serve } from "./_serve.ts";

const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };
/**
 * 6b's target: with the overlay (the default) every member's roster holds all N − 1 others;
 * links are bounded by the overlay (reported as `degree`), not by this number.
 */
const ROSTER_TARGET = Number.MAX_SAFE_INTEGER;

interface Peer {
  meeting: number;
  start: number;
  end?: number;
  id?: string;
  m?: Meeting;
  completeAt?: number;
  /** reached[c]: when the peer first had c participants. */
  reached: number[];
  seen: Set<string>;
  error?: string;
}

/**
 * A peer is complete when it has every other peer of its meeting that managed to join
 * (capped by `bound`): a failed join must not hide how the others did.
 */
function settle<T extends { meeting: number; reached: number[]; completeAt?: number }>(
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

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function dist(xs: number[]) {
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
class Meter {
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

async function startBoot(): Promise<{ child: Child; addresses: string[] }> {
  const child = new Child({
    name: "scale-bootstrap",
    cmd: Deno.execPath(),
    args: ["run", "-A", new URL("./bootstrap.ts", import.meta.url).pathname],
  });
  const addresses = (await child.waitEvent("ready", 60_000)).addresses as string[];
  return { child, addresses };
}

/** Arguments of the `meetings` and `discovery` scenarios: `meetings` × `peers`. */
interface ScenarioArgs {
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
async function paced(
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
function roundRobin<T>(meetings: number, peers: number, make: (meeting: number) => T): T[] {
  const out: T[] = [];
  for (let j = 0; j < peers; j++) {
    for (let k = 0; k < meetings; k++) out.push(make(k));
  }
  return out;
}

/**
 * Join `peers` in the given order: one every `intervalMs` (an arrival rate, as people
 * arrive), with at most `concurrency` joins in flight.
 */
async function joinAll(
  peers: Peer[],
  codes: string[],
  bootstrap: string[],
  concurrency: number,
  intervalMs: number,
  target: (p: Peer) => number,
  deadline: number,
  label: string,
): Promise<void> {
  let joined = 0;
  const onChange = (p: Peer) => {
    if (!p.m) return;
    const c = p.m.participants.length;
    while (p.reached.length <= c) p.reached.push(Date.now());
    if (p.completeAt === undefined && c >= target(p)) p.completeAt = Date.now();
  };
  const progressTimer = setInterval(() => {
    for (const p of peers) onChange(p);
    const complete = peers.filter((p) => p.completeAt !== undefined).length;
    emit("progress", {
      message: `${label}: ${joined}/${peers.length} joined, ${complete} complete`,
    });
  }, 2000);
  try {
    await paced(peers.length, concurrency, intervalMs, deadline, async (i) => {
      const p = peers[i];
      p.start = Date.now();
      try {
        const m = await joinMeeting(codes[p.meeting], {
          name: `m${p.meeting}`,
          bootstrap,
          rtcConfiguration: LOOPBACK_RTC,
          signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
        });
        p.m = m;
        p.id = m.self.peerId;
        p.end = Date.now();
        joined++;
        const note = (id: string) => p.seen.add(id);
        m.addEventListener("peer:discovered", (e) => note(e.detail.peerId));
        m.addEventListener("peer:join", (e) => {
          note(e.detail.peerId);
          onChange(p);
        });
        for (const x of m.participants) note(x.peerId);
        onChange(p);
      } catch (err) {
        p.error = (err as Error).message;
      }
    });
    // Joins are over: wait until every joined peer has every other joined peer of its
    // meeting (up to the target), or the deadline.
    const joinedIn = new Map<number, number>();
    for (const p of peers) if (p.m) joinedIn.set(p.meeting, (joinedIn.get(p.meeting) ?? 0) + 1);
    const need = (p: Peer) => Math.min(target(p), (joinedIn.get(p.meeting) ?? 1) - 1);
    while (Date.now() < deadline && peers.some((p) => p.m && p.reached.length <= need(p))) {
      for (const p of peers) onChange(p);
      await sleep(200);
    }
    for (const p of peers) onChange(p);
  } finally {
    clearInterval(progressTimer);
  }
}

async function leaveAll(peers: Peer[]): Promise<void> {
  const list = peers.filter((p) => p.m);
  let i = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (i < list.length) {
      const p = list[i++];
      await Promise.race([p.m!.leave().catch(() => {}), sleep(10_000)]);
    }
  }));
}

function isolation(peers: Peer[]) {
  const meetingOf = new Map<string, number>();
  for (const p of peers) if (p.id) meetingOf.set(p.id, p.meeting);
  let violations = 0;
  let unknown = 0;
  for (const p of peers) {
    const ids = new Set([...p.seen, ...(p.m?.participants.map((x) => x.peerId) ?? [])]);
    for (const id of ids) {
      const other = meetingOf.get(id);
      if (other === undefined) unknown++;
      else if (other !== p.meeting) violations++;
    }
  }
  const handshakeFailures = peers.reduce((a, p) => a + (p.m?.stats.handshakeFailures ?? 0), 0);
  return { violations, unknownPeers: unknown, handshakeFailures };
}

function connectedComponents(peers: Peer[]): number {
  const ids = peers.filter((p) => p.id).map((p) => p.id!);
  const adj = new Map<string, string[]>();
  for (const p of peers) if (p.id) adj.set(p.id, p.m!.neighbours.map((x) => x.peerId));
  const seen = new Set<string>();
  let components = 0;
  for (const id of ids) {
    if (seen.has(id)) continue;
    components++;
    const stack = [id];
    seen.add(id);
    while (stack.length) {
      const x = stack.pop()!;
      for (const y of adj.get(x) ?? []) {
        if (!seen.has(y) && adj.has(y)) {
          seen.add(y);
          stack.push(y);
        }
      }
    }
  }
  return components;
}

/** A discovery-only participant: meshmeet's real rendezvous on a real participant node. */
interface Finder {
  meeting: number;
  start: number;
  joinedAt?: number;
  completeAt?: number;
  reached: number[];
  libp2p?: Awaited<ReturnType<typeof createParticipantLibp2p>>;
  rendezvous?: Rendezvous;
  seen: Set<string>;
  id?: string;
  error?: string;
}

/**
 * Discovery only, at sizes where WebRTC in one process is out of reach on this machine:
 * each participant is a real meshmeet participant libp2p node (bootstrap dial, relay
 * reservation) running meshmeet's real Rendezvous (announce: signed, encrypted presence
 * record + provider record; lookups with the default timers: findProviders, one DHT GET
 * per unknown provider, verify + decrypt). No Meeting object: no knocks, no WebRTC, no
 * membership handshake; a peer counts a record once (as Meeting does for peers it is
 * connected to). The topic keys are derived once per meeting (the KDF, ~100 ms per join,
 * is measured in part 1). Complete = the peer has verified records of all its meeting's
 * other peers.
 */
async function discovery(args: ScenarioArgs) {
  const boot = await startBoot();
  const meter = new Meter([boot.child.pid]);
  const codes = Array.from({ length: args.meetings }, () => generateInvitationCode());
  const keys = await Promise.all(codes.map((c) => deriveTopicKeys(c)));
  const finders: Finder[] = roundRobin(
    args.meetings,
    args.peers,
    (meeting) => ({ meeting, start: 0, seen: new Set(), reached: [] }),
  );
  const target = args.peers - 1;
  const t0 = Date.now();
  const deadline = t0 + args.timeoutMs;
  let joined = 0;
  const timer = setInterval(() => {
    const complete = finders.filter((f) => f.completeAt !== undefined).length;
    emit("progress", {
      message:
        `discovery ${args.meetings} x ${args.peers}: ${joined}/${finders.length} announced, ` +
        `${complete} complete`,
    });
  }, 2000);
  try {
    await paced(finders.length, args.concurrency, args.intervalMs, deadline, async (i) => {
      const f = finders[i];
      f.start = Date.now();
      try {
        const privateKey = await generateKeyPair("Ed25519");
        const libp2p = await createParticipantLibp2p({
          privateKey,
          rtcConfiguration: LOOPBACK_RTC,
        });
        f.libp2p = libp2p;
        f.id = libp2p.peerId.toString();
        // As joinMeeting() does: each bootstrap node once, with all its addresses (TCP first).
        await Promise.allSettled(
          groupBootstrapAddresses(boot.addresses).map((addresses) => libp2p.dial(addresses)),
        );
        const relayed = () =>
          libp2p.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit"));
        while (!relayed() && Date.now() < deadline) await sleep(10);
        const joinedAt = Date.now();
        const r = new Rendezvous({
          libp2p,
          keys: keys[f.meeting],
          privateKey,
          log: createLogger({ enabled: "" }).forComponent("bench"),
          selfInfo: (): PresenceInfo => ({
            peerId: f.id!,
            name: `m${f.meeting}`,
            joinedAt,
            addresses: libp2p.getMultiaddrs().map(String).filter((a) => a.includes("/p2p-circuit"))
              .slice(0, 16),
          }),
          onPresence: (presence) => {
            f.seen.add(presence.info.peerId);
            while (f.reached.length <= f.seen.size) f.reached.push(Date.now());
            if (f.completeAt === undefined && f.seen.size >= target) f.completeAt = Date.now();
          },
          wantMore: () => f.seen.size < target,
          isKnown: (id) => f.seen.has(id),
        });
        f.rendezvous = r;
        await r.start();
        f.joinedAt = Date.now();
        joined++;
      } catch (err) {
        f.error = (err as Error).message;
      }
    });
    const announcedIn = new Map<number, number>();
    for (const f of finders) {
      if (f.rendezvous) announcedIn.set(f.meeting, (announcedIn.get(f.meeting) ?? 0) + 1);
    }
    const need = (f: Finder) => Math.min(target, (announcedIn.get(f.meeting) ?? 1) - 1);
    while (
      Date.now() < deadline && finders.some((f) => f.rendezvous && f.reached.length <= need(f))
    ) {
      await sleep(200);
    }
  } finally {
    clearInterval(timer);
  }
  const usage = meter.read();
  settle(finders, (f) => f.rendezvous !== undefined, target);
  const meetingOf = new Map(finders.filter((f) => f.id).map((f) => [f.id!, f.meeting]));
  let violations = 0;
  for (const f of finders) {
    for (const id of f.seen) if (meetingOf.get(id) !== f.meeting) violations++;
  }
  const lastStart = codes.map((_, k) =>
    Math.max(...finders.filter((f) => f.meeting === k).map((f) => f.start))
  );
  const done = finders.filter((f) => f.rendezvous).every((f) => f.completeAt !== undefined);
  const sum = (g: (f: Finder) => number) => finders.reduce((a, f) => a + g(f), 0) / finders.length;
  const result = {
    mode: "discovery only (real rendezvous, no WebRTC)",
    meetings: args.meetings,
    peersPerMeeting: args.peers,
    totalPeers: finders.length,
    joined,
    complete: finders.filter((f) => f.completeAt !== undefined).length,
    converged: done,
    arrivalsMs: Math.max(...finders.map((f) => f.start)) - t0,
    convergeMs: done
      ? Math.max(
        ...finders.filter((f) => f.rendezvous).map((f) => f.completeAt! - lastStart[f.meeting]),
      )
      : NaN,
    wholeMeetingPerPeerMs: dist(finders.map((f) => (f.completeAt ?? NaN) - lastStart[f.meeting])),
    joinMs: dist(finders.filter((f) => f.joinedAt).map((f) => f.joinedAt! - f.start)),
    knownPeers: dist(finders.map((f) => f.seen.size)),
    isolation: {
      violations,
      recordsRejected: finders.reduce((a, f) => a + (f.rendezvous?.stats.recordsRejected ?? 0), 0),
    },
    errors: [...new Set(finders.filter((f) => f.error).map((f) => f.error!))].slice(0, 5),
    usage,
    perPeer: {
      cpuSeconds: round(usage.cpuSeconds / finders.length, 3),
      kiB: round(usage.loBytes / finders.length / 1024),
      packets: round(usage.loPackets / finders.length),
      lookups: round(sum((f) => f.rendezvous?.stats.lookups ?? 0), 2),
      recordsFetched: round(sum((f) => f.rendezvous?.stats.recordsAccepted ?? 0), 1),
      announcements: round(sum((f) => f.rendezvous?.stats.announcements ?? 0), 2),
    },
  };
  for (const f of finders) f.rendezvous?.stop();
  let i = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (i < finders.length) {
      const f = finders[i++];
      await Promise.race([Promise.resolve(f.libp2p?.stop()).catch(() => {}), sleep(10_000)]);
    }
  }));
  await boot.child.close();
  return result;
}

/** One newcomer's lookup on a fresh Rendezvous, with time, traffic and why GETs failed. */
async function measuredLookup(
  libp2p: Awaited<ReturnType<typeof createParticipantLibp2p>>,
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>,
  keys: Awaited<ReturnType<typeof deriveTopicKeys>>,
  serverPid: number,
  enough: number | undefined,
) {
  let accepted = 0;
  let firstRecordMs = NaN;
  let enoughMs = NaN;
  // Why GETs fail: the rendezvous logs "no presence record for <id>: <reason>".
  const reasons = new Map<string, number>();
  const lookupErrors: string[] = [];
  const logger = createLogger({
    enabled: "bench:rendezvous",
    sink: (line) => {
      const early = /lookup ended early: (.*)$/.exec(line);
      if (early) lookupErrors.push(early[1].slice(0, 200));
      const m = /no presence record for \S+: (.*)$/.exec(line);
      if (m) {
        const reason = m[1].replace(/12D3\w+/g, "<peer>").slice(0, 120);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    },
  });
  const tl = performance.now();
  const rendezvous = new Rendezvous({
    libp2p,
    keys,
    privateKey,
    log: logger.forComponent("bench:rendezvous"),
    selfInfo: (): PresenceInfo => ({
      peerId: libp2p.peerId.toString(),
      name: "newcomer",
      joinedAt: Date.now(),
      addresses: [],
    }),
    onPresence: () => {
      accepted++;
      if (accepted === 1) firstRecordMs = performance.now() - tl;
      if (accepted === enough) enoughMs = performance.now() - tl;
    },
    wantMore: () => true,
    isKnown: () => false,
  });
  const meter = new Meter([serverPid]);
  await rendezvous.lookup({ enough });
  const ms = performance.now() - tl;
  const usage = meter.read();
  rendezvous.stop();
  return {
    ms: round(ms),
    accepted,
    firstRecordMs: round(firstRecordMs),
    enoughMs: round(enoughMs),
    gets: rendezvous.stats.lastLookupFetches,
    rejected: rendezvous.stats.recordsRejected,
    kiB: round(usage.loBytes / 1024),
    packets: usage.loPackets,
    cpuSeconds: usage.cpuSeconds,
    budgetMs: 10_000,
    getFailures: Object.fromEntries(
      [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5),
    ),
    endedEarly: lookupErrors.slice(0, 3),
  };
}

await serve({
  discovery,

  async meetings(args: ScenarioArgs) {
    const boot = await startBoot();
    const meter = new Meter([boot.child.pid]);
    const codes = Array.from({ length: args.meetings }, () => generateInvitationCode());
    const peers: Peer[] = roundRobin(
      args.meetings,
      args.peers,
      (meeting) => ({ meeting, start: 0, seen: new Set(), reached: [] }),
    );
    const deadline = Date.now() + args.timeoutMs;
    try {
      await joinAll(
        peers,
        codes,
        boot.addresses,
        args.concurrency,
        args.intervalMs,
        () => args.peers - 1,
        deadline,
        `${args.meetings} x ${args.peers}`,
      );
      const usage = meter.read();
      settle(peers, (p) => p.m !== undefined, args.peers - 1);
      // A peer cannot have its whole meeting before the meeting's last member started to
      // join: count from there.
      const lastStart = codes.map((_, k) =>
        Math.max(...peers.filter((p) => p.meeting === k).map((p) => p.start))
      );
      const perPeer = peers.map((p) => (p.completeAt ?? NaN) - lastStart[p.meeting]);
      const perMeeting = codes.map((_, k) => {
        const ps = peers.filter((p) => p.meeting === k && p.m);
        if (ps.length === 0 || ps.some((p) => p.completeAt === undefined)) return NaN;
        return Math.max(...ps.map((p) => p.completeAt!)) - lastStart[k];
      });
      const joinMs = peers.filter((p) => p.end).map((p) => p.end! - p.start);
      return {
        meetings: args.meetings,
        peersPerMeeting: args.peers,
        totalPeers: peers.length,
        joined: peers.filter((p) => p.m).length,
        complete: peers.filter((p) => p.completeAt !== undefined).length,
        errors: [...new Set(peers.filter((p) => p.error).map((p) => p.error!))].slice(0, 5),
        wholeMeetingPerPeerMs: dist(perPeer),
        wholeMeetingPerMeetingMs: dist(perMeeting),
        joinMs: dist(joinMs),
        isolation: isolation(peers),
        connections: peers.reduce((a, p) => a + (p.m?.participants.length ?? 0), 0) / 2,
        usage,
        perPeer: {
          cpuSeconds: round(usage.cpuSeconds / peers.length, 3),
          kiB: round(usage.loBytes / peers.length / 1024),
          packets: round(usage.loPackets / peers.length),
        },
      };
    } finally {
      await leaveAll(peers);
      await boot.child.close();
    }
  },

  async bigMeeting(
    args: { n: number; concurrency: number; intervalMs: number; timeoutMs: number },
  ) {
    const boot = await startBoot();
    const meter = new Meter([boot.child.pid]);
    const codes = [generateInvitationCode()];
    const peers: Peer[] = Array.from({ length: args.n }, () => ({
      meeting: 0,
      start: 0,
      seen: new Set<string>(),
      reached: [] as number[],
    }));
    const target = Math.min(args.n - 1, ROSTER_TARGET);
    const t0 = Date.now();
    try {
      await joinAll(
        peers,
        codes,
        boot.addresses,
        args.concurrency,
        args.intervalMs,
        () => target,
        t0 + args.timeoutMs,
        `N=${args.n}`,
      );
      const usage = meter.read();
      settle(peers, (p) => p.m !== undefined, ROSTER_TARGET);
      const done = peers.filter((p) => p.m).every((p) => p.completeAt !== undefined);
      const degrees = peers.map((p) => p.m?.neighbours.length ?? 0);
      const known = peers.map((p) => p.seen.size);
      const sum = (f: (m: Meeting) => number) =>
        peers.reduce((a, p) => a + (p.m ? f(p.m) : 0), 0) / peers.length;
      return {
        n: args.n,
        target: Math.min(target, peers.filter((p) => p.m).length - 1),
        joined: peers.filter((p) => p.m).length,
        converged: done,
        complete: peers.filter((p) => p.completeAt !== undefined).length,
        arrivalsMs: Math.max(...peers.map((p) => p.start)) - t0,
        // From the last peer's join start until every peer is at its target degree.
        convergeMs: done
          ? Math.max(...peers.filter((p) => p.m).map((p) => p.completeAt!)) -
            Math.max(...peers.map((p) => p.start))
          : NaN,
        perPeerToTargetMs: dist(peers.map((p) => (p.completeAt ?? NaN) - p.start)),
        joinMs: dist(peers.filter((p) => p.end).map((p) => p.end! - p.start)),
        degree: dist(degrees),
        knownPeers: dist(known),
        components: connectedComponents(peers),
        errors: [...new Set(peers.filter((p) => p.error).map((p) => p.error!))].slice(0, 5),
        usage,
        perPeer: {
          cpuSeconds: round(usage.cpuSeconds / args.n, 3),
          kiB: round(usage.loBytes / args.n / 1024),
          packets: round(usage.loPackets / args.n),
          lookups: round(sum((m) => m.stats.rendezvous.lookups), 2),
          recordsFetched: round(sum((m) => m.stats.rendezvous.recordsAccepted), 1),
          dialAttempts: round(sum((m) => m.stats.dialAttempts), 2),
          dialFailures: round(sum((m) => m.stats.dialFailures), 2),
        },
      };
    } finally {
      await leaveAll(peers);
      await boot.child.close();
    }
  },

  async records(
    args: { records: number; servers: number; caps?: boolean; enough?: number; timeoutMs: number },
  ) {
    const enough = args.enough ?? 8;
    const servers = new Child({
      name: "dht-servers",
      cmd: Deno.execPath(),
      args: ["run", "-A", new URL("./dht_servers.ts", import.meta.url).pathname],
    });
    const code = generateInvitationCode();
    try {
      const addresses = await servers.call<string[][]>(
        "start",
        { servers: args.servers, caps: args.caps !== false },
        120_000,
      );
      emit("progress", {
        message: `${args.servers} DHT servers up (${
          args.caps === false ? "no limits" : "default limits"
        }); sealing ${args.records} records`,
      });
      const populated = await servers.call<{ ms: number; recordBytes: number }>(
        "populate",
        { code, count: args.records },
        args.timeoutMs,
      );
      emit("progress", {
        message: `${args.records} records written in ${
          Math.round(populated.ms)
        } ms; newcomer looks up`,
      });
      await sleep(1000);
      const keys = await deriveTopicKeys(code);
      const privateKey = await generateKeyPair("Ed25519");
      const libp2p = await createParticipantLibp2p({ privateKey, rtcConfiguration: LOOPBACK_RTC });
      try {
        // The newcomer knows three servers, like a short bootstrap list.
        const meterAll = new Meter([servers.pid]);
        const tDial = performance.now();
        await Promise.allSettled(
          addresses.slice(0, 3).map((a) =>
            libp2p.dial(multiaddr(a.find((x) => !x.includes("/ws"))!))
          ),
        );
        const dialMs = performance.now() - tDial;
        // 1) The provider list alone.
        const meterProviders = new Meter([servers.pid]);
        const cid = await topicCid(keys.topicIdBytes);
        const tp = performance.now();
        let providers = 0;
        let firstProviderMs = NaN;
        for await (
          const _ of libp2p.contentRouting.findProviders(cid, {
            signal: AbortSignal.timeout(30_000),
          })
        ) {
          if (providers++ === 0) firstProviderMs = performance.now() - tp;
        }
        const providersMs = performance.now() - tp;
        const providerUsage = meterProviders.read();
        // 2) The newcomer's lookup of issue 11: `enough` verified entry points, then stop.
        const few = await measuredLookup(libp2p, privateKey, keys, servers.pid, enough);
        // 3) meshmeet's lookup as a newcomer ran it before issue 11 (and small meetings still
        // do): providers, then one DHT GET per provider answered, verify and decrypt (the
        // rendezvous bounds one lookup to 10 s). A fresh Rendezvous: nothing is known yet.
        const all = await measuredLookup(libp2p, privateKey, keys, servers.pid, undefined);
        const serverStats = await servers.call<Record<string, number>[]>("stats", {}, 30_000);
        const sumStat = (k: string) => serverStats.reduce((a, x) => a + (x[k] ?? 0), 0);
        return {
          records: args.records,
          servers: args.servers,
          caps: args.caps !== false,
          populateMs: Math.round(populated.ms),
          recordBytesEach: Math.round(populated.recordBytes / args.records),
          bootstrapDialMs: round(dialMs),
          providers: {
            found: providers,
            ms: round(providersMs),
            firstMs: round(firstProviderMs),
            kiB: round(providerUsage.loBytes / 1024),
            cpuSeconds: providerUsage.cpuSeconds,
          },
          entryPoints: { enough, ...few },
          lookup: all,
          serverStats: {
            providerAnswers: sumStat("providerAnswers"),
            providersLeftOut: sumStat("providersLeftOut"),
            providersEvicted: sumStat("providersEvicted"),
            recordsEvicted: sumStat("recordsEvicted"),
          },
          total: meterAll.read(),
        };
      } finally {
        await libp2p.stop();
      }
    } finally {
      await servers.close(20_000);
    }
  },
});
