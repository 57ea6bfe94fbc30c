/**
 * When Rendezvous.start() looks up again after announcing: at once when the first lookup
 * found nobody (two peers joining at the same moment must still meet), after
 * `minIntervalMs` when it found members (the dial to them is the join's critical path).
 * A fake node: providers and records from memory, lookups counted.
 */
import { assert, assertEquals } from "@std/assert";
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
const MIN_INTERVAL_MS = 400;

async function fixture(members: number) {
  const records = new Map<string, Uint8Array>();
  const ids: PeerId[] = [];
  for (let i = 0; i < members; i++) {
    const key = await generateKeyPair("Ed25519");
    const id = peerIdFromPrivateKey(key);
    ids.push(id);
    const { key: dhtKey, bytes } = await sealPresence(keys, key, {
      peerId: id.toString(),
      name: `p${i}`,
      joinedAt: Date.now(),
      addresses: [],
    }, { seq: 1, ttlMs: 60_000 });
    records.set(dhtKey, bytes);
  }
  const selfKey = await generateKeyPair("Ed25519");
  /** When each lookup started (ms since start() was called). */
  const lookups: number[] = [];
  let t0 = 0;
  const libp2p = {
    peerId: peerIdFromPrivateKey(selfKey),
    getMultiaddrs: () => [],
    addEventListener: () => {},
    removeEventListener: () => {},
    contentRouting: {
      async *findProviders() {
        lookups.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
        for (const id of ids) yield { id, multiaddrs: [] };
      },
      async get(key: Uint8Array) {
        await new Promise((r) => setTimeout(r, 2));
        const value = records.get(decoder.decode(key));
        if (!value) throw new Error("not found");
        return value;
      },
      async put() {
        await new Promise((r) => setTimeout(r, 10));
      },
      async provide() {
        await new Promise((r) => setTimeout(r, 10));
      },
    },
  } as unknown as ParticipantLibp2p;
  const rendezvous = new Rendezvous({
    libp2p,
    keys,
    privateKey: selfKey,
    log: silentLogger.forComponent("test"),
    selfInfo: () => ({ peerId: libp2p.peerId.toString(), name: "me", joinedAt: 0, addresses: [] }),
    onPresence: () => {},
    wantMore: () => true,
    isKnown: () => false,
    minIntervalMs: MIN_INTERVAL_MS,
  });
  /** Join as a meeting does: the first lookup and the announcement at once. */
  const join = async () => {
    t0 = performance.now();
    const first = rendezvous.lookup();
    await rendezvous.start();
    return await first;
  };
  return { rendezvous, lookups, join };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Rendezvous.start(): with nobody found yet, it looks up again right after announcing", async () => {
  const { rendezvous, lookups, join } = await fixture(0);
  try {
    assertEquals(await join(), 0);
    await sleep(100);
    assertEquals(lookups.length, 2, `lookups at ${lookups.map(Math.round)} ms`);
    assert(lookups[1] < 100, `second lookup at ${Math.round(lookups[1])} ms`);
  } finally {
    rendezvous.stop();
  }
});

Deno.test("Rendezvous.start(): with members found, the next lookup waits minIntervalMs (the dial to them goes first)", async () => {
  const { rendezvous, lookups, join } = await fixture(2);
  try {
    assertEquals(await join(), 2);
    await sleep(150);
    assertEquals(lookups.length, 1, `lookups at ${lookups.map(Math.round)} ms`);
    await sleep(MIN_INTERVAL_MS);
    assertEquals(lookups.length, 2, `lookups at ${lookups.map(Math.round)} ms`);
    assert(lookups[1] >= MIN_INTERVAL_MS, `second lookup at ${Math.round(lookups[1])} ms`);
  } finally {
    rendezvous.stop();
  }
});
