/**
 * Part 6c: presence records on DHT servers and a newcomer's lookups. See `scale.ts`.
 *
 * @module
 */
import { deriveTopicKeys, generateInvitationCode, type PresenceInfo } from "../../mod.ts";
import { createParticipantLibp2p } from "../../src/node.ts";
import { Rendezvous, topicCid } from "../../src/rendezvous.ts";
import { createLogger } from "../../src/logger.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { Child, sleep } from "../_util.ts";
import { emit } from "./_serve.ts";
import { LOOPBACK_RTC, Meter, round } from "./_scale_common.ts";

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

/**
 * 6c: `records` presence records under one topic on `servers` DHT servers (a child
 * process); a newcomer's provider lookup, its lookup for `enough` entry points, and the
 * lookup that fetches every provider answered.
 */
export async function records(
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
}
