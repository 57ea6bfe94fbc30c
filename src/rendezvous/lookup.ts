/**
 * The lookup of a rendezvous (requirements D2, D4): find the participants of a meeting in the
 * DHT and verify their presence records. A lookup for `enough` entry points asks connected
 * servers first (`entry_points.ts`), then the topic's providers, and stops once that many are
 * verified; the rendezvous (`../rendezvous.ts`) decides when lookups run.
 *
 * @module
 */
import { ENTRY_POINTS_ANSWERED, entryPointServers, fetchEntryPoints } from "./entry_points.ts";
import { presenceDhtKey, topicCid } from "./keys.ts";
import type { PresenceCheck } from "./presence_check.ts";
import type { RendezvousInit, RendezvousStats } from "./types.ts";

/** What a lookup uses of its rendezvous. */
export interface LookupContext {
  /** The node, the meeting's keys, the logger and the meeting's callbacks. */
  init: Pick<RendezvousInit, "libp2p" | "keys" | "log" | "isKnown" | "onPresence">;
  /** Verifies records and remembers each member's latest seq. */
  check: PresenceCheck;
  /** Where the lookup counters go. */
  stats: RendezvousStats;
  /** Aborted when the rendezvous stops. */
  stopped: AbortSignal;
}

/**
 * Run one lookup: servers' entry points first when `enough` is given, then the topic's
 * providers and one GET per provider not yet known (at most 16 at a time).
 *
 * @param ctx The rendezvous' node, callbacks, record check and counters.
 * @param enough Stop once this many new participants are verified (`undefined`: fetch the
 *   record of every provider answered).
 * @returns How many new participants were found.
 */
export async function runLookup(ctx: LookupContext, enough: number | undefined): Promise<number> {
  const { libp2p, keys, log } = ctx.init;
  const started = performance.now();
  const self = libp2p.peerId.toString();
  // Aborted once `enough` are verified: the provider query and the GETs still running stop.
  const done = new AbortController();
  const signal = AbortSignal.any([
    ctx.stopped,
    done.signal,
    AbortSignal.timeout(10_000),
  ]);
  const cid = await topicCid(keys.topicIdBytes);
  // Bounded: with one GET per provider all at once, a lookup among 500 records got about
  // 35 of them before its timeout; 16 at a time gets all 500 (BENCHMARKS.md). A lookup
  // for `enough` keeps at most `enough + 4` GETs verified or running, so that a stale entry
  // costs little time and a lookup among many providers fetches few of them.
  const bound = enough === undefined ? 16 : Math.min(16, enough + 4);
  const ceiling = enough === undefined ? Infinity : enough + 4;
  const queue: string[] = [];
  let found = 0;
  let fetched = 0;
  let running = 0;
  let providersDone = false;
  const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
  // Records already tried (from the servers' answers): not fetched again.
  const tried = new Set<string>([self]);
  const pump = (): void => {
    while (
      !done.signal.aborted && !signal.aborted && queue.length > 0 && running < bound &&
      found + running < ceiling
    ) {
      const id = queue.shift()!;
      running++;
      fetched++;
      void fetchPresence(ctx, id, signal).catch(() => false).then((isNew) => {
        running--;
        if (isNew && ++found >= (enough ?? Infinity)) done.abort();
        pump();
      });
    }
    const idle = queue.length === 0 || done.signal.aborted || signal.aborted;
    if (running === 0 && (providersDone || done.signal.aborted) && idle) finish();
  };
  ctx.stats.lookups++;
  ctx.stats.lastLookupServed = 0;
  if (enough !== undefined) {
    const served = await fromServers(ctx, enough, tried, signal);
    ctx.stats.lastLookupServed = served;
    found += served;
    if (found >= enough) done.abort();
  }
  try {
    if (done.signal.aborted) throw done.signal.reason;
    for await (const provider of libp2p.contentRouting.findProviders(cid, { signal })) {
      const id = provider.id.toString();
      if (tried.has(id) || ctx.init.isKnown(id)) continue;
      tried.add(id);
      queue.push(id);
      pump();
      if (done.signal.aborted) break;
    }
  } catch (err) {
    if (!ctx.stopped.aborted && !done.signal.aborted) {
      log(`lookup ended early: ${(err as Error).message}`);
    }
  }
  providersDone = true;
  pump();
  await finished;
  ctx.stats.lastLookupMs = performance.now() - started;
  ctx.stats.lastLookupFetches = fetched;
  log(
    `lookup found ${found} new of ${fetched} fetched (${fetched + queue.length} providers) in ${
      ctx.stats.lastLookupMs.toFixed(0)
    } ms${done.signal.aborted ? ` (stopped at enough = ${enough})` : ""}`,
  );
  return found;
}

/**
 * Ask up to three connected servers for entry points, in one round trip each, and verify
 * what they hand out.
 *
 * @returns How many new participants were verified.
 */
async function fromServers(
  ctx: LookupContext,
  enough: number,
  tried: Set<string>,
  signal: AbortSignal,
): Promise<number> {
  const { libp2p, keys, log } = ctx.init;
  const servers = (await entryPointServers(libp2p).catch(() => []))
    .sort(() => Math.random() - 0.5).slice(0, 3);
  const max = Math.min(ENTRY_POINTS_ANSWERED, enough + 4);
  const answers = await Promise.all(
    servers.map((server) =>
      fetchEntryPoints(
        libp2p,
        server,
        keys.topicId,
        max,
        AbortSignal.any([
          signal,
          AbortSignal.timeout(3000),
        ]),
      )
    ),
  );
  let found = 0;
  for (const { peerId, record } of answers.flat()) {
    if (found >= enough) break;
    if (tried.has(peerId) || ctx.init.isKnown(peerId)) continue;
    tried.add(peerId);
    const previous = ctx.check.lastSeq(peerId);
    try {
      const presence = await ctx.check.open(peerId, record);
      if (presence.info.left) continue; // it left: nothing to dial
      ctx.init.onPresence(presence);
      if (previous !== presence.record.seq) found++;
    } catch (err) {
      log(`rejected served record of ${peerId}: ${(err as Error).message}`);
    }
  }
  log(`${servers.length} servers handed out ${answers.flat().length} records, ${found} new`);
  return found;
}

/** Fetch and verify one member's record; whether it is new (not seen at this seq). */
async function fetchPresence(
  ctx: LookupContext,
  peerId: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { libp2p, keys, log } = ctx.init;
  const key = presenceDhtKey(keys, peerId);
  let bytes: Uint8Array;
  try {
    bytes = await libp2p.contentRouting.get(key, { signal });
  } catch (err) {
    log(`no presence record for ${peerId}: ${(err as Error).message}`);
    return false;
  }
  const previous = ctx.check.lastSeq(peerId);
  try {
    const presence = await ctx.check.open(peerId, bytes);
    if (presence.info.left) return false; // it left: nothing to dial
    ctx.init.onPresence(presence);
    return previous !== presence.record.seq;
  } catch (err) {
    log(`rejected record of ${peerId}: ${(err as Error).message}`);
    return false;
  }
}
