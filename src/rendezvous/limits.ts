/**
 * What a meshmeet DHT server keeps and answers per key (issue 11, part 4): the pure
 * decisions behind {@linkcode RendezvousDatastore}, free of I/O so that they can be tested
 * with a fixed clock and a fixed random source.
 *
 * Why: kad-dht 16.4.5 keeps every provider of a key and hands all of them out, with their
 * addresses, in every GET_PROVIDERS answer (`src/providers.ts` `loadProviders`,
 * `src/rpc/handlers/get-providers.ts`), and never leaves an expired one out of an answer
 * (its reprovider deletes expired entries once an hour, after 48 h by default). With 10,000
 * participants under one topic every answer carried ~1.8 MB and a newcomer found nobody
 * (BENCHMARKS.md 6c). go-libp2p-kad-dht trims provider answers to fit its message limit,
 * in random order; hyperdht answers at most 20 records per reply.
 *
 * @module
 */

/** Providers in one GET_PROVIDERS answer (a fresh random subset each time). */
export const PROVIDERS_ANSWERED = 64;
/** Providers a server keeps per key; a new one beyond it replaces the oldest. */
export const PROVIDERS_KEPT = 256;
/**
 * How long a provider entry is answered after its last announcement (server clock).
 * Participants announce every `ttlMs / 3` (20 s by default) while they are announcers
 * (see `announcers.ts`): an entry older than this belongs to a participant that left or
 * handed announcing over to others.
 */
export const PROVIDER_TTL_MS = 5 * 60 * 1000;
/** Presence records a server keeps per meeting (`/meshmeet/<topic id>/…`); the oldest go. */
export const RECORDS_KEPT_PER_SCOPE = 512;

/** The limits of a meshmeet DHT server. */
export interface RendezvousLimits {
  /**
   * Providers in one GET_PROVIDERS answer.
   * @default {64}
   */
  providersAnswered?: number;
  /**
   * Providers kept per key.
   * @default {256}
   */
  providersKept?: number;
  /**
   * How long a provider entry counts after its last announcement, in ms.
   * @default {300_000}
   */
  providerTtlMs?: number;
  /**
   * Presence records kept per meeting (records under `/meshmeet/<scope>/<peer id>`).
   * @default {512}
   */
  recordsKeptPerScope?: number;
}

/** {@linkcode RendezvousLimits} with every default filled in. */
export type ResolvedRendezvousLimits = Required<RendezvousLimits>;

/**
 * Fill in the defaults of {@linkcode RendezvousLimits} and check them.
 *
 * @param limits What the operator set.
 * @returns Every limit.
 * @throws {RangeError} When a limit is not a positive integer, or fewer providers are kept
 *   than answered.
 *
 * @example
 * ```ts
 * import { resolveRendezvousLimits } from "@meshmeet/core";
 * resolveRendezvousLimits({ providersAnswered: 32 }).providersKept; // 256
 * ```
 */
export function resolveRendezvousLimits(limits: RendezvousLimits = {}): ResolvedRendezvousLimits {
  const out: ResolvedRendezvousLimits = {
    providersAnswered: limits.providersAnswered ?? PROVIDERS_ANSWERED,
    providersKept: limits.providersKept ?? PROVIDERS_KEPT,
    providerTtlMs: limits.providerTtlMs ?? PROVIDER_TTL_MS,
    recordsKeptPerScope: limits.recordsKeptPerScope ?? RECORDS_KEPT_PER_SCOPE,
  };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `Invalid rendezvous limit: ${name} is ${value}; use a positive integer`,
      );
    }
  }
  if (out.providersKept < out.providersAnswered) {
    throw new RangeError(
      `Invalid rendezvous limits: providersKept (${out.providersKept}) is below ` +
        `providersAnswered (${out.providersAnswered}); keep at least as many as are answered`,
    );
  }
  return out;
}

/** One stored entry: an id (a provider's peer id, a record's datastore key) and when it came. */
export interface TimedEntry {
  /** What identifies the entry. */
  readonly id: string;
  /** When it was stored (ms, server clock). */
  readonly time: number;
}

/**
 * Choose what a GET_PROVIDERS answer carries: a uniformly random subset of at most `cap`
 * of the entries that are still fresh (a partial Fisher-Yates shuffle, so every fresh
 * entry has the same chance and two answers differ), and which entries have expired.
 *
 * @param entries The stored entries of one key.
 * @param options `cap`, `ttlMs`, the clock `now`, and `random` (in [0, 1)).
 * @returns `answer` (ids, in random order) and `expired` (ids to delete).
 *
 * @example
 * ```ts ignore
 * const { answer } = chooseProviders(
 *   [{ id: "a", time: 0 }, { id: "b", time: 0 }, { id: "c", time: 0 }],
 *   { cap: 2, ttlMs: 1000, now: 10, random: Math.random },
 * );
 * console.log(answer.length); // 2
 * ```
 */
export function chooseProviders(
  entries: Iterable<TimedEntry>,
  options: { cap: number; ttlMs: number; now: number; random: () => number },
): { answer: string[]; expired: string[] } {
  const fresh: string[] = [];
  const expired: string[] = [];
  for (const { id, time } of entries) {
    if (options.now - time > options.ttlMs) expired.push(id);
    else fresh.push(id);
  }
  const n = Math.min(options.cap, fresh.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(options.random() * (fresh.length - i));
    [fresh[i], fresh[j]] = [fresh[j], fresh[i]];
  }
  fresh.length = n;
  return { answer: fresh, expired };
}

/**
 * Which entries to drop so that at most `cap` remain: the oldest (ties: by id, so the
 * choice is deterministic).
 *
 * @param entries The stored entries of one key (or one meeting).
 * @param cap How many may stay.
 * @returns The ids to delete (empty when within the cap).
 *
 * @example
 * ```ts ignore
 * entriesOverCap([{ id: "old", time: 1 }, { id: "new", time: 2 }], 1); // ["old"]
 * ```
 */
export function entriesOverCap(entries: Iterable<TimedEntry>, cap: number): string[] {
  const all = [...entries];
  if (all.length <= cap) return [];
  const older = (a: TimedEntry, b: TimedEntry) =>
    a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (all.length === cap + 1) {
    // The usual case (one new entry at the cap): one pass instead of a sort.
    let oldest = all[0];
    for (const e of all) if (older(e, oldest) < 0) oldest = e;
    return [oldest.id];
  }
  all.sort(older);
  return all.slice(0, all.length - cap).map((e) => e.id);
}
