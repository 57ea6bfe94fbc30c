/**
 * Looking a topic up as the DHT sees it: who announced themselves under a topic id, and
 * whether their presence records are there. The records stay encrypted: this shows what
 * a non-member (a DHT server, an operator) can see, and needs no invitation code.
 *
 * Used by the control API (`GET /topics/{topicId}`) and by `meshmeet lookup`. No Hono.
 *
 * @module
 */
import { openRecord, recordKey, selectDhtRecord } from "../record.ts";
import { topicCid } from "../rendezvous.ts";
import { fromHex, isTopicId } from "../topic.ts";

/** An event of a kad-dht query (the fields a topic lookup reads). */
export interface DhtQueryEvent {
  /** `PROVIDER`, `VALUE`, `PEER_RESPONSE`, … */
  readonly name: string;
  /** Providers, on `PROVIDER` events. */
  readonly providers?: readonly {
    readonly id: { toString(): string };
    readonly multiaddrs: readonly { toString(): string }[];
  }[];
  /** The value, on `VALUE` events. */
  readonly value?: Uint8Array;
}

/** The part of a kad-dht service that a topic lookup uses. */
export interface TopicLookupDht {
  /**
   * Whether this node answers DHT queries (`server`) or only asks (`client`).
   *
   * @returns The mode.
   */
  getMode(): "client" | "server";
  /**
   * Query the providers of a CID.
   *
   * @param cid The CID.
   * @param options Abort signal.
   * @returns Query events.
   */
  findProviders(cid: never, options?: { signal?: AbortSignal }): AsyncIterable<DhtQueryEvent>;
  /**
   * Query the values stored under a key.
   *
   * @param key The key.
   * @param options Abort signal.
   * @returns Query events.
   */
  get(key: Uint8Array, options?: { signal?: AbortSignal }): AsyncIterable<DhtQueryEvent>;
}

/** The part of a libp2p node that a topic lookup uses (`boot.libp2p`, `meeting.libp2p`). */
export interface TopicLookupNode {
  /** The node's peer id. */
  readonly peerId: { toString(): string };
  /** Its services; the DHT is used. */
  readonly services: { readonly dht: TopicLookupDht };
}

/** What the DHT holds of one announced participant's presence record. */
export interface TopicRecordInfo {
  /** Whether a record was found under `/meshmeet/<topic id>/<peer id>`. */
  present: boolean;
  /** Its sequence number (higher replaces lower). */
  seq?: number;
  /** When it was signed (ms since the epoch, the writer's clock). */
  issuedAt?: number;
  /** When it expires (ms since the epoch). */
  expiresAt?: number;
  /** Whether it has expired. */
  expired?: boolean;
  /** Size of the record in bytes (the payload inside is encrypted). */
  bytes?: number;
  /** Whether it verified: layout, key, signature by the peer id and lifetime (not the contents). */
  valid?: boolean;
  /** Why there is no (valid) record. */
  error?: string;
}

/** One peer that announced itself under the topic. */
export interface TopicProviderInfo {
  /** Its peer id. */
  peerId: string;
  /** The addresses the DHT handed out with the provider record. */
  addresses: string[];
  /** Its presence record as the DHT has it. */
  record: TopicRecordInfo;
}

/** The result of {@linkcode lookupTopic}. */
export interface TopicLookupResult {
  /** The topic id looked up. */
  topicId: string;
  /** The CID under which participants are providers. */
  cid: string;
  /** The peer id of the node that asked the DHT. */
  via: string;
  /** How long the lookup took, in ms. */
  durationMs: number;
  /** Who announced themselves (providers), with their records. */
  providers: TopicProviderInfo[];
  /** Set when the provider query ended early (timeout, no DHT peers); results may be partial. */
  warning?: string;
}

