/**
 * Find a peer by identity (requirement D9, "WHERE IS bob?"): a peer that wants to be
 * found publishes a signed record of its current addresses under
 * `/meshmeet/peer/<peer id>` in the DHT and refreshes it; anyone who knows the peer id
 * fetches and verifies it with {@linkcode findPeer}.
 *
 * - The record is a {@linkcode signRecord} record (Ed25519 signature of the key, sequence
 *   number, expiry and payload): DHT servers reject forgeries, and a reader rejects a
 *   record past its expiry. So a peer that went away stops being found once its last
 *   record expires ({@linkcode PEER_RECORD_TTL_MS}), with {@linkcode PeerRecordNotFoundError}.
 * - It is not encrypted: it says where a peer id can be reached, nothing about meetings.
 *   It is opt-in (`joinMeeting(code, { findable: true })`), because a stable peer id (a
 *   kept `privateKey`) with published addresses can be followed across meetings.
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { InvalidRecordError, PeerRecordNotFoundError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { ParticipantLibp2p } from "./node.ts";
import { openRecord, recordKey, signRecord } from "./record.ts";

/** The scope of peer records: `/meshmeet/peer/<peer id>`. */
export const PEER_RECORD_SCOPE = "peer";
/** Default lifetime of a peer record (it is refreshed every third of it). */
export const PEER_RECORD_TTL_MS = 60_000;
/** Most addresses a peer record lists. */
export const MAX_PEER_RECORD_ADDRESSES = 16;

/** What {@linkcode findPeer} returns. */
export interface FoundPeer {
  /** The peer id asked for (the record's verified signer). */
  peerId: string;
  /** Its current multiaddrs, as it published them. */
  addresses: string[];
  /** The record's sequence number. */
  seq: number;
  /** When the record was made (ms since the epoch). */
  issuedAt: number;
  /** When it expires (ms since the epoch). */
  expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The DHT key of a peer's record.
 *
 * @param peerId The peer.
 * @returns `/meshmeet/peer/<peer id>`.
 *
 * @example
 * ```ts ignore
 * peerRecordKey("12D3KooW…"); // "/meshmeet/peer/12D3KooW…"
 * ```
 */
export function peerRecordKey(peerId: string): string {
  return recordKey(PEER_RECORD_SCOPE, peerId);
}

/**
 * Sign a peer record.
 *
 * @param privateKey The peer's key.
 * @param init Addresses, sequence number, lifetime.
 * @returns The record bytes.
 * @throws {TypeError} When an address is not a multiaddr or there are too many.
 *
 * @example
 * ```ts ignore
 * const bytes = await sealPeerRecord(key, { addresses, seq: Date.now(), ttlMs: 60_000 });
 * ```
 */
export async function sealPeerRecord(
  privateKey: PrivateKey,
  init: { addresses: readonly string[]; seq: number; ttlMs: number; now?: number },
): Promise<Uint8Array> {
  _checkAddresses(init.addresses);
  const peerId = peerIdFromPrivateKey(privateKey).toString();
  return await signRecord(privateKey, {
    key: peerRecordKey(peerId),
    seq: init.seq,
    ttlMs: init.ttlMs,
    now: init.now,
    payload: encoder.encode(JSON.stringify({ addresses: init.addresses })),
  });
}

/**
 * Verify a peer record.
 *
 * @param peerId Whose record it should be.
 * @param bytes The record.
 * @param options `now` for the expiry check.
 * @returns The verified record.
 * @throws {InvalidRecordError} When it is forged, expired, or its contents are malformed.
 *
 * @example
 * ```ts ignore
 * const found = await openPeerRecord(peerId, bytes);
 * ```
 */
export async function openPeerRecord(
  peerId: string,
  bytes: Uint8Array,
  options: { now?: number } = {},
): Promise<FoundPeer> {
  const record = await openRecord(peerRecordKey(peerId), bytes, { now: options.now });
  let addresses: string[];
  try {
    addresses = JSON.parse(decoder.decode(record.payload)).addresses;
    _checkAddresses(addresses);
  } catch (cause) {
    throw new InvalidRecordError("Invalid peer record: its address list is malformed", { cause });
  }
  return {
    peerId: record.signer,
    addresses,
    seq: record.seq,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
  };
}

function _checkAddresses(addresses: unknown): asserts addresses is string[] {
  if (!Array.isArray(addresses) || addresses.length > MAX_PEER_RECORD_ADDRESSES) {
    throw new TypeError(`a peer record lists at most ${MAX_PEER_RECORD_ADDRESSES} addresses`);
  }
  for (const a of addresses) {
    if (typeof a !== "string" || a.length > 512) throw new TypeError("addresses are strings");
    multiaddr(a); // throws on a malformed one
  }
}

/** What {@linkcode findPeer} needs of a libp2p node: DHT reads (e.g. `meeting.libp2p`). */
export interface DhtReader {
  /** libp2p's content routing (kad-dht). */
  contentRouting: {
    /** Fetch the best record under a key. */
    get(key: Uint8Array, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  };
}

/** Options of {@linkcode findPeer}. */
export interface FindPeerOptions {
  /** Aborts the lookup. */
  signal?: AbortSignal;
  /**
   * Time budget of the DHT query (ms).
   * @default {10_000}
   */
  timeoutMs?: number;
}

/**
 * Find a peer's current addresses through the DHT, from the record it signed.
 *
 * @param libp2p A node connected to the meshmeet DHT (e.g. `meeting.libp2p`).
 * @param peerId The peer to find.
 * @param options Signal, time budget.
 * @returns Its verified record.
 * @throws {PeerRecordNotFoundError} When the DHT has no valid, unexpired record of it (it
 * never published one, or went away and its record expired).
 * @throws {TypeError} When `peerId` is not a peer id.
 *
 * @example Where is Bob?
 * ```ts ignore
 * const bob = await findPeer(meeting.libp2p, "12D3KooW…");
 * console.log(bob.addresses);
 * ```
 */
export async function findPeer(
  libp2p: DhtReader,
  peerId: string,
  options: FindPeerOptions = {},
): Promise<FoundPeer> {
  try {
    peerIdFromString(peerId);
  } catch (cause) {
    throw new TypeError(`Cannot find peer: ${JSON.stringify(peerId)} is not a peer id`, { cause });
  }
  const budget = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, budget]) : budget;
  let bytes: Uint8Array;
  try {
    bytes = await libp2p.contentRouting.get(encoder.encode(peerRecordKey(peerId)), { signal });
  } catch (cause) {
    options.signal?.throwIfAborted();
    throw new PeerRecordNotFoundError(
      `Cannot find peer ${peerId}: the DHT has no record of it (it is not findable, or it ` +
        `went away and its record expired)`,
      { cause },
    );
  }
  try {
    return await openPeerRecord(peerId, bytes);
  } catch (cause) {
    throw new PeerRecordNotFoundError(
      `Cannot find peer ${peerId}: its record is no longer valid (${(cause as Error).message})`,
      { cause },
    );
  }
}

