/**
 * Part 6a/6b at sizes beyond WebRTC in one process: discovery only, meshmeet's real
 * rendezvous on real participant nodes. See {@linkcode discovery} and `scale.ts`.
 *
 * @module
 */
import { deriveTopicKeys, generateInvitationCode, type PresenceInfo } from "../../mod.ts";
import { createParticipantLibp2p } from "../../src/node.ts";
import { Rendezvous } from "../../src/rendezvous.ts";
import { createLogger } from "../../src/logger.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { sleep } from "../_util.ts";
import { groupBootstrapAddresses } from "../../src/_bootstrap_addresses.ts";
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
export async function discovery(args: ScenarioArgs) {
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
