import { assert, assertEquals, assertThrows } from "@std/assert";
import { OverlayNode } from "../../src/overlay/node.ts";
import {
  decodeOverlayMessage,
  encodeOverlayMessage,
  estimateMessageBytes,
} from "../../src/overlay/codec.ts";
import { InvalidFrameError } from "../../src/errors.ts";
import type { OverlayMessage } from "../../src/overlay/types.ts";
import { signEntry } from "../../src/overlay/signing.ts";
import { fakeCrypto, prng, TestNet } from "./_net.ts";

const SMALL = { lowDegree: 3, targetDegree: 4, highDegree: 6, maxDegree: 8 };

function components(net: TestNet): number {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const p of net.live()) parent.set(p, p);
  for (const key of net.links) {
    const [a, b] = key.split("|");
    if (parent.has(a) && parent.has(b)) parent.set(find(a), find(b));
  }
  return new Set([...parent.keys()].map(find)).size;
}

function degrees(net: TestNet): number[] {
  return net.live().map((p) => net.nodes.get(p)!.neighbours().length);
}

/** n members, each joining 200 ms after the previous one through one random earlier member. */
function grow(net: TestNet, n: number): void {
  for (let i = 0; i < n; i++) {
    const id = `p${String(i).padStart(3, "0")}`;
    const earlier = [...net.nodes.keys()];
    net.add(id, earlier.length ? [earlier[Math.floor(earlier.length / 2)]] : []);
    net.run(net.now + 200);
  }
}

Deno.test("overlay: two members link and hold each other in their rosters", () => {
  const net = new TestNet();
  net.add("a");
  net.add("b", ["a"]);
  net.run(2_000);
  assertEquals(net.nodes.get("a")!.rosterSize(), 2);
  assertEquals(net.nodes.get("b")!.rosterSize(), 2);
  assertEquals(net.nodes.get("a")!.neighbours(), ["b"]);
  assert(net.observed.joins.get("a")!.has("b"));
  assert(net.observed.joins.get("b")!.has("a"));
});

Deno.test("overlay: a small meeting (≤ maxDegree + 1) stays a full mesh", () => {
  const net = new TestNet(SMALL, 2);
  grow(net, 9);
  net.run(net.now + 5_000);
  assertEquals(degrees(net), Array(9).fill(8));
});

Deno.test("overlay: 60 members above the cap: complete rosters, bounded degree, one component", () => {
  const net = new TestNet(SMALL, 3);
  grow(net, 60);
  net.run(net.now + 30_000);
  for (const p of net.live()) assertEquals(net.nodes.get(p)!.rosterSize(), 60, `roster of ${p}`);
  const d = degrees(net);
  assert(Math.max(...d) <= SMALL.maxDegree, `max degree ${Math.max(...d)}`);
  assert(Math.min(...d) >= SMALL.lowDegree - 1, `min degree ${Math.min(...d)}`);
  assertEquals(components(net), 1);
});

Deno.test("overlay: a broadcast reaches every member exactly once, through the mesh", () => {
  const net = new TestNet(SMALL, 4);
  grow(net, 40);
  net.run(net.now + 40_000);
  assertEquals(components(net), 1);
  net.do("p007", (n) => n.broadcast(3, new TextEncoder().encode("hello all"), net.now));
  net.run(net.now + 5_000);
  for (const p of net.live()) {
    const got = net.observed.delivered.get(p)!.filter((d) => d.origin === "p007");
    assertEquals(got.length, p === "p007" ? 0 : 1, `deliveries at ${p}`);
  }
  const hops = [...net.observed.delivered.values()].flat().length;
  assertEquals(hops, 39);
});

Deno.test("overlay: crashed members leave every roster (suspicion, then death)", () => {
  const net = new TestNet({ ...SMALL, suspicionMs: 4_000 }, 5);
  grow(net, 40);
  net.run(net.now + 40_000);
  assertEquals(components(net), 1);
  const crashedAt = net.now;
  for (const p of ["p003", "p020", "p033"]) net.crash(p, 3_000);
  net.run(crashedAt + 3_000 + 4_000 + 3_000);
  for (const p of net.live()) {
    assertEquals(net.nodes.get(p)!.rosterSize(), 37, `roster of ${p}`);
    for (const c of ["p003", "p020", "p033"]) {
      assertEquals(net.observed.leaves.get(p)!.get(c), "failed", `${c} at ${p}`);
    }
  }
  assertEquals(components(net), 1);
});

