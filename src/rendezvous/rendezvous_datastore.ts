/**
 * The one place where a meshmeet DHT server bounds what it keeps and answers per key
 * (issue 11, part 4): a datastore wrapper given to the bootstrap node's libp2p, which its
 * kad-dht uses for provider entries and records.
 *
 * Why a datastore and not a kad-dht option: kad-dht 16.4.5 has no limit to configure. Its
 * `Providers` class writes one entry per provider under `/dht/provider/<cid>/<peer id>` and
 * `loadProviders()` reads every entry under the key's prefix, and the GET_PROVIDERS handler
 * answers with all of them, expired or not, each with its addresses
 * (`src/providers.ts`, `src/rpc/handlers/get-providers.ts`; `ProvidersInit` lists
 * `provideValidity` and `cacheSize` but `Providers` reads neither). The datastore query is
 * the only seam that every provider answer passes through, and `put` the only one every
 * stored provider entry and record passes through, so both limits live here:
 *
 * - a query for one key's providers (`{ prefix: "/dht/provider/<cid>" }`, as
 *   `loadProviders()` makes it) yields a fresh random subset of at most
 *   `providersAnswered` entries that are younger than `providerTtlMs`; expired ones are
 *   deleted on the way. Other queries (kad-dht's hourly sweep over all providers, the peer
 *   store) pass through untouched.
 * - a `put` of a provider entry beyond `providersKept` for its key deletes the oldest.
 * - a `put` of a presence record (`/dht/record/<base32 of /meshmeet/<topic id>/<peer id>>`)
 *   beyond `recordsKeptPerScope` records of its meeting deletes the oldest (entries already
 *   in a persistent store when the server started count as oldest). Other meshmeet records
 *   (`/meshmeet/peer/<peer id>`, see `peer_record.ts`) are not bounded.
 *
 * @module
 */
import type { Batch, Datastore, KeyQuery, Pair, Query } from "interface-datastore";
import { Key } from "interface-datastore";
import { base32 } from "multiformats/bases/base32";
import { Libp2pRecord } from "@libp2p/record";
import { RECORD_CLOCK_SKEW_MS, RECORD_NAMESPACE } from "../record.ts";
import { isTopicId } from "../topic.ts";
import type { EntryPointRecord, EntryPointSource } from "./entry_points.ts";
import {
  chooseProviders,
  entriesOverCap,
  type RendezvousLimits,
  type ResolvedRendezvousLimits,
  resolveRendezvousLimits,
} from "./limits.ts";

type AbortOptions = { signal?: AbortSignal };

/** kad-dht's default `datastorePrefix` (meshmeet does not change it). */
const DHT_PREFIX = "/dht";
const PROVIDER_PREFIX = `${DHT_PREFIX}/provider/`;
const RECORD_PREFIX = `${DHT_PREFIX}/record/`;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Counters of a {@linkcode RendezvousDatastore}. */
export interface RendezvousDatastoreStats {
  /** Provider answers made (queries for one key's providers). */
  providerAnswers: number;
  /** Providers left out of answers because of `providersAnswered`, summed over answers. */
  providersLeftOut: number;
  /** Provider entries deleted because their key had `providersKept` newer ones. */
  providersEvicted: number;
  /** Provider entries deleted because they were older than `providerTtlMs`. */
  providersExpired: number;
  /** Records deleted because their scope had `recordsKeptPerScope` newer ones. */
  recordsEvicted: number;
  /** meshmeet records deleted by {@linkcode RendezvousDatastore.sweepExpired}. */
  recordsExpired: number;
}

/** Options of {@linkcode RendezvousDatastore}. */
export interface RendezvousDatastoreInit extends RendezvousLimits {
  /**
   * The clock (ms).
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Random numbers in [0, 1) for the answered subsets.
   * @default {Math.random}
   */
  random?: () => number;
}

interface ProviderEntry {
  time: number;
  value: Uint8Array;
}

/** Decode kad-dht's provider time (an unsigned varint of ms since the epoch). */
function _readVarint(bytes: Uint8Array): number {
  let value = 0;
  let scale = 1;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value;
    scale *= 0x80;
  }
  return NaN;
}

/** `/dht/provider/<cid>/<peer id>` → its parts, or undefined for any other key. */
function _providerKey(key: string): { cid: string; peer: string } | undefined {
  if (!key.startsWith(PROVIDER_PREFIX)) return undefined;
  const rest = key.slice(PROVIDER_PREFIX.length).split("/");
  return rest.length === 2 && rest[0] && rest[1] ? { cid: rest[0], peer: rest[1] } : undefined;
}

