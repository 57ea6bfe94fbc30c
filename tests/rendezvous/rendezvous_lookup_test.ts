/**
 * Rendezvous.lookup({ enough }) on a fake node: providers and records come from memory, the
 * GETs are counted.
 */
import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PeerId } from "@libp2p/interface";
import { silentLogger } from "../../src/logger.ts";
import type { ParticipantLibp2p } from "../../src/node.ts";
import { sealPresence } from "../../src/presence.ts";
import { Rendezvous } from "../../src/rendezvous.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const keys = await deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821");
const decoder = new TextDecoder();

/** `n` participants with sealed records; every `badEvery`-th record is garbage. */
async function fixture(n: number, badEvery = 0) {
  const records = new Map<string, Uint8Array>();
  const ids: PeerId[] = [];
  for (let i = 0; i < n; i++) {
    const key = await generateKeyPair("Ed25519");
    const id = peerIdFromPrivateKey(key);
    ids.push(id);
    const { key: dhtKey, bytes } = await sealPresence(keys, key, {
      peerId: id.toString(),
      name: `p${i}`,
      joinedAt: Date.now(),
      addresses: [],
    }, { seq: 1, ttlMs: 60_000 });
    records.set(dhtKey, badEvery > 0 && i % badEvery === 0 ? new Uint8Array([1, 2, 3]) : bytes);
  }
  const selfKey = await generateKeyPair("Ed25519");
  const gets = { started: 0, running: 0, maxRunning: 0 };
  const libp2p = {
    peerId: peerIdFromPrivateKey(selfKey),
    getMultiaddrs: () => [],
    addEventListener: () => {},
    removeEventListener: () => {},
    contentRouting: {
      async *findProviders() {
        for (const id of ids) yield { id, multiaddrs: [] };
      },
      async get(key: Uint8Array, options: { signal?: AbortSignal }) {
        gets.started++;
        gets.running++;
        gets.maxRunning = Math.max(gets.maxRunning, gets.running);
        try {
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
          options.signal?.throwIfAborted();
          const value = records.get(decoder.decode(key));
          if (!value) throw new Error("not found");
          return value;
        } finally {
          gets.running--;
        }
      },
    },
  } as unknown as ParticipantLibp2p;
  const found: string[] = [];
  const rendezvous = new Rendezvous({
    libp2p,
    keys,
    privateKey: selfKey,
    log: silentLogger.forComponent("test"),
    selfInfo: () => ({ peerId: libp2p.peerId.toString(), name: "me", joinedAt: 0, addresses: [] }),
    onPresence: (p) => found.push(p.info.peerId),
    wantMore: () => true,
    isKnown: () => false,
  });
  return { rendezvous, gets, found };
}

Deno.test("Rendezvous.lookup({ enough: 8 }) verifies 8 and starts at most 12 GETs of 64 providers", async () => {
  const { rendezvous, gets, found } = await fixture(64);
  // Records already being verified when the 8th arrives still count.
  const n = await rendezvous.lookup({ enough: 8 });
  assert(n >= 8 && n <= 12, String(n));
  assertEquals(found.length, n);
  assertLessOrEqual(gets.started, 12);
  assertEquals(rendezvous.stats.lastLookupFetches, gets.started);
});

Deno.test("Rendezvous.lookup({ enough }) fetches on past records that do not verify", async () => {
  const { rendezvous, gets, found } = await fixture(64, 2); // half of them garbage
  const n = await rendezvous.lookup({ enough: 8 });
  assert(n >= 8 && n <= 12, String(n));
  assertEquals(new Set(found).size, n);
  assert(gets.started >= 16, `${gets.started} GETs`);
  assertLessOrEqual(gets.maxRunning, 12);
  const { recordsRejected, recordsAccepted } = rendezvous.stats;
  assert(recordsRejected >= 4 && recordsRejected + recordsAccepted <= gets.started);
});

Deno.test("Rendezvous.lookup() without enough fetches every provider, 16 at a time", async () => {
  const { rendezvous, gets, found } = await fixture(40);
  assertEquals(await rendezvous.lookup(), 40);
  assertEquals(found.length, 40);
  assertEquals(gets.started, 40);
  assertLessOrEqual(gets.maxRunning, 16);
});

Deno.test("Rendezvous.lookup() rejects a bad enough with RangeError", async () => {
  const { rendezvous } = await fixture(1);
  await assertRejects(() => rendezvous.lookup({ enough: 0 }), RangeError, "positive integer");
});
