import { assertEquals } from "@std/assert";
import { AddressRotation, relayKey } from "../../src/connect/address_rotation.ts";
import { signalingAddresses } from "../../src/known_peers.ts";

const R1 = "12D3KooWRelayOne";
const R2 = "12D3KooWRelayTwo";
const P = "12D3KooWPeer";
const atR1 = `/ip4/127.0.0.1/tcp/4001/p2p/${R1}/p2p-circuit/p2p/${P}`;
const atR1ws = `/ip4/127.0.0.1/tcp/4002/ws/p2p/${R1}/p2p-circuit/p2p/${P}`;
const atR2 = `/ip4/127.0.0.1/tcp/5001/p2p/${R2}/p2p-circuit/p2p/${P}`;
const lan = `/ip4/192.168.1.7/tcp/6001/p2p/${P}`;

Deno.test("relayKey() names the relay of a circuit address, and a direct address by itself", () => {
  assertEquals(relayKey(atR1), R1);
  assertEquals(relayKey(atR1ws), R1);
  assertEquals(relayKey(lan), lan);
});

Deno.test("signalingAddresses() puts LAN TCP addresses first, then every relay's, and drops WebRTC ones", () => {
  const webrtc = `${atR2}/webrtc`;
  assertEquals(signalingAddresses([atR1, webrtc, lan, atR2, atR1]), [lan, atR1, atR2]);
  assertEquals(signalingAddresses([`/ip4/1.2.3.4/udp/1/webrtc-direct/p2p/${R1}/p2p-circuit`]), [
    `/ip4/1.2.3.4/udp/1/webrtc-direct/p2p/${R1}/p2p-circuit`,
  ]);
  assertEquals(signalingAddresses([]), []);
});

const down = new Error("All multiaddr dials failed");
const notThere = new Error("failed to connect via relay with status NO_RESERVATION");

Deno.test("AddressRotation: an unreached relay is skipped with all its addresses, then the next one is tried", () => {
  const rotation = new AddressRotation();
  const addresses = [atR1, atR1ws, atR2];
  assertEquals(rotation.pick(addresses), atR1);
  assertEquals(rotation.unreached(atR1, down, addresses), "elsewhere");
  assertEquals(rotation.pick(addresses), atR2); // the WebSocket address of R1 is R1 too
  // Every address failed, with relays down rather than "not there": back off, not give up.
  assertEquals(rotation.unreached(atR2, down, addresses), "exhausted");
  assertEquals(rotation.pick(addresses), atR1); // and the next round starts again
  assertEquals(rotation.pick([]), undefined);
});

Deno.test("AddressRotation: gone only when every relay said the peer holds no reservation", () => {
  const rotation = new AddressRotation();
  const addresses = [atR1, atR2];
  assertEquals(rotation.unreached(atR1, notThere, addresses), "elsewhere");
  assertEquals(rotation.pick(addresses), atR2);
  assertEquals(rotation.unreached(atR2, down, addresses), "exhausted");
  assertEquals(rotation.unreached(atR2, notThere, addresses), "gone");
  assertEquals(rotation.unreached(atR2, notThere, []), "exhausted");
  // A newer record with a relay not tried yet: that one is next, and the peer is not gone.
  const moved = [atR1, `/ip4/127.0.0.1/tcp/7001/p2p/12D3KooWRelayThree/p2p-circuit/p2p/${P}`];
  assertEquals(rotation.unreached(atR1, notThere, moved), "elsewhere");
  assertEquals(rotation.pick(moved), moved[1]);
});