Deno.test("overlay: a live member refutes a false suspicion and stays in every roster", () => {
  const net = new TestNet({ ...SMALL, suspicionMs: 4_000 }, 6);
  grow(net, 20);
  net.run(net.now + 10_000);
  const target = "p010";
  const accuser = net.nodes.get(target)!.neighbours()[0];
  // The accuser's link to the target breaks (not the target): it raises a suspicion.
  net.links.delete(TestNet.key(accuser, target));
  net.do(accuser, (n) => n.linkDown(target, net.now, { failed: true }));
  net.do(target, (n) => n.linkDown(accuser, net.now, { failed: true }));
  net.run(net.now + 15_000);
  for (const p of net.live()) {
    assert(net.nodes.get(p)!.has(target), `${p} still holds ${target}`);
    assert(!net.observed.leaves.get(p)!.has(target));
  }
  assert(net.nodes.get(target)!.stats.refutations >= 1);
});

Deno.test("overlay: a member that leaves is gone from every roster as 'left'", () => {
  const net = new TestNet(SMALL, 7);
  grow(net, 30);
  net.run(net.now + 40_000);
  assertEquals(components(net), 1);
  net.do("p015", (n) => n.leave(net.now));
  net.dead.add("p015"); // stops ticking; its queued sends still go out below
  net.run(net.now + 5_000);
  for (const p of net.live()) {
    assertEquals(net.observed.leaves.get(p)!.get("p015"), "left", `at ${p}`);
  }
});

Deno.test("overlay: a forged join (bad signature) is not taken into the roster", () => {
  const net = new TestNet(SMALL, 8);
  grow(net, 5);
  net.run(net.now + 5_000);
  const victim = net.nodes.get("p001")!;
  const relay = victim.neighbours()[0];
  const forged = {
    peerId: "mallory",
    name: "mallory",
    joinedAt: 1,
    incarnation: 1,
    contact: [],
    sig: fakeCrypto(relay).sign(new Uint8Array([1])), // signed by someone else
  };
  victim.receive(relay, {
    t: "gossip",
    id: "a/mallory/1",
    hops: 0,
    rumor: { k: "alive", entry: forged },
  }, net.now);
  assert(!victim.has("mallory"));
  assertEquals(victim.stats.invalid, 1);
});

/** One member driven by hand: its actions are collected after every input. */
function solo(peerId: string) {
  const node = new OverlayNode({
    self: { peerId, name: peerId, joinedAt: 1_000, contact: [] },
    topic: "test",
    crypto: fakeCrypto(peerId),
    random: prng(3),
    now: 0,
  });
  const sent = (to?: string) =>
    node.takeActions().flatMap((a) =>
      a.type === "send" && (to === undefined || a.to === to) ? [a.msg] : []
    );
  const entry = (id: string) =>
    signEntry("test", fakeCrypto(id), {
      peerId: id,
      name: id,
      joinedAt: 900,
      incarnation: 900,
      contact: [],
    });
  const hello = (id: string, ready: boolean): OverlayMessage => ({
    t: "hello",
    entry: entry(id),
    degree: 3,
    wantRoster: false,
    ready,
  });
  return { node, sent, entry, hello };
}

Deno.test("overlay: a newcomer asks a member that holds the roster, not another newcomer", () => {
  const { node, sent, entry, hello } = solo("new");
  node.linkUp("fresh", 10, { inbound: false });
  const first = sent("fresh");
  assertEquals(first.map((m) => m.t === "hello" && m.wantRoster), [true]); // asked at once
  node.linkUp("old", 20, { inbound: false });
  assertEquals(sent("old").map((m) => m.t === "hello" && m.wantRoster), [false]); // one at a time
  node.receive("old", hello("old", true), 30);
  const wants = () => sent().filter((m) => m.t === "want");
  assertEquals(wants(), []); // the ask to "fresh" is still open
  node.receive("fresh", hello("fresh", false), 40);
  // "fresh" holds no roster either: the member that does is asked.
  assertEquals(wants(), [{ t: "want" }]);
  // What "fresh" had is merged, but does not count as the roster.
  node.receive("fresh", {
    t: "roster",
    entries: [{ entry: entry("x"), status: "alive" }],
    last: true,
  }, 50);
  assert(node.has("x"));
  node.linkUp("p3", 60, { inbound: true });
  assertEquals(sent("p3").map((m) => m.t === "hello" && m.ready), [false]);
  node.receive("old", {
    t: "roster",
    entries: [{ entry: entry("y"), status: "alive" }],
    last: true,
  }, 70);
  assert(node.has("y"));
  node.linkUp("p4", 80, { inbound: true });
  const h = sent("p4")[0];
  assert(h.t === "hello" && h.ready && !h.wantRoster);
});

