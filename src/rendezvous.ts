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
 * This module runs the timers and publishes our record; the lookup itself is in
 * `rendezvous/lookup.ts`, the verification of records read in `rendezvous/presence_check.ts`,
 * the DHT keys in `rendezvous/keys.ts` and the options and counters in `rendezvous/types.ts`.
 *
 * @module
 */
import { InvalidRecordError } from "./errors.ts";
import { type Presence, sealPresence } from "./presence.ts";
import { RelayAddressWatcher } from "./relay_reservations.ts";
import {
  ANNOUNCE_EPOCH_MS,
  announcerDecision,
  ANNOUNCERS_TARGET,
} from "./rendezvous/announcers.ts";
import { presenceDhtKey, topicCid } from "./rendezvous/keys.ts";
import { type LookupContext, runLookup } from "./rendezvous/lookup.ts";
import { PresenceCheck } from "./rendezvous/presence_check.ts";
import {
  type LookupOptions,
  newRendezvousStats,
  type RendezvousInit,
  type RendezvousStats,
} from "./rendezvous/types.ts";

export { topicCid } from "./rendezvous/keys.ts";
export {
  ENOUGH_ENTRY_POINTS,
  type LookupOptions,
  type RendezvousInit,
  type RendezvousOptions,
  type RendezvousStats,
} from "./rendezvous/types.ts";

/**
 * Life of the record that withdraws ours as we leave: long enough to be stored, short enough
 * that DHT servers hand it out only when they lack fresh records.
 */
const WITHDRAWN_TTL_MS = 5_000;

/** Announces and discovers the participants of one meeting. */
export class Rendezvous {
  /** Counters. */
  readonly stats: RendezvousStats = newRendezvousStats();
  #init: RendezvousInit;
  #ttl: number;
  #minInterval: number;
  #maxInterval: number;
  #interval: number;
  #seq = 0;
  readonly #check: PresenceCheck;
  readonly #lookupContext: LookupContext;
  #ownRecord: Uint8Array | undefined;
  #lookupTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the last relay address change left us with none. */
  #relaysLost = false;
  #announceTimer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #lookupInFlight: Promise<number> | undefined;
  /** New participants found by the lookups so far. */
  #found = 0;
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
    this.#check = new PresenceCheck(init.keys, this.stats);
    this.#lookupContext = {
      init,
      check: this.#check,
      stats: this.stats,
      stopped: this.#controller.signal,
    };
    this.#relayWatcher = new RelayAddressWatcher({
      libp2p: init.libp2p,
      onChange: (addresses) => {
        init.log(`relay addresses changed (${addresses.length} addresses); re-announcing`);
        // Back on a relay after losing them all (a bootstrap outage, see bootstrap_keeper.ts):
        // members who joined meanwhile announced where we could not look; look now.
        const relayed = addresses.some((a) => a.includes("/p2p-circuit"));
        if (relayed && this.#relaysLost) this.wake();
        this.#relaysLost = !relayed;
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
    // at the same moment (and that peer us): the next one starts after it, at once if it
    // found nobody. If it found members, the links to them are being made right now, and
    // that dial is the join's critical path: the next lookup waits `minIntervalMs` (members
    // tell us about each other too). Right after, it took CPU from the first dial.
    const next = (found: number) => this.#schedule(found > 0 ? this.#minInterval : 0);
    if (this.#lookupInFlight) {
      void this.#lookupInFlight.catch(() => 0).then(() => next(this.#found));
    } else next(this.#found);
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
    const key = presenceDhtKey(keys, libp2p.peerId.toString());
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
    const presence = await this.#check.open(peerId, bytes);
    if (presence.info.left) {
      throw new InvalidRecordError(`Invalid record: ${peerId} has left the meeting`);
    }
    return presence;
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
      const key = presenceDhtKey(keys, libp2p.peerId.toString());
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
    this.#lookupInFlight ??= runLookup(this.#lookupContext, enough).then((found) => {
      this.#found += found;
      return found;
    }).finally(() => this.#lookupInFlight = undefined);
    return this.#lookupInFlight;
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
