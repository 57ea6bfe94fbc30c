/**
 * Rendezvous through the DHT (requirements D2, D4, D7, S3): announce ourselves under the
 * meeting's topic, look the topic up, and fetch, verify and decrypt the presence records
 * of the peers found.
 *
 * - Announce: a provider record for the topic's CID (so the topic can be enumerated) and
 *   our signed, encrypted presence record under `/meshmeet/<topic id>/<peer id>`.
 *   Both are renewed every `ttlMs / 3`, and at once when our relay addresses change (a
 *   relay died or a new reservation was made; see `relay_reservations.ts`).
 * - Lookup: `findProviders`, then one DHT GET per provider not yet known. The lookup
 *   repeats with exponential backoff (from `minIntervalMs` to `maxIntervalMs`) and resets
 *   when something changes; while the meeting has its target number of peers it slows to
 *   `maxIntervalMs`. Newcomers find everyone with their own first lookup and knock (see
 *   `meeting.ts`), so existing members need not poll fast: this avoids the O(N²)
 *   everyone-polls-everyone pattern measured in LAB.md.
 * - At scale (issue 11): DHT servers answer at most 64 random fresh providers per key
 *   (`rendezvous/rendezvous_datastore.ts`); a lookup asked for `enough` entry points first
 *   asks the connected servers for a few records in one round trip each
 *   (`rendezvous/entry_points.ts`), then falls back to providers and GETs, and stops once
 *   it has verified that many; in a meeting larger than `announcers` only a
 *   rotating subset of about that many members announces in each epoch
 *   (`rendezvous/announcers.ts`; the meeting's size comes from `rosterSize`).
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { InvalidRecordError } from "./errors.ts";
import type { ParticipantLibp2p } from "./node.ts";
import {
  openPresence,
  type Presence,
  type PresenceInfo,
  presenceKey,
  sealPresence,
} from "./presence.ts";
import type { TopicKeys } from "./topic.ts";
import type { Logger } from "./logger.ts";
import { RelayAddressWatcher } from "./relay_reservations.ts";
import {
  ANNOUNCE_EPOCH_MS,
  announcerDecision,
  ANNOUNCERS_TARGET,
} from "./rendezvous/announcers.ts";
import {
  ENTRY_POINTS_ANSWERED,
  entryPointServers,
  fetchEntryPoints,
} from "./rendezvous/entry_points.ts";

/** How many verified entry points a newcomer of a large meeting needs from the DHT. */
export const ENOUGH_ENTRY_POINTS = 8;

/**
 * Life of the record that withdraws ours as we leave: long enough to be stored, short enough
 * that DHT servers hand it out only when they lack fresh records.
 */
const WITHDRAWN_TTL_MS = 5_000;

/** The DHT key of a member's presence record, as bytes (`presenceKey()`). */
function _dhtKey(keys: TopicKeys, peerId: string): Uint8Array {
  return new TextEncoder().encode(presenceKey(keys, peerId));
}

/** Timers of the rendezvous. */
export interface RendezvousOptions {
  /**
   * Lifetime of our presence record.
   * @default {60_000}
   */
  ttlMs?: number;
  /**
   * First lookup interval.
   * @default {500}
   */
  minIntervalMs?: number;
  /**
   * Longest lookup interval.
   * @default {30_000}
   */
  maxIntervalMs?: number;
  /**
   * Members that announce in one epoch of a meeting larger than this (see
   * `rendezvous/announcers.ts`); everyone announces in a smaller meeting.
   * @default {32}
   */
  announcers?: number;
  /**
   * Length of one announcer epoch in ms (a newcomer announces throughout its first).
   * @default {60_000}
   */
  announceEpochMs?: number;
  /**
   * Stop a lookup once this many new participants are verified (lookups that are not given
   * their own `enough`); `undefined` fetches the record of every provider answered.
   * @default {undefined}
   */
  lookupEnough?: number;
}

/** Options of one {@linkcode Rendezvous.lookup}. */
export interface LookupOptions {
  /**
   * Stop once this many new participants are verified (e.g. {@linkcode ENOUGH_ENTRY_POINTS}
   * for a newcomer of a large meeting, whose roster then comes through the mesh).
   * @default {the rendezvous' `lookupEnough`: every provider answered}
   */
  enough?: number;
}

/** Counters of the rendezvous. */
export interface RendezvousStats {
  /** Lookups run. */
  lookups: number;
  /** Records fetched and accepted. */
  recordsAccepted: number;
  /** Records rejected (forged, stale, replayed, undecryptable). */
  recordsRejected: number;
  /** Announcements made. */
  announcements: number;
  /** Announcement rounds skipped because this member was not an announcer of the epoch. */
  announcementsSkipped: number;
  /** Duration of the last lookup in ms. */
  lastLookupMs: number;
  /** Presence records the last lookup started to fetch (DHT GETs). */
  lastLookupFetches: number;
  /** New participants the last lookup verified from servers' entry-point answers. */
  lastLookupServed: number;
}

