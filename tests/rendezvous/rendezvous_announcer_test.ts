/**
 * Rendezvous' use of the announcer choice, on a fake node (the DHT calls are counted).
 */
import { assert, assertEquals } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { silentLogger } from "../../src/logger.ts";
import type { ParticipantLibp2p } from "../../src/node.ts";
import { Rendezvous } from "../../src/rendezvous.ts";
import { announcerDecision } from "../../src/rendezvous/announcers.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

const T0 = Date.UTC(2030, 0, 1);
const keys = await deriveTopicKeys("orbit-velvet-crane-mango-ripple-4821");

async function fixture(opts: { rosterSize: () => number; now: () => number; joinedAt: number }) {
  const privateKey = await generateKeyPair("Ed25519");
  const peerId = peerIdFromPrivateKey(privateKey);
  const calls = { put: 0, provide: 0 };
  const libp2p = {
    peerId,
    getMultiaddrs: () => [],
    addEventListener: () => {},
    removeEventListener: () => {},
    contentRouting: {
      put: () => Promise.resolve(void calls.put++),
      provide: () => Promise.resolve(void calls.provide++),
      async *findProviders() {},
    },
  } as unknown as ParticipantLibp2p;
  const rendezvous = new Rendezvous({
    libp2p,
    keys,
    privateKey,
    log: silentLogger.forComponent("test"),
    selfInfo: () => ({ peerId: peerId.toString(), name: "x", joinedAt: T0, addresses: [] }),
    onPresence: () => {},
    wantMore: () => false,
    isKnown: () => false,
    ttlMs: 3000, // one announcement round a second
    minIntervalMs: 60_000,
    ...opts,
  });
  return { rendezvous, calls, peerId: peerId.toString() };
}

Deno.test("Rendezvous.isAnnouncer() follows the roster size, the epoch and the join time", async () => {
  const clock = { now: T0, size: 5 };
  const { rendezvous, peerId } = await fixture({
    rosterSize: () => clock.size,
    now: () => clock.now,
    joinedAt: T0 - 3_600_000,
  });
  assertEquals(rendezvous.isAnnouncer(), true); // a small meeting: everyone
  clock.size = 10_000;
  // Over 200 epochs it is chosen about 200 * 32 / 10,000 = 0.64 times, and exactly when
  // announcerDecision() says so.
  let chosen = 0;
  for (let e = 0; e < 200; e++) {
    clock.now = T0 + e * 60_000;
    const expected = announcerDecision({
      selfId: peerId,
      rosterSize: 10_000,
      now: clock.now,
      joinedAt: T0 - 3_600_000,
    }).announce;
    assertEquals(rendezvous.isAnnouncer(), expected);
    if (expected) chosen++;
  }
  assert(chosen <= 6, `chosen in ${chosen} of 200 epochs`);
});

Deno.test("Rendezvous skips announcement rounds while it is not an announcer", async () => {
  const { rendezvous, calls } = await fixture({
    rosterSize: () => 10_000_000, // 32 in ten million: practically never chosen
    now: () => Date.now(),
    joinedAt: Date.now() - 3_600_000,
  });
  try {
    await rendezvous.start(); // the first announcement is unconditional (a join)
    assertEquals(calls, { put: 1, provide: 1 });
    await new Promise((r) => setTimeout(r, 2300));
    assertEquals(calls, { put: 1, provide: 1 });
    assert(
      rendezvous.stats.announcementsSkipped >= 1,
      String(rendezvous.stats.announcementsSkipped),
    );
  } finally {
    rendezvous.stop();
  }
});

Deno.test("Rendezvous keeps announcing every round as a newcomer and in a small meeting", async () => {
  for (const opts of [{ size: 10_000, joinedAt: Date.now() }, { size: 10, joinedAt: 0 }]) {
    const { rendezvous, calls } = await fixture({
      rosterSize: () => opts.size,
      now: () => Date.now(),
      joinedAt: opts.joinedAt,
    });
    try {
      await rendezvous.start();
      await new Promise((r) => setTimeout(r, 2300));
      assert(calls.put >= 3, `${calls.put} announcements`);
      assertEquals(rendezvous.stats.announcementsSkipped, 0);
    } finally {
      rendezvous.stop();
    }
  }
});