/** `/dht/record/<base32 of /meshmeet/<scope>/<peer id>>` → its parts, else undefined. */
function _recordKey(key: string): { scope: string; peer: string } | undefined {
  if (!key.startsWith(RECORD_PREFIX)) return undefined;
  try {
    const parts = decoder.decode(base32.baseDecode(key.slice(RECORD_PREFIX.length))).split("/");
    // Only meetings' presence records (scope = a topic id) are bounded: `/meshmeet/peer/<id>`
    // (findPeer's records) share one scope across every meeting and stay unbounded.
    return parts.length === 4 && parts[0] === "" && parts[1] === RECORD_NAMESPACE &&
        isTopicId(parts[2])
      ? { scope: parts[2], peer: parts[3] }
      : undefined;
  } catch {
    return undefined; // not base32 or not UTF-8: some other record, not ours to bound
  }
}

function _recordScope(key: string): string | undefined {
  return _recordKey(key)?.scope;
}

/** The expiry of a meshmeet record (its header, unverified), or NaN. */
function _expiresAt(record: Uint8Array): number {
  if (record.length < 28 || record[0] !== 0x4d || record[1] !== 0x4d || record[2] !== 0x52) {
    return NaN;
  }
  return Number(new DataView(record.buffer, record.byteOffset, 28).getBigUint64(20));
}

/**
 * A datastore that bounds a DHT server's provider answers, provider entries and meshmeet
 * records per key (see the module documentation).
 */
export class RendezvousDatastore implements Datastore, EntryPointSource {
  /** The limits in force. */
  readonly limits: ResolvedRendezvousLimits;
  /** Counters. */
  readonly stats: RendezvousDatastoreStats = {
    providerAnswers: 0,
    providersLeftOut: 0,
    providersEvicted: 0,
    providersExpired: 0,
    recordsEvicted: 0,
    recordsExpired: 0,
  };
  readonly #inner: Datastore;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Per CID (base32 multihash): provider peer id → entry. Loaded from the store on first use. */
  readonly #providers = new Map<string, Promise<Map<string, ProviderEntry>>>();
  /** Per scope: datastore key → when stored. Loaded from the store once, on first use. */
  #records: Promise<Map<string, Map<string, number>>> | undefined;

  /**
   * @param inner Where everything is stored.
   * @param init Limits, clock and random source.
   * @throws {RangeError} When a limit is invalid.
   */
  constructor(inner: Datastore, init: RendezvousDatastoreInit = {}) {
    this.#inner = inner;
    this.limits = resolveRendezvousLimits(init);
    this.#now = init.now ?? Date.now;
    this.#random = init.random ?? Math.random;
  }

  /** The wrapped datastore. */
  get inner(): Datastore {
    return this.#inner;
  }

  #providerIndex(cid: string, options?: AbortOptions): Promise<Map<string, ProviderEntry>> {
    let index = this.#providers.get(cid);
    if (index === undefined) {
      index = (async () => {
        const map = new Map<string, ProviderEntry>();
        const prefix = `${PROVIDER_PREFIX}${cid}/`;
        for await (const { key, value } of this.#inner.query({ prefix }, options)) {
          const parsed = _providerKey(key.toString());
          if (parsed) map.set(parsed.peer, { time: _readVarint(value), value });
        }
        return map;
      })();
      // A failed load (aborted) is retried by the next caller.
      index.catch(() => this.#providers.delete(cid));
      this.#providers.set(cid, index);
    }
    return index;
  }

