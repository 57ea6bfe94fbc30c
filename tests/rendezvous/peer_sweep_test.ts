import { assert, assertEquals } from "@std/assert";
import { multiaddr } from "@multiformats/multiaddr";
import type { Datastore } from "interface-datastore";
import { PeerRetention } from "../../src/rendezvous/peer_sweep.ts";
import { createParticipantLibp2p } from "../../src/node.ts";
import { startBootstrapNode } from "../../mod.ts";
import { waitUntil } from "../integration/_harness.ts";

Deno.test("PeerRetention forgets peers idle past the retention, never connected ones, and each once", () => {
  const r = new PeerRetention(1000);
  r.active("a", 0);
  r.active("b", 0);
  r.active("c", 500);
  const connected = new Set(["b"]);
  assertEquals(r.due(1000, (p) => connected.has(p)), []); // not idle long enough
  assertEquals(r.due(1001, (p) => connected.has(p)), ["a"]); // b is connected: kept
  assertEquals(r.due(1400, (p) => connected.has(p)), []);
  r.active("c", 1400); // announced again
  connected.clear();
  assertEquals(r.due(2002, () => false), ["b"]); // idle since it was found connected at 1001
  assertEquals(r.due(2401, () => false), ["c"]);
  assertEquals(r.size, 0);
  assertEquals(r.due(9999, () => false), []);
});

async function peerEntries(node: { libp2p: unknown }): Promise<number> {
  const datastore = (node.libp2p as { components: { datastore: Datastore } }).components.datastore;
  let n = 0;
  for await (const _ of datastore.query({ prefix: "/peers/" })) n++;
  return n;
}

Deno.test("a bootstrap node forgets participants that left once their provider records expired, and keeps other DHT servers", async () => {
  // Provider records live 1 s here, so participants are remembered for 2 s after they go.
  const limits = { providerTtlMs: 1000 };
  const boot = await startBootstrapNode({
    listen: ["/ip4/127.0.0.1/tcp/0"],
    rendezvousLimits: limits,
  });
  const other = await startBootstrapNode({
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peers: boot.addresses,
    rendezvousLimits: limits,
  });
  try {
    for (let i = 0; i < 6; i++) {
      const node = await createParticipantLibp2p({ rtcConfiguration: {} });
      await node.dial(multiaddr(boot.addresses[0]));
      // Connected, identified and reserved, as a member is.
      await waitUntil(
        () => node.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit")),
        "a relay reservation",
        5_000,
      );
      await node.stop();
    }
    assert(await peerEntries(boot) >= 8, "the participants and the other server are known");
    await other.stop(); // another DHT server, now disconnected: its addresses stay
    const deadline = Date.now() + 10_000;
    // What stays: the node's own entry and the other server's.
    while (await peerEntries(boot) > 2) {
      assert(Date.now() < deadline, `${await peerEntries(boot)} peers still known after 10 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2500)); // another sweep: the server stays
    assertEquals(await peerEntries(boot), 2);
    assert(await boot.libp2p.peerStore.has(other.libp2p.peerId));
    assert(await boot.libp2p.peerStore.has(boot.libp2p.peerId));
  } finally {
    await other.stop();
    await boot.stop();
  }
});
