import { assertEquals } from "@std/assert";
import { multiaddr } from "@multiformats/multiaddr";
import { BootstrapKeeper, BootstrapRedial } from "../src/bootstrap_keeper.ts";

const timers = { firstMs: 1_000, maxMs: 4_000 };

Deno.test("BootstrapRedial: a lost node is dialed firstMs later, then after doubling pauses up to maxMs; a connection resets it", () => {
  const r = new BootstrapRedial(1, 1, timers, () => 0.5);
  assertEquals(r.due(0), []); // connected at the start
  assertEquals(r.nextWake(0), undefined);
  r.disconnected(0, 100);
  assertEquals(r.due(500), []);
  assertEquals(r.nextWake(500), 1_100);
  assertEquals(r.due(1_100), [0]);
  assertEquals(r.due(1_100), []); // being dialed
  assertEquals(r.nextWake(1_100), undefined);
  r.failed(0, 1_200);
  assertEquals(r.nextWake(1_200), 3_200); // 2 s
  assertEquals(r.due(3_200), [0]);
  r.failed(0, 3_300);
  assertEquals(r.nextWake(3_300), 7_300); // 4 s: the cap
  assertEquals(r.due(7_300), [0]);
  r.failed(0, 7_400);
  assertEquals(r.nextWake(7_400), 11_400); // still 4 s
  r.connected(0);
  assertEquals(r.due(20_000), []);
  r.disconnected(0, 20_000);
  assertEquals(r.nextWake(20_000), 21_000); // reset to 1 s
});

Deno.test("BootstrapRedial: pauses are stretched by 75-125 %", () => {
  for (const [random, wake] of [[0, 750], [0.999999, 1_250]] as const) {
    const r = new BootstrapRedial(1, 1, timers, () => random);
    r.disconnected(0, 0);
    assertEquals(Math.round(r.nextWake(0)!), wake);
  }
});

Deno.test("BootstrapRedial: no dials while enough nodes are connected; the missing ones once fewer are", () => {
  const r = new BootstrapRedial(3, 2, timers, () => 0.5);
  r.disconnected(2, 0);
  assertEquals(r.due(5_000), []); // two of three connected: enough
  assertEquals(r.nextWake(5_000), undefined);
  r.disconnected(1, 5_000);
  assertEquals(r.due(5_500), [2]); // node 1's pause has not run out yet
  assertEquals(r.due(6_000), [1]);
  assertEquals(r.connectedCount, 1);
  r.disconnected(1, 6_100); // repeated events do not restart its pause
  assertEquals(r.nextWake(6_100), undefined); // both being dialed
});

/** A fake libp2p node: connections by peer id, dials answered from a script. */
class FakeNode extends EventTarget {
  peers = new Set<string>();
  up = new Set<string>();
  dialed: string[] = [];
  getConnections() {
    return [...this.peers].map((p) => ({ remotePeer: { toString: () => p } }));
  }
  dial(addresses: ReturnType<typeof multiaddr>[]) {
    const peer = addresses[0].toString().split("/p2p/")[1];
    this.dialed.push(peer);
    if (!this.up.has(peer)) return Promise.reject(new Error("connection refused"));
    this.peers.add(peer);
    this.dispatchEvent(new Event("connection:open"));
    return Promise.resolve();
  }
  drop(peer: string) {
    this.peers.delete(peer);
    this.dispatchEvent(new Event("connection:close"));
  }
}

Deno.test("BootstrapKeeper: redials a lost bootstrap node until it is back, then stops", async () => {
  const node = new FakeNode();
  const a = "12D3KooWA", b = "12D3KooWB";
  node.peers = new Set([a, b]);
  node.up = new Set([a, b]);
  const groups = [a, b].map((p) => [multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${p}`)]);
  const keeper = new BootstrapKeeper(node, groups, 2, { firstMs: 20, maxMs: 80 });
  keeper.start();
  try {
    await new Promise((r) => setTimeout(r, 60));
    assertEquals(node.dialed, []); // both connected
    node.up.delete(b);
    node.drop(b);
    await new Promise((r) => setTimeout(r, 200)); // 20, then 40, 80, 80 (±25 %): 2-4 failed dials
    const failed = node.dialed.length;
    assertEquals(failed >= 2 && failed <= 4, true, `dials while down: ${failed}`);
    node.up.add(b);
    await new Promise((r) => setTimeout(r, 120));
    assertEquals(node.peers.has(b), true);
    const total = node.dialed.length;
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(node.dialed.length, total); // connected again: no more dials
    assertEquals(keeper.dials, total);
  } finally {
    keeper.stop();
  }
});
