/**
 * Part 6a and 6b with real meetings: every participant is a real `joinMeeting()` with
 * WebRTC on loopback, all in this process. See `scale.ts`.
 *
 * @module
 */
import { generateInvitationCode, joinMeeting, type Meeting } from "../../mod.ts";
import { sleep } from "../_util.ts";
import { emit } from "./_serve.ts";
import {
  dist,
  LOOPBACK_RTC,
  Meter,
  paced,
  round,
  roundRobin,
  type ScenarioArgs,
  settle,
  startBoot,
} from "./_scale_common.ts";

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

/**
 * 6a: `meetings` concurrent meetings of `peers` peers, all in this process with real
 * WebRTC; time until every peer has its whole meeting, and the isolation check.
 */
export async function meetings(args: ScenarioArgs) {
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
}

/**
 * 6b: one meeting of `n` peers over the overlay; converged when every peer's roster holds
 * all others; degree, components of the link graph, traffic and CPU per peer.
 */
export async function bigMeeting(
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
}