/** Everything the rendezvous needs. */
export interface RendezvousInit extends RendezvousOptions {
  /** The participant's node. */
  libp2p: ParticipantLibp2p;
  /** The meeting's keys. */
  keys: TopicKeys;
  /** The participant's key (signs the presence record). */
  privateKey: PrivateKey;
  /** What to announce (called before each announcement). */
  selfInfo: () => PresenceInfo;
  /** A verified presence of another participant. */
  onPresence: (presence: Presence) => void;
  /** Whether the meeting wants more peers (false slows the lookups down). */
  wantMore: () => boolean;
  /** Whether a peer is already handled (its record need not be fetched). */
  isKnown: (peerId: string) => boolean;
  /**
   * How many members the meeting has, itself included (decides whether this member is an
   * announcer; see `rendezvous/announcers.ts`).
   * @default {() => 1 (everyone announces, as in a small meeting)}
   */
  rosterSize?: () => number;
  /**
   * The clock of the announcer choice (ms).
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * When this member joined (ms, same clock): it announces throughout its first epoch.
   * @default {when start() is called}
   */
  joinedAt?: number;
  /** Logger. */
  log: Logger;
}

/**
 * The CID under which a topic's participants are providers.
 *
 * @param topicIdBytes The topic id.
 * @returns CIDv1, raw codec, SHA-256 of the topic id.
 *
 * @example
 * ```ts ignore
 * const cid = await topicCid(keys.topicIdBytes);
 * ```
 */
export async function topicCid(topicIdBytes: Uint8Array): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(topicIdBytes));
}

/** Announces and discovers the participants of one meeting. */
export class Rendezvous {
  /** Counters. */
  readonly stats: RendezvousStats = {
    lookups: 0,
    recordsAccepted: 0,
    recordsRejected: 0,
    announcements: 0,
    announcementsSkipped: 0,
    lastLookupMs: 0,
    lastLookupFetches: 0,
    lastLookupServed: 0,
  };
  #init: RendezvousInit;
  #ttl: number;
  #minInterval: number;
  #maxInterval: number;
  #interval: number;
  #seq = 0;
  #seen = new Map<string, number>();
  #ownRecord: Uint8Array | undefined;
  #lookupTimer: ReturnType<typeof setTimeout> | undefined;
  #announceTimer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #lookupInFlight: Promise<number> | undefined;
  #controller = new AbortController();
  #relayWatcher: RelayAddressWatcher;
  #startedAt = 0;

