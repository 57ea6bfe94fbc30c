import { assertEquals } from "@std/assert";
import {
  relayAddressKey,
  RelayAddressWatcher,
  type RelayAddressWatcherInit,
  relayReservationCount,
  relaysOf,
} from "../src/relay_reservations.ts";

const R1 = "/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWRelayOne/p2p-circuit/p2p/12D3KooWMe";
const R1W = "/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWRelayOne/p2p-circuit/webrtc/p2p/12D3KooWMe";
const R2 = "/ip4/127.0.0.1/tcp/2/p2p/12D3KooWRelayTwo/p2p-circuit/p2p/12D3KooWMe";

Deno.test("relayReservationCount() asks for two, never more than the bootstrap nodes, at least one", () => {
  assertEquals([0, 1, 2, 3, 9].map((n) => relayReservationCount(n)), [1, 1, 2, 2, 2]);
  assertEquals(relayReservationCount(5, 3), 3);
});

Deno.test("relaysOf() and relayAddressKey() look only at relay-circuit addresses", () => {
  assertEquals(relaysOf([R1, R1W, R2, "/ip4/1.2.3.4/tcp/5"]), [
    "12D3KooWRelayOne",
    "12D3KooWRelayTwo",
  ]);
  assertEquals(relayAddressKey([R2, "/ip4/1.2.3.4/tcp/5", R1]), relayAddressKey([R1, R2]));
});

/** A node with addresses and events, as much of libp2p as the watcher uses. */
class FakeNode extends EventTarget {
  addresses: string[] = [R1, R1W, R2];
  getMultiaddrs() {
    return this.addresses.map((a) => ({ toString: () => a }));
  }
}

Deno.test("RelayAddressWatcher calls back once per change of relay addresses, not for other events", async () => {
  const node = new FakeNode();
  const seen: string[][] = [];
  const watcher = new RelayAddressWatcher({
    libp2p: node as unknown as RelayAddressWatcherInit["libp2p"],
    onChange: (a) => {
      seen.push(a);
    },
    settleMs: 5,
  });
  watcher.start();
  const tick = () => new Promise((r) => setTimeout(r, 30));
  node.dispatchEvent(new Event("connection:close")); // nothing changed
  await tick();
  assertEquals(seen.length, 0);
  node.addresses = [R2]; // relay one died
  node.dispatchEvent(new Event("connection:close"));
  node.dispatchEvent(new Event("transport:listening"));
  await tick();
  assertEquals(seen, [[R2]]);
  node.addresses = [R2, R1]; // reserved again
  node.dispatchEvent(new Event("transport:listening"));
  await tick();
  assertEquals(seen.length, 2);
  watcher.stop();
  node.addresses = [];
  node.dispatchEvent(new Event("transport:listening"));
  await tick();
  assertEquals(seen.length, 2, "stopped: no more callbacks");
  assertEquals(watcher.changes, 2);
});