/** Options of {@linkcode lookupTopic}. */
export interface LookupTopicOptions {
  /**
   * Time budget of the whole lookup in ms.
   * @default {10_000}
   */
  timeoutMs?: number;
  /**
   * Most providers to report (and fetch records of).
   * @default {100}
   */
  maxProviders?: number;
  /** Called after each DHT query with its kind, duration (ms) and outcome, e.g. for metrics. */
  onQuery?: (query: "find_providers" | "get_record", ms: number, ok: boolean) => void;
  /** Aborts the lookup; it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Ask the DHT who announced themselves under a topic id and fetch (but never decrypt)
 * their presence records.
 *
 * @param libp2p A libp2p node with a DHT: `boot.libp2p`, `meeting.libp2p`.
 * @param topicId The public topic id (64 hex characters), never an invitation code.
 * @param options Time budget, limit, metrics hook, abort signal.
 * @returns The providers and what the DHT holds for each.
 * @throws {TypeError} When `topicId` is not 64 lower-case hex characters.
 *
 * @example Look a topic up through a bootstrap node
 * ```ts ignore
 * const result = await lookupTopic(boot.libp2p, meeting.topicId);
 * console.log(result.providers.map((p) => p.peerId));
 * ```
 */
export async function lookupTopic(
  libp2p: TopicLookupNode,
  topicId: string,
  options: LookupTopicOptions = {},
): Promise<TopicLookupResult> {
  if (!isTopicId(topicId)) {
    throw new TypeError(
      `Cannot look up topic: ${
        JSON.stringify(topicId.slice(0, 80))
      } is not a topic id (64 lower-case hex characters)`,
    );
  }
  options.signal?.throwIfAborted();
  const started = performance.now();
  const budget = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, budget]) : budget;
  const cid = await topicCid(fromHex(topicId));
  const max = options.maxProviders ?? 100;
  const dht = libp2p.services.dht;
  // A DHT server without peers (a lone bootstrap node) has only its own store to search,
  // and kad-dht would wait for a peer until the budget runs out: give it a moment, no more.
  // (A client without peers waits: its first server is usually being identified.)
  const alone = dht.getMode() === "server" && _routingTableSize(dht) === 0;
  const querySignal = alone ? AbortSignal.any([signal, AbortSignal.timeout(300)]) : signal;
  const seen = new Map<string, string[]>();
  let warning: string | undefined = alone
    ? "this node has no DHT peers: only its own store was searched"
    : undefined;
  const t0 = performance.now();
  let ok = true;
  try {
    outer: for await (const event of dht.findProviders(cid as never, { signal: querySignal })) {
      if (event.name !== "PROVIDER") continue;
      for (const provider of event.providers ?? []) {
        const id = provider.id.toString();
        const addresses = provider.multiaddrs.map(String);
        const known = seen.get(id);
        if (known) {
          for (const a of addresses) if (!known.includes(a)) known.push(a);
          continue;
        }
        seen.set(id, addresses);
        if (seen.size >= max) break outer;
      }
    }
  } catch (err) {
    options.signal?.throwIfAborted();
    if (!alone) {
      ok = false;
      warning = budget.aborted
        ? `the provider query ran out of time after ${options.timeoutMs ?? 10_000} ms`
        : `the provider query ended early: ${(err as Error).message}`;
    }
  }
  options.onQuery?.("find_providers", performance.now() - t0, ok);
  const providers = await Promise.all([...seen].map(async ([peerId, addresses]) => ({
    peerId,
    addresses,
    record: await _record(dht, topicId, peerId, signal, alone, options),
  })));
  options.signal?.throwIfAborted();
  providers.sort((a, b) => a.peerId < b.peerId ? -1 : 1);
  return {
    topicId,
    cid: cid.toString(),
    via: libp2p.peerId.toString(),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    providers,
    ...(warning ? { warning } : {}),
  };
}

function _routingTableSize(dht: TopicLookupDht): number {
  return (dht as { routingTable?: { size?: number } }).routingTable?.size ?? 0;
}

async function _record(
  dht: TopicLookupDht,
  topicId: string,
  peerId: string,
  signal: AbortSignal,
  alone: boolean,
  options: LookupTopicOptions,
): Promise<TopicRecordInfo> {
  let key: string;
  try {
    key = recordKey(topicId, peerId);
  } catch (err) {
    return { present: false, error: (err as Error).message };
  }
  const t0 = performance.now();
  const keyBytes = new TextEncoder().encode(key);
  const values: Uint8Array[] = [];
  let failure: Error | undefined;
  if (alone) {
    // kad-dht's get() collects the network's answers before yielding the local one, and
    // with no peers it waits for the budget to run out: read the local store instead
    // (kad-dht's content fetching has `getLocal`; not part of its typed interface).
    const fetching = (dht as {
      contentFetching?: {
        getLocal?(
          key: Uint8Array,
          options?: { signal?: AbortSignal },
        ): Promise<{ value: Uint8Array }>;
      };
    }).contentFetching;
    try {
      const local = await fetching?.getLocal?.(keyBytes, { signal });
      if (local?.value) values.push(local.value);
    } catch {
      // not stored here
    }
  } else {
    try {
      for await (const event of dht.get(keyBytes, { signal })) {
        if (event.name === "VALUE" && event.value) values.push(event.value);
      }
    } catch (err) {
      if (values.length === 0) failure = err as Error;
    }
  }
  options.onQuery?.("get_record", performance.now() - t0, values.length > 0);
  if (values.length === 0) {
    return {
      present: false,
      error: failure ? `not found: ${failure.message}` : "no record under its key",
    };
  }
  const bytes = values[selectDhtRecord(new Uint8Array(0), values)];
  try {
    const record = await openRecord(key, bytes, { allowExpired: true });
    return {
      present: true,
      seq: record.seq,
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
      expired: record.expiresAt <= Date.now(),
      bytes: bytes.length,
      valid: true,
    };
  } catch (err) {
    return { present: true, bytes: bytes.length, valid: false, error: (err as Error).message };
  }
}