  /** @param init Node, keys, callbacks and timers. */
  constructor(init: RendezvousInit) {
    this.#init = init;
    this.#ttl = init.ttlMs ?? 60_000;
    this.#minInterval = init.minIntervalMs ?? 500;
    this.#maxInterval = init.maxIntervalMs ?? 30_000;
    this.#interval = this.#minInterval;
    this.#relayWatcher = new RelayAddressWatcher({
      libp2p: init.libp2p,
      onChange: (addresses) => {
        init.log(`relay addresses changed (${addresses.length} addresses); re-announcing`);
        return this.announce().catch((err) => init.log.error("re-announce failed", err));
      },
    });
  }

  /** How many times our relay addresses changed (each time followed by an announcement). */
  get relayChanges(): number {
    return this.#relayWatcher.changes;
  }

  /** Our latest presence record (signed, encrypted), once announced. */
  get ownRecord(): Uint8Array | undefined {
    return this.#ownRecord;
  }

  /**
   * Announce, then look up; keep doing both on their timers until {@linkcode stop}.
   *
   * @returns Resolves after the first announcement.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.#init.joinedAt ?? (this.#init.now ?? Date.now)();
    this.#relayWatcher.start();
    await this.announce();
    this.#announceTimer = setInterval(() => {
      if (!this.isAnnouncer()) {
        this.stats.announcementsSkipped++;
        return;
      }
      void this.announce().catch((err) => this.#init.log.error("re-announce failed", err));
    }, Math.max(1000, this.#ttl / 3));
    // A lookup that started before the announcement may have missed a peer that announced
    // at the same moment (and that peer us): the next one starts after it.
    if (this.#lookupInFlight) {
      void this.#lookupInFlight.catch(() => 0).then(() => this.#schedule(0));
    } else this.#schedule(0);
  }

  /** Stop all timers and queries. Idempotent. */
  stop(): void {
    this.#running = false;
    this.#relayWatcher.stop();
    this.#controller.abort();
    clearTimeout(this.#lookupTimer);
    clearInterval(this.#announceTimer);
  }

  /**
   * Whether this member keeps its DHT entries fresh now: always in a meeting of up to
   * `announcers` members and during its first epoch, else when chosen for the epoch.
   *
   * @returns Whether the next announcement round announces.
   */
  isAnnouncer(): boolean {
    const now = (this.#init.now ?? Date.now)();
    return announcerDecision({
      selfId: this.#init.libp2p.peerId.toString(),
      rosterSize: this.#init.rosterSize?.() ?? 1,
      now,
      joinedAt: this.#init.joinedAt ?? (this.#running ? this.#startedAt : now),
      target: this.#init.announcers ?? ANNOUNCERS_TARGET,
      epochMs: this.#init.announceEpochMs ?? ANNOUNCE_EPOCH_MS,
    }).announce;
  }

  /** Look up again soon (something changed, e.g. a peer left). */
  wake(): void {
    this.#interval = this.#minInterval;
    if (this.#running && this.#lookupInFlight === undefined) this.#schedule(this.#minInterval);
  }

  /**
   * Make our presence record (without publishing it), e.g. to hand it to a peer directly.
   *
   * @returns The record bytes.
   */
  async sealOwnRecord(): Promise<Uint8Array> {
    this.#seq = Math.max(this.#seq + 1, Date.now());
    this.#relayWatcher.seen(this.#init.libp2p.getMultiaddrs().map(String));
    const { bytes } = await sealPresence(
      this.#init.keys,
      this.#init.privateKey,
      this.#init.selfInfo(),
      {
        seq: this.#seq,
        ttlMs: this.#ttl,
      },
    );
    this.#ownRecord = bytes;
    return bytes;
  }

  /**
   * Publish our presence record and provider record now.
   *
   * @returns Resolves when both were stored (on at least one DHT server).
   */
  async announce(): Promise<void> {
    const { libp2p, keys } = this.#init;
    const bytes = await this.sealOwnRecord();
    const key = _dhtKey(keys, libp2p.peerId.toString());
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(10_000)]);
    const cid = await topicCid(keys.topicIdBytes);
    await Promise.all([
      libp2p.contentRouting.put(key, bytes, { signal }),
      libp2p.contentRouting.provide(cid, { signal }),
    ]);
    this.stats.announcements++;
    this.#init.log(`announced seq ${this.#seq} under topic ${keys.topicId.slice(0, 12)}`);
  }

  /**
   * Verify a presence record handed to us directly (a knock), with the same rules as
   * records fetched from the DHT.
   *
   * @param peerId Whose record it claims to be (authenticated by the connection).
   * @param bytes The record.
   * @returns The presence.
   * @throws {InvalidRecordError} When it does not verify.
   */
  async accept(peerId: string, bytes: Uint8Array): Promise<Presence> {
    const presence = await this.#open(peerId, bytes);
    if (presence.info.left) {
      throw new InvalidRecordError(`Invalid record: ${peerId} has left the meeting`);
    }
    return presence;
  }

  /** Verify a record (any: one saying its member left counts too, for the replay check). */
  async #open(peerId: string, bytes: Uint8Array): Promise<Presence> {
    try {
      const presence = await openPresence(this.#init.keys, peerId, bytes, {
        minSeq: this.#seen.get(peerId),
      });
      this.#seen.set(peerId, presence.record.seq);
      this.stats.recordsAccepted++;
      return presence;
    } catch (err) {
      this.stats.recordsRejected++;
      throw err;
    }
  }

  /**
   * Withdraw our presence record as we leave, best effort within `budgetMs`: publish one
   * that says we left, with a higher sequence number (it replaces ours on the DHT servers)
   * and a short life (so servers hand it out only when they lack fresh records). Without it
   * our record would stay for up to `ttlMs` and newcomers would dial us in vain (issue 12:
   * in a meeting with churn, a newcomer's entry points were mostly members that had left).
   *
   * @param budgetMs How long to try.
   */
  async withdraw(budgetMs: number): Promise<void> {
    if (this.#ownRecord === undefined) return; // never announced
    const { libp2p, keys, log } = this.#init;
    const self = this.#init.selfInfo();
    this.#seq = Math.max(this.#seq + 1, Date.now());
    try {
      const { bytes } = await sealPresence(keys, this.#init.privateKey, {
        peerId: self.peerId,
        name: self.name,
        joinedAt: self.joinedAt,
        addresses: [],
        left: true,
      }, { seq: this.#seq, ttlMs: WITHDRAWN_TTL_MS });
      const key = _dhtKey(keys, libp2p.peerId.toString());
      await libp2p.contentRouting.put(key, bytes, { signal: AbortSignal.timeout(budgetMs) });
      log(`withdrew our record (seq ${this.#seq})`);
    } catch (err) {
      log(`could not withdraw our record: ${(err as Error).message}`);
    }
  }

  /**
   * Run one lookup now (or join the one in flight).
   *
   * @param options `enough`: stop once that many new participants are verified.
   * @returns How many new participants were found.
   * @throws {RangeError} When `enough` is not a positive integer.
   */
  lookup(options: LookupOptions = {}): Promise<number> {
    const enough = options.enough ?? this.#init.lookupEnough;
    if (enough !== undefined && (!Number.isSafeInteger(enough) || enough < 1)) {
      return Promise.reject(
        new RangeError(`Cannot look up: enough is ${enough}; use a positive integer`),
      );
    }
    this.#lookupInFlight ??= this.#lookup(enough).finally(() => this.#lookupInFlight = undefined);
    return this.#lookupInFlight;
  }

  async #lookup(enough: number | undefined): Promise<number> {
    const { libp2p, keys, log } = this.#init;
    const started = performance.now();
    const self = libp2p.peerId.toString();
    // Aborted once `enough` are verified: the provider query and the GETs still running stop.
    const done = new AbortController();
    const signal = AbortSignal.any([
      this.#controller.signal,
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
        void this.#fetch(id, signal).catch(() => false).then((isNew) => {
          running--;
          if (isNew && ++found >= (enough ?? Infinity)) done.abort();
          pump();
        });
      }
      const idle = queue.length === 0 || done.signal.aborted || signal.aborted;
      if (running === 0 && (providersDone || done.signal.aborted) && idle) finish();
    };
    this.stats.lookups++;
    this.stats.lastLookupServed = 0;
    if (enough !== undefined) {
      const served = await this.#fromServers(enough, tried, signal);
      this.stats.lastLookupServed = served;
      found += served;
      if (found >= enough) done.abort();
    }
    try {
      if (done.signal.aborted) throw done.signal.reason;
      for await (const provider of libp2p.contentRouting.findProviders(cid, { signal })) {
        const id = provider.id.toString();
        if (tried.has(id) || this.#init.isKnown(id)) continue;
        tried.add(id);
        queue.push(id);
        pump();
        if (done.signal.aborted) break;
      }
    } catch (err) {
      if (!this.#controller.signal.aborted && !done.signal.aborted) {
        log(`lookup ended early: ${(err as Error).message}`);
      }
    }
    providersDone = true;
    pump();
    await finished;
    this.stats.lastLookupMs = performance.now() - started;
    this.stats.lastLookupFetches = fetched;
    log(
      `lookup found ${found} new of ${fetched} fetched (${fetched + queue.length} providers) in ${
        this.stats.lastLookupMs.toFixed(0)
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
  async #fromServers(enough: number, tried: Set<string>, signal: AbortSignal): Promise<number> {
    const { libp2p, keys, log } = this.#init;
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
      if (tried.has(peerId) || this.#init.isKnown(peerId)) continue;
      tried.add(peerId);
      const previous = this.#seen.get(peerId);
      try {
        const presence = await this.#open(peerId, record);
        if (presence.info.left) continue; // it left: nothing to dial
        this.#init.onPresence(presence);
        if (previous !== presence.record.seq) found++;
      } catch (err) {
        log(`rejected served record of ${peerId}: ${(err as Error).message}`);
      }
    }
    log(`${servers.length} servers handed out ${answers.flat().length} records, ${found} new`);
    return found;
  }

  async #fetch(peerId: string, signal: AbortSignal): Promise<boolean> {
    const { libp2p, keys, log } = this.#init;
    const key = _dhtKey(keys, peerId);
    let bytes: Uint8Array;
    try {
      bytes = await libp2p.contentRouting.get(key, { signal });
    } catch (err) {
      log(`no presence record for ${peerId}: ${(err as Error).message}`);
      return false;
    }
    const previous = this.#seen.get(peerId);
    try {
      const presence = await this.#open(peerId, bytes);
      if (presence.info.left) return false; // it left: nothing to dial
      this.#init.onPresence(presence);
      return previous !== presence.record.seq;
    } catch (err) {
      log(`rejected record of ${peerId}: ${(err as Error).message}`);
      return false;
    }
  }

  #schedule(delay: number): void {
    clearTimeout(this.#lookupTimer);
    if (!this.#running) return;
    this.#lookupTimer = setTimeout(async () => {
      const found = await this.lookup().catch(() => 0);
      if (!this.#running) return;
      // Back off while nothing new turns up. Finding someone keeps the pace instead of going
      // back to the fastest: in a growing meeting newcomers knock on us anyway, and every
      // lookup at 0.5 s costs every member DHT traffic (`wake()` still resets it).
      if (found === 0) this.#interval = Math.min(this.#maxInterval, this.#interval * 2);
      this.#schedule(this.#init.wantMore() ? this.#interval : this.#maxInterval);
    }, delay);
  }
}
