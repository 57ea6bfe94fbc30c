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
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { ParticipantLibp2p } from "./node.ts";
import { openPresence, type Presence, type PresenceInfo, sealPresence } from "./presence.ts";
import type { TopicKeys } from "./topic.ts";
import type { Logger } from "./logger.ts";
import { Limiter } from "./_limiter.ts";
import { RelayAddressWatcher } from "./relay_reservations.ts";

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
  /** Duration of the last lookup in ms. */
  lastLookupMs: number;
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
    lastLookupMs: 0,
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
  readonly #fetches = new Limiter(16);
  #controller = new AbortController();
  #relayWatcher: RelayAddressWatcher;

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
    this.#relayWatcher.start();
    await this.announce();
    this.#announceTimer = setInterval(() => {
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
    const key = new TextEncoder().encode(`/meshmeet/${keys.topicId}/${libp2p.peerId}`);
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
   * Run one lookup now.
   *
   * @returns How many new participants were found.
   */
  lookup(): Promise<number> {
    this.#lookupInFlight ??= this.#lookup().finally(() => this.#lookupInFlight = undefined);
    return this.#lookupInFlight;
  }

  async #lookup(): Promise<number> {
    const { libp2p, keys, log } = this.#init;
    const started = performance.now();
    const self = libp2p.peerId.toString();
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(10_000)]);
    const cid = await topicCid(keys.topicIdBytes);
    const fetches: Promise<boolean>[] = [];
    this.stats.lookups++;
    try {
      for await (const provider of libp2p.contentRouting.findProviders(cid, { signal })) {
        const id = provider.id.toString();
        if (id === self || this.#init.isKnown(id)) continue;
        // Bounded: with one GET per provider all at once, a lookup among 500 records got
        // about 35 of them before its timeout; 16 at a time gets all 500 (BENCHMARKS.md).
        fetches.push(this.#fetches.run(() => this.#fetch(id, signal), signal).catch(() => false));
      }
    } catch (err) {
      if (!this.#controller.signal.aborted) log(`lookup ended early: ${(err as Error).message}`);
    }
    const found = (await Promise.all(fetches)).filter(Boolean).length;
    this.stats.lastLookupMs = performance.now() - started;
    log(
      `lookup found ${found} new of ${fetches.length} in ${this.stats.lastLookupMs.toFixed(0)} ms`,
    );
    return found;
  }

  async #fetch(peerId: string, signal: AbortSignal): Promise<boolean> {
    const { libp2p, keys, log } = this.#init;
    const key = new TextEncoder().encode(`/meshmeet/${keys.topicId}/${peerId}`);
    let bytes: Uint8Array;
    try {
      bytes = await libp2p.contentRouting.get(key, { signal });
    } catch (err) {
      log(`no presence record for ${peerId}: ${(err as Error).message}`);
      return false;
    }
    const previous = this.#seen.get(peerId);
    try {
      const presence = await this.accept(peerId, bytes);
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
