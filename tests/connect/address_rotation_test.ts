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

Deno.test("AddressRotation: an unreached relay is skipped with all its addresses, then the next one is tried", () => {
  const rotation = new AddressRotation();
  const addresses = [atR1, atR1ws, atR2];
  assertEquals(rotation.next(addresses), atR1);
  rotation.unreached(atR1, false);
  assertEquals(rotation.next(addresses), atR2); // the WebSocket address of R1 is R1 too
  rotation.unreached(atR2, false);
  assertEquals(rotation.next(addresses), undefined);
  assertEquals(rotation.gone(addresses), false); // relays down, not "not there"
  rotation.reset();
  assertEquals(rotation.next(addresses), atR1);
});

Deno.test("AddressRotation: gone() only when every relay said the peer holds no reservation", () => {
  const rotation = new AddressRotation();
  const addresses = [atR1, atR2];
  rotation.unreached(atR1, true);
  assertEquals(rotation.gone(addresses), false);
  assertEquals(rotation.next(addresses), atR2);
  rotation.unreached(atR2, false);
  assertEquals(rotation.gone(addresses), false);
  rotation.unreached(atR2, true);
  assertEquals(rotation.gone(addresses), true);
  assertEquals(rotation.gone([]), false);
  // A newer record with a relay not tried yet: that one is next, and the peer is not gone.
  const moved = [atR1, `/ip4/127.0.0.1/tcp/7001/p2p/12D3KooWRelayThree/p2p-circuit/p2p/${P}`];
  assertEquals(rotation.next(moved), moved[1]);
  assertEquals(rotation.gone(moved), false);
});
