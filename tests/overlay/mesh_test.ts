/**
 * `Mesh` on its own (src/overlay/mesh.ts): the link table and the upkeep decisions, with a
 * roster filled by hand and a fixed clock. The node's behaviour over a network is in
 * node_test.ts.
 */
import { assert, assertEquals } from "@std/assert";
import { Mesh } from "../../src/overlay/mesh.ts";
import { MemberIndex, Roster } from "../../src/overlay/roster.ts";
import type { MemberEntry } from "../../src/overlay/types.ts";
import { prng } from "./_net.ts";

function entry(peerId: string): MemberEntry {
  return {
    peerId,
    name: peerId,
    joinedAt: 1,
    incarnation: 1,
    contact: [`/c/${peerId}`],
    sig: new Uint8Array(4),
  };
}

/** A roster holding `self` and `others` members m00, m01, … (signatures are not checked here). */
function roster(others: number): Roster {
  const r = new Roster(new MemberIndex(), entry("self"));
  for (let i = 0; i < others; i++) r.applyAlive(entry(`m${String(i).padStart(2, "0")}`));
  return r;
}

const DEGREES = { lowDegree: 1, targetDegree: 2, highDegree: 2, maxDegree: 3 };

Deno.test("Mesh.linkUp() refuses a link past maxDegree; takeIn() takes in an under-linked member when a neighbour can spare its link", () => {
  const mesh = new Mesh("self", DEGREES, prng(1), roster(10));
  for (const p of ["m00", "m01", "m02"]) mesh.linkUp(p, 0, { inbound: true }, undefined);
  const refused = mesh.linkUp("m03", 0, { inbound: true }, undefined);
  assertEquals(refused.refuseAt, 2_000);
  assertEquals(mesh.degree(), 3);
  assertEquals(mesh.isNeighbour("m03"), false);
  assertEquals(mesh.counts("m03"), false);
  assertEquals(mesh.neighbours(), ["m00", "m01", "m02"]);
  // No neighbour has said how many links it has: none can be asked to spare one.
  assertEquals(mesh.takeIn("m03"), undefined);
  assert(mesh.get("m03")!.refuseAt !== undefined);
  const spare = mesh.get("m01")!;
  spare.hello = true;
  spare.degree = DEGREES.lowDegree + 2;
  assertEquals(mesh.takeIn("m03"), "m01");
  assertEquals(mesh.isNeighbour("m03"), true);
});

Deno.test("Mesh.maintain() links everyone in a small meeting, backs off from a failed connect, and tries it again once the back-off ran out", () => {
  const mesh = new Mesh(
    "self",
    { lowDegree: 6, targetDegree: 8, highDegree: 12, maxDegree: 16 },
    prng(2),
    roster(4),
  );
  assert(mesh.fullMesh);
  const first = mesh.maintain(0, true);
  assertEquals(first.map((c) => c.peer).sort(), ["m00", "m01", "m02", "m03"]);
  assertEquals(first[0], {
    type: "connect",
    peer: first[0].peer,
    contact: [`/c/${first[0].peer}`],
  });
  // All four are in flight: nothing more to open.
  assertEquals(mesh.maintain(100, true), []);
  mesh.connectFailed("m02", 1_000);
  assertEquals(mesh.maintain(1_000, true), []);
  // Connects in flight are forgotten after 20 s, the back-off after 30 s.
  mesh.expire(25_000);
  assertEquals(mesh.maintain(25_000, true).map((c) => c.peer).sort(), ["m00", "m01", "m03"]);
  mesh.expire(31_000);
  assertEquals(mesh.maintain(31_000, true).map((c) => c.peer), ["m02"]);
});

Deno.test("Mesh.surplus() drops a settled neighbour above highDegree, the slowest when the coin says so", () => {
  // A constant 0.1: the random pick is the first candidate, and the coin (< 0.5) says slowest.
  const mesh = new Mesh("self", DEGREES, () => 0.1, roster(10));
  assert(!mesh.fullMesh);
  for (const [p, rtt] of [["m00", 40], ["m01", 300], ["m02", 80]] as const) {
    mesh.linkUp(p, 0, { inbound: false, rttMs: rtt }, undefined);
  }
  assertEquals(mesh.surplus(20_000), undefined); // no hello yet: not settled
  for (const p of ["m00", "m01", "m02"]) mesh.get(p)!.hello = true;
  assertEquals(mesh.surplus(9_999), undefined); // younger than 10 s
  assertEquals(mesh.surplus(10_000), "m01");
  mesh.remove("m01");
  assertEquals(mesh.surplus(10_000), undefined); // at highDegree: nothing to drop
});

Deno.test("Mesh.peerExchange() hands over up to 8 live members, never the pruned one or ourselves", () => {
  const mesh = new Mesh("self", DEGREES, prng(3), roster(20));
  const peers = mesh.peerExchange("m05").map((e) => e.peerId);
  assertEquals(peers.length, 8);
  assertEquals(new Set(peers).size, 8);
  assert(!peers.includes("m05") && !peers.includes("self"), peers.join(","));
  assertEquals(
    new Mesh("self", DEGREES, prng(3), roster(2)).peerExchange("m00").map((e) => e.peerId),
    ["m01"],
  );
});

Deno.test("Mesh.suggest() keeps the latest 32 suggestions, and maintain() tries them first", () => {
  const r = roster(60);
  const mesh = new Mesh(
    "self",
    { lowDegree: 6, targetDegree: 8, highDegree: 12, maxDegree: 16 },
    prng(4),
    r,
  );
  for (let i = 0; i < 40; i++) mesh.suggest(entry(`m${String(i).padStart(2, "0")}`));
  mesh.suggest(entry("self")); // ignored
  // The latest suggestions are popped first; m00–m07 fell out of the 32 kept.
  assertEquals(mesh.maintain(0, true).map((c) => c.peer), ["m39", "m38", "m37", "m36"]);
  mesh.forget("m35");
  mesh.expire(21_000);
  assertEquals(mesh.maintain(21_000, true).map((c) => c.peer), ["m34", "m33", "m32", "m31"]);
});