  #recordIndex(options?: AbortOptions): Promise<Map<string, Map<string, number>>> {
    if (this.#records === undefined) {
      this.#records = (async () => {
        const scopes = new Map<string, Map<string, number>>();
        for await (const key of this.#inner.queryKeys({ prefix: RECORD_PREFIX }, options)) {
          const scope = _recordScope(key.toString());
          if (scope === undefined) continue;
          if (!scopes.has(scope)) scopes.set(scope, new Map());
          scopes.get(scope)!.set(key.toString(), 0);
        }
        return scopes;
      })();
      this.#records.catch(() => this.#records = undefined);
    }
    return this.#records;
  }

  /**
   * Store a value; provider entries and meshmeet records beyond their caps push out the oldest.
   *
   * @param key The key.
   * @param value The value.
   * @param options Abort signal.
   * @returns The key.
   */
  async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const name = key.toString();
    const provider = _providerKey(name);
    if (provider) {
      const index = await this.#providerIndex(provider.cid, options);
      await this.#inner.put(key, value, options);
      index.set(provider.peer, { time: _readVarint(value), value });
      if (index.size <= this.limits.providersKept) return key;
      const over = entriesOverCap(
        [...index].map(([id, e]) => ({ id, time: e.time })),
        this.limits.providersKept,
      );
      for (const peer of over) {
        index.delete(peer);
        await this.#inner.delete(new Key(`${PROVIDER_PREFIX}${provider.cid}/${peer}`), options);
      }
      this.stats.providersEvicted += over.length;
      return key;
    }
    const scope = _recordScope(name);
    if (scope !== undefined) {
      const scopes = await this.#recordIndex(options);
      await this.#inner.put(key, value, options);
      let index = scopes.get(scope);
      if (index === undefined) scopes.set(scope, index = new Map());
      index.set(name, this.#now());
      if (index.size <= this.limits.recordsKeptPerScope) return key;
      const over = entriesOverCap(
        [...index].map(([id, time]) => ({ id, time })),
        this.limits.recordsKeptPerScope,
      );
      for (const old of over) {
        index.delete(old);
        await this.#inner.delete(new Key(old, false), options);
      }
      this.stats.recordsEvicted += over.length;
      return key;
    }
    await this.#inner.put(key, value, options);
    return key;
  }

  /**
   * Delete a value (and forget it in the indexes).
   *
   * @param key The key.
   * @param options Abort signal.
   */
  async delete(key: Key, options?: AbortOptions): Promise<void> {
    const name = key.toString();
    const provider = _providerKey(name);
    if (provider) (await this.#providers.get(provider.cid))?.delete(provider.peer);
    const scope = _recordScope(name);
    if (scope !== undefined && this.#records) (await this.#records).get(scope)?.delete(name);
    await this.#inner.delete(key, options);
  }

  /**
   * Read a value.
   *
   * @param key The key.
   * @param options Abort signal.
   * @returns The value.
   */
  get(key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.#inner.get(key, options);
  }

  /**
   * Whether a key is stored.
   *
   * @param key The key.
   * @param options Abort signal.
   * @returns Whether it is.
   */
  has(key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.#inner.has(key, options);
  }

  /**
   * Store many values (each as {@linkcode put}).
   *
   * @param source The pairs.
   * @param options Abort signal.
   * @returns The keys stored.
   */
  async *putMany(
    source: Iterable<Pair> | AsyncIterable<Pair>,
    options?: AbortOptions,
  ): AsyncGenerator<Key> {
    for await (const { key, value } of source) yield await this.put(key, value, options);
  }

  /**
   * Read many values.
   *
   * @param source The keys.
   * @param options Abort signal.
   * @returns The pairs.
   */
  getMany(
    source: Iterable<Key> | AsyncIterable<Key>,
    options?: AbortOptions,
  ): Generator<Pair> | AsyncGenerator<Pair> {
    return this.#inner.getMany(source, options);
  }

  /**
   * Delete many values (each as {@linkcode delete}).
   *
   * @param source The keys.
   * @param options Abort signal.
   * @returns The keys deleted.
   */
  async *deleteMany(
    source: Iterable<Key> | AsyncIterable<Key>,
    options?: AbortOptions,
  ): AsyncGenerator<Key> {
    for await (const key of source) {
      await this.delete(key, options);
      yield key;
    }
  }

  /**
   * A batch whose puts and deletes go through {@linkcode put} and {@linkcode delete}.
   *
   * @returns The batch.
   */
  batch(): Batch {
    const ops: Array<{ key: Key; value?: Uint8Array }> = [];
    return {
      put: (key, value) => void ops.push({ key, value }),
      delete: (key) => void ops.push({ key }),
      commit: async (options?: AbortOptions) => {
        for (const { key, value } of ops.splice(0)) {
          if (value === undefined) await this.delete(key, options);
          else await this.put(key, value, options);
        }
      },
    };
  }

  /**
   * Query the store. A query for one key's providers (kad-dht's `loadProviders()`)
   * yields a random subset of the fresh ones; every other query passes through.
   *
   * @param query The query.
   * @param options Abort signal.
   * @returns The pairs.
   */
  query(query: Query, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    const prefix = query.prefix?.replace(/\/$/, "");
    const cid = prefix?.startsWith(PROVIDER_PREFIX)
      ? prefix.slice(PROVIDER_PREFIX.length)
      : undefined;
    const plain = query.filters === undefined && query.orders === undefined &&
      query.limit === undefined && query.offset === undefined;
    if (cid === undefined || cid.length === 0 || cid.includes("/") || !plain) {
      return this.#inner.query(query, options);
    }
    return this.#answerProviders(cid, options);
  }

  async *#answerProviders(cid: string, options?: AbortOptions): AsyncGenerator<Pair> {
    const index = await this.#providerIndex(cid, options);
    const { answer, expired } = chooseProviders(
      [...index].map(([id, e]) => ({ id, time: e.time })),
      {
        cap: this.limits.providersAnswered,
        ttlMs: this.limits.providerTtlMs,
        now: this.#now(),
        random: this.#random,
      },
    );
    const chosen = answer.map((peer) => ({ peer, entry: index.get(peer)! }));
    for (const peer of expired) {
      index.delete(peer);
      await this.#inner.delete(new Key(`${PROVIDER_PREFIX}${cid}/${peer}`), options);
    }
    this.stats.providersExpired += expired.length;
    this.stats.providerAnswers++;
    this.stats.providersLeftOut += index.size - answer.length;
    for (const { peer, entry } of chosen) {
      yield { key: new Key(`${PROVIDER_PREFIX}${cid}/${peer}`), value: entry.value };
    }
  }

  /**
   * Up to `max` presence records of one meeting, for the entry-points protocol
   * (`entry_points.ts`): a random subset, records that have not expired (by this server's
   * clock) first, then ones expired less than {@linkcode RECORD_CLOCK_SKEW_MS} ago.
   *
   * @param scope The meeting's topic id.
   * @param max How many at most.
   * @returns Peer ids and record bytes (unverified: readers verify).
   */
  async sampleRecords(scope: string, max: number): Promise<EntryPointRecord[]> {
    const index = (await this.#recordIndex()).get(scope);
    if (!index || max < 1) return [];
    const keys = [...index.keys()];
    const now = this.#now();
    const fresh: EntryPointRecord[] = [];
    const stale: EntryPointRecord[] = [];
    for (let i = 0; i < keys.length && fresh.length < max; i++) {
      const j = i + Math.floor(this.#random() * (keys.length - i));
      [keys[i], keys[j]] = [keys[j], keys[i]];
      const parsed = _recordKey(keys[i]);
      let record: Uint8Array;
      try {
        record = Libp2pRecord.deserialize(await this.#inner.get(new Key(keys[i], false))).value;
      } catch {
        continue; // deleted meanwhile, or not a libp2p record
      }
      const expiresAt = _expiresAt(record);
      if (!parsed || !Number.isFinite(expiresAt)) continue;
      const entry = { peerId: parsed.peer, record };
      if (expiresAt > now) fresh.push(entry);
      else if (expiresAt + RECORD_CLOCK_SKEW_MS > now && stale.length < max) stale.push(entry);
    }
    return [...fresh, ...stale].slice(0, max);
  }

  /**
   * Delete the meshmeet records (presence and peer records) that expired more than
   * {@linkcode RECORD_CLOCK_SKEW_MS} ago, which no reader accepts any more, and forget the
   * indexes of meetings that have nothing left. kad-dht 16.4.5 never deletes a stored record
   * (it checks records when they are read), so without this a server kept one per join for
   * good (`bench/probes/peer_store_growth.ts --joins`). Records that are not meshmeet's stay.
   *
   * @param options Abort signal.
   * @returns How many records were deleted.
   */
  async sweepExpired(options?: AbortOptions): Promise<number> {
    const now = this.#now();
    const expired: Key[] = [];
    for await (const { key, value } of this.#inner.query({ prefix: RECORD_PREFIX }, options)) {
      let expiresAt = NaN;
      try {
        expiresAt = _expiresAt(Libp2pRecord.deserialize(value).value);
      } catch {
        // not a libp2p record: not ours to judge
      }
      if (expiresAt + RECORD_CLOCK_SKEW_MS < now) expired.push(key);
    }
    for (const key of expired) await this.delete(key, options);
    this.stats.recordsExpired += expired.length;
    if (this.#records) {
      const scopes = await this.#records;
      for (const [scope, index] of scopes) if (index.size === 0) scopes.delete(scope);
    }
    for (const [cid, index] of this.#providers) {
      if ((await index.catch(() => undefined))?.size === 0) this.#providers.delete(cid);
    }
    return expired.length;
  }

  /**
   * Query keys (passes through).
   *
   * @param query The query.
   * @param options Abort signal.
   * @returns The keys.
   */
  queryKeys(query: KeyQuery, options?: AbortOptions): Generator<Key> | AsyncGenerator<Key> {
    return this.#inner.queryKeys(query, options);
  }
}
