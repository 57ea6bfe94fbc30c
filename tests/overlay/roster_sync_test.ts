/**
 * `RosterSync` on its own (src/overlay/roster_sync.ts): whom a newcomer asks for the
 * roster, and what goes out for a snapshot, a digest and a pull. The node's behaviour over a
 * network is in node_test.ts.
 */
import { assert, assertEquals } from "@std/assert";
import { MemberIndex, Roster } from "../../src/overlay/roster.ts";
import { RosterSync } from "../../src/overlay/roster_sync.ts";
import { bucketCountFor, isBucketCount } from "../../src/overlay/roster_digest.ts";
import type { MemberEntry, OverlayMessage, PeerId } from "../../src/overlay/types.ts";
import { prng } from "./_net.ts";

function entry(peerId: string): MemberEntry {
  return {
    peerId,
    name: peerId,
    joinedAt: 1,
    incarnation: 1,
    contact: [],
    sig: new Uint8Array(4),
  };
}

function roster(others: number): Roster {
  const r = new Roster(new MemberIndex(), entry("self"));
  for (let i = 0; i < others; i++) r.applyAlive(entry(`m${i}`));
  return r;
}

/** A sync whose host records what it sends and offers `holders` to ask. */
function setup(others: number, holders: PeerId[] = []) {
  const sent: [PeerId, OverlayMessage][] = [];
  const stats = { repairs: 0 };
  const r = roster(others);
  const sync = new RosterSync(
    r,
    prng(1),
    {
      send: (to, msg) => sent.push([to, msg]),
      holders: () => holders,
    },
    stats,
    0,
  );
  return { sync, sent, stats, roster: r, holders };
}

Deno.test("RosterSync asks its first link in the hello, then a holder with `want` when that link is new too", () => {
  const { sync, sent, holders } = setup(0);
  assertEquals(sync.linkUp("a", 0), true);
  assertEquals(sync.linkUp("b", 0), false); // one ask at a time
  assertEquals(sync.firstDigestAt(0), undefined); // a newcomer compares nothing yet
  holders.push("b");
  sync.hello("a", false, 10); // "a" does not hold the roster either
  assertEquals(sent, [["b", { t: "want" }]]);
  sync.hello("b", true, 20);
  assertEquals(sent.length, 1); // "b" is asked already
  sync.snapshotEnd("b", true, 30);
  assertEquals(sync.held, true);
  assertEquals(sync.firstDigestAt(100), 2_100);
  assertEquals(sync.linkUp("c", 100), false);
});

Deno.test("RosterSync asks another neighbour after 5 s without a snapshot; with nobody to ask it holds the roster after 5 s", () => {
  const { sync, sent, holders } = setup(0);
  sync.linkUp("a", 0);
  holders.push("b");
  sync.heartbeat(4_999);
  assertEquals(sent, []);
  sync.heartbeat(5_000);
  assertEquals(sent, [["b", { t: "want" }]]);
  // "b" went away before answering: nobody else to ask; the roster counts as held 5 s on.
  holders.length = 0;
  sync.linkDown("b", 6_000);
  assertEquals(sync.held, false);
  sync.heartbeat(6_000);
  assertEquals(sync.held, true);

  const first = setup(0).sync;
  first.heartbeat(4_999);
  assertEquals(first.held, false);
  first.heartbeat(5_000);
  assertEquals(first.held, true);
});

Deno.test("RosterSync.sendSnapshot() sends 200 items per message, `last` on the final one", () => {
  const { sync, sent, roster } = setup(449);
  sync.sendSnapshot("x");
  const chunks = sent.map(([, m]) => m as Extract<OverlayMessage, { t: "roster" }>);
  assertEquals(chunks.map((m) => m.entries.length), [200, 200, 50]);
  assertEquals(chunks.map((m) => m.last), [false, false, true]);
  assertEquals(chunks.flatMap((m) => m.entries), roster.items());
  // An empty snapshot is still one message that says `last`.
  const empty = setup(0);
  empty.sync.sendSnapshot("x");
  assertEquals(empty.sent.length, 1);
});