/** Keeps a peer's record in the DHT fresh. */
export class PeerRecordPublisher {
  readonly #libp2p: ParticipantLibp2p;
  readonly #privateKey: PrivateKey;
  readonly #addresses: () => string[];
  readonly #ttl: number;
  readonly #log: Logger;
  #seq = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #controller = new AbortController();
  /** Records published. */
  published = 0;

  /**
   * @param init The node, its key, which addresses to publish, lifetime, logger.
   */
  constructor(init: {
    libp2p: ParticipantLibp2p;
    privateKey: PrivateKey;
    addresses: () => string[];
    ttlMs?: number;
    log: Logger;
  }) {
    this.#libp2p = init.libp2p;
    this.#privateKey = init.privateKey;
    this.#addresses = init.addresses;
    this.#ttl = init.ttlMs ?? PEER_RECORD_TTL_MS;
    this.#log = init.log;
  }

  /**
   * Publish now, then every third of the lifetime.
   *
   * @returns Resolves after the first publication.
   */
  async start(): Promise<void> {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      void this.publish().catch((err) => this.#log(`peer record refresh failed: ${err.message}`));
    }, Math.max(1000, this.#ttl / 3));
    await this.publish();
  }

  /** Stop refreshing (the record then expires by itself). Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#controller.abort();
  }

  /**
   * Publish the current addresses now.
   *
   * @returns Resolves when stored on at least one DHT server.
   */
  async publish(): Promise<void> {
    this.#seq = Math.max(this.#seq + 1, Date.now());
    const addresses = this.#addresses().slice(0, MAX_PEER_RECORD_ADDRESSES);
    const bytes = await sealPeerRecord(this.#privateKey, {
      addresses,
      seq: this.#seq,
      ttlMs: this.#ttl,
    });
    const key = encoder.encode(peerRecordKey(this.#libp2p.peerId.toString()));
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(10_000)]);
    await this.#libp2p.contentRouting.put(key, bytes, { signal });
    this.published++;
    this.#log(`published peer record seq ${this.#seq} (${addresses.length} addresses)`);
  }
}
