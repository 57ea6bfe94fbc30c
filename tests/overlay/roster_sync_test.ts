/**
 * `RosterSync` on its own (src/overlay/roster_sync.ts): whom a newcomer asks for the
 * roster, and what goes out for a snapshot, a digest and a pull. The node's behaviour over a
 * network is in node_test.ts.
 */
import { assert, assertEquals } from "@std/assert";
import { MemberIndex, Roster } from "../../src/overlay/roster.ts";
import { RosterSync } from "../../src/overlay/roster_sync.ts";
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