Deno.test("RosterSync.onDigest() answers a differing digest with those buckets' items and a pull, counted as a repair", () => {
  const { sync, sent, stats, roster } = setup(40);
  sync.onDigest("x", roster.digest());
  assertEquals(sent, []);
  assertEquals(stats.repairs, 0);
  const theirs = roster.digest();
  theirs[3] ^= 1;
  sync.onDigest("x", theirs);
  assertEquals(stats.repairs, 1);
  const pull = sent.at(-1)!;
  assertEquals(pull, ["x", { t: "pull", buckets: [3] }]);
  const items = sent.slice(0, -1).flatMap(([, m]) => m.t === "roster" ? m.entries : []);
  assertEquals(items, roster.items(new Set([3])));
  assert(sent.slice(0, -1).every(([, m]) => m.t === "roster" && !m.last));
  // A pull of buckets we hold nothing in sends nothing; non-integers are ignored.
  sent.length = 0;
  const emptyBucket = [...Array(32).keys()].find((b) => roster.items(new Set([b])).length === 0);
  sync.onPull("x", emptyBucket === undefined ? [] : [emptyBucket, 1.5]);
  assertEquals(sent, []);
  sync.onPull("x", [3]);
  assertEquals(
    sent.flatMap(([, m]) => m.t === "roster" ? m.entries : []),
    roster.items(new Set([3])),
  );
});

Deno.test("digest buckets grow with the roster: about 32 members each, at most what the neighbour reads", () => {
  assertEquals(bucketCountFor(10), 32);
  assertEquals(bucketCountFor(1_024), 32);
  assertEquals(bucketCountFor(1_025), 64);
  assertEquals(bucketCountFor(5_000), 256);
  assertEquals(bucketCountFor(10_000), 512);
  assertEquals(bucketCountFor(100_000), 1024);
  assertEquals(bucketCountFor(10_000, 32), 32); // a member from before: 32
  assertEquals(bucketCountFor(10_000, 100), 64); // not a power of two: the one below
  for (const n of [32, 64, 512, 1024]) assert(isBucketCount(n));
  for (const n of [0, 16, 48, 2048, 31.5]) assert(!isBucketCount(n));
});

Deno.test("a roster's digest at any bucket count is its members hashed into h % count (folding keeps it exact)", () => {
  const { roster } = setup(3_000);
  const a = roster.digest(256);
  assertEquals(a.length, 256);
  // One member more: exactly its bucket changes, at every count.
  const r2 = setup(3_000).roster;
  r2.applyAlive(entry("newcomer"));
  for (const count of [32, 256, 1024]) {
    const differ = r2.differingBuckets(roster.digest(count));
    assertEquals(differ.length, 1, `count ${count}`);
    const items = r2.items(new Set(differ), count).map((i) => i.entry.peerId);
    assert(items.includes("newcomer"));
    // The bucket holds about 3,000 / count members: what a repair sends.
    assert(items.length <= Math.max(4, (3_000 / count) * 2), `${items.length} at ${count}`);
  }
  // A digest whose length is not a bucket count compares as nothing.
  assertEquals(r2.differingBuckets([1, 2, 3]), []);
});

Deno.test("RosterSync: digests of a large roster have more buckets, and a pull names its count (32 stays unnamed for older members)", () => {
  const { sync, sent, roster } = setup(5_000);
  sync.sendDigest("x", 1024);
  const digest = sent.at(-1)![1] as Extract<OverlayMessage, { t: "digest" }>;
  assertEquals(digest.buckets.length, 256);
  sync.sendDigest("old"); // no digestBuckets in its hello
  assertEquals((sent.at(-1)![1] as Extract<OverlayMessage, { t: "digest" }>).buckets.length, 32);
  // Their digest differs in one of 256 buckets: ~20 entries go, not a 32nd of the roster.
  sent.length = 0;
  const theirs = roster.digest(256);
  theirs[7] ^= 1;
  sync.onDigest("x", theirs);
  assertEquals(sent.at(-1), ["x", { t: "pull", buckets: [7], count: 256 }]);
  const items = sent.slice(0, -1).flatMap(([, m]) => m.t === "roster" ? m.entries : []);
  assertEquals(items, roster.items(new Set([7]), 256));
  assert(items.length < 60, `${items.length} items`);
  sent.length = 0;
  sync.onPull("x", [7], 256);
  assertEquals(sent.flatMap(([, m]) => m.t === "roster" ? m.entries : []), items);
  sent.length = 0;
  sync.onPull("x", [7], 100); // not a bucket count: ignored
  sync.onPull("x", [600], 256); // no such bucket
  assertEquals(sent, []);
});