Deno.test("overlay: the first member, with nobody to ask, holds the roster after a while", () => {
  const { node, sent } = solo("founder");
  node.linkUp("b", 1_000, { inbound: true });
  const h1 = sent("b")[0];
  assert(h1.t === "hello" && h1.ready === false);
  node.receive("b", solo("b").hello("b", false), 1_050); // b is new as well
  for (let t = 1_100; t <= 8_000; t += 100) node.tick(t);
  sent();
  node.linkUp("c", 8_100, { inbound: true });
  const h2 = sent("c")[0];
  assert(h2.t === "hello" && h2.ready === true && !h2.wantRoster);
});

Deno.test("overlay: options are checked", () => {
  assertThrows(
    () =>
      new OverlayNode({
        self: { peerId: "x", name: "x", joinedAt: 1, contact: [] },
        topic: "t",
        crypto: fakeCrypto("x"),
        options: { lowDegree: 9, targetDegree: 4 },
        now: 0,
      }),
    RangeError,
    "lowDegree ≤ targetDegree",
  );
});

Deno.test("overlay codec: round trip, size estimate, malformed input is InvalidFrameError", () => {
  const entry = {
    peerId: "12D3KooWabc",
    name: "ann",
    joinedAt: 5,
    incarnation: 5,
    contact: ["/ip4/1.2.3.4/tcp/1/p2p/x/p2p-circuit/p2p/y"],
    sig: new Uint8Array(64).fill(7),
  };
  const msgs: OverlayMessage[] = [
    { t: "hello", entry, degree: 3, wantRoster: true },
    { t: "hello", entry, degree: 0, wantRoster: false, ready: false },
    { t: "hello", entry, degree: 1, wantRoster: false, digestBuckets: 1024 },
    { t: "roster", entries: [{ entry, status: "suspect" }], last: true },
    {
      t: "gossip",
      id: "m/x/1",
      hops: 2,
      rumor: {
        k: "app",
        origin: "x",
        seq: 1,
        channel: 4,
        payload: new Uint8Array([1, 2, 3]),
        sig: new Uint8Array(64),
      },
    },
    { t: "ihave", ids: ["a/x/1"] },
    { t: "pull", buckets: [3, 511], count: 512 },
    { t: "pull", buckets: [3] },
    { t: "digest", buckets: [1, 2, 4294967295] },
    { t: "lazy" },
    { t: "want" },
  ];
  for (const m of msgs) {
    const bytes = encodeOverlayMessage(m);
    assertEquals(decodeOverlayMessage(bytes), m);
    const est = estimateMessageBytes(m);
    assert(
      Math.abs(est - bytes.length) / bytes.length < 0.5,
      `${m.t}: estimate ${est} vs ${bytes.length}`,
    );
  }
  for (
    const bad of [
      "",
      "[]",
      '{"t":"nope"}',
      '{"t":"hello"}',
      '{"t":"ihave","ids":[1]}',
      '{"t":"digest","buckets":[-1]}',
    ]
  ) {
    assertThrows(() => decodeOverlayMessage(new TextEncoder().encode(bad)), InvalidFrameError);
  }
});

Deno.test("overlay: a newcomer whose first connects all fail goes on to its other entry points", () => {
  // Its first connects get no answer for 40 s, long enough for it to hold its roster of one
  // (nobody to ask), as the first member of a meeting does; it must still link to the others
  // discovery finds (a 60-member test meeting had last joiners alone for minutes).
  const node = new OverlayNode({
    self: { peerId: "new", name: "new", joinedAt: 1_000, contact: [] },
    topic: "test",
    crypto: fakeCrypto("new"),
    random: prng(3),
    now: 0,
    options: { lowDegree: 3, targetDegree: 4, highDegree: 5, maxDegree: 6 },
  });
  const points = Array.from({ length: 8 }, (_, i) => ({ peerId: `e${i}`, contact: ["x"] }));
  const connects: { at: number; peer: string }[] = [];
  const take = (at: number) => {
    for (const a of node.takeActions()) {
      if (a.type === "connect") connects.push({ at, peer: a.peer });
    }
  };
  node.addEntryPoints(points, 0);
  take(0);
  assertEquals(connects.map((c) => c.peer), ["e0", "e1", "e2", "e3"]);
  for (let t = 500; t <= 60_000; t += 500) {
    if (t % 3000 === 0) node.addEntryPoints(points, t); // lookups keep finding them
    if (t === 40_000) { for (const p of ["e0", "e1", "e2", "e3"]) node.connectFailed(p, t); }
    node.tick(t);
    take(t);
  }
  const later = new Set(connects.filter((c) => c.at >= 40_000).map((c) => c.peer));
  assertEquals([...later].sort(), ["e4", "e5", "e6", "e7"]);
});
