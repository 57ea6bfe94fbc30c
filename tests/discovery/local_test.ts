/**
 * LocalDiscovery's challenge over real libp2p nodes on loopback TCP. Multicast itself is
 * replaced by handing each node its neighbour's sighting (the real mDNS runs in
 * `local_lan_test.ts`, in network namespaces).
 */
import { assert, assertEquals } from "@std/assert";
import type { PeerInfo } from "@libp2p/interface";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { deriveTopicKeys, generateInvitationCode, type TopicKeys } from "../../mod.ts";
import { LOCAL_PROTOCOL, LocalDiscovery } from "../../src/discovery/local.ts";
import { localNonce } from "../../src/discovery/local_proof.ts";
import { createParticipantLibp2p, type ParticipantLibp2p } from "../../src/node.ts";
import type { Presence } from "../../src/presence.ts";
import type { MdnsInit } from "../../src/runtime/mdns.ts";
import { FramedStream } from "../../src/framed_stream.ts";
import { FrameType } from "../../src/frame.ts";
import { silentLogger } from "../../src/logger.ts";
import { toHex } from "../../src/topic.ts";

interface Node {
  libp2p: ParticipantLibp2p;
  local: LocalDiscovery;
  found: Presence[];
  sight: (peer: PeerInfo) => void;
  name: string;
}

async function node(keys: TopicKeys, name: string): Promise<Node> {
  const privateKey = await generateKeyPair("Ed25519");
  const libp2p = await createParticipantLibp2p({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] });
  const found: Presence[] = [];
  let onPeer: ((peer: PeerInfo) => void) | undefined;
  const local = new LocalDiscovery({
    libp2p,
    keys,
    privateKey,
    includeLoopback: true,
    fallbackMs: 300,
    log: silentLogger.forComponent("test"),
    selfInfo: () => ({
      peerId: libp2p.peerId.toString(),
      name,
      joinedAt: Date.now(),
      addresses: [],
    }),
    onPresence: (p) => found.push(p),
    startMdns: (init: MdnsInit) => {
      onPeer = init.onPeer;
      return Promise.resolve({ stop: () => Promise.resolve() });
    },
  });
  await local.start();
  return { libp2p, local, found, sight: (peer) => onPeer!(peer), name };
}

function infoOf(n: Node): PeerInfo {
  return { id: n.libp2p.peerId, multiaddrs: n.local.lanAddresses };
}

async function waitUntil(cond: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopAll(nodes: Node[]) {
  for (const n of nodes) await n.local.stop();
  await Promise.all(nodes.map((n) => n.libp2p.stop()));
}

Deno.test("LocalDiscovery: two members seen on the LAN exchange verified presence records with their LAN addresses", async () => {
  const keys = await deriveTopicKeys(generateInvitationCode());
  const [ada, bob] = [await node(keys, "Ada"), await node(keys, "Bob")];
  try {
    // Each sees the other (as multicast DNS shows both sides to both).
    ada.sight(infoOf(bob));
    bob.sight(infoOf(ada));
    await waitUntil(() => ada.found.length === 1 && bob.found.length === 1, "both presences");
    assertEquals(ada.found[0].info.name, "Bob");
    assertEquals(bob.found[0].info.name, "Ada");
    assertEquals(ada.found[0].info.peerId, bob.libp2p.peerId.toString());
    const addr = ada.found[0].info.addresses[0];
    assert(
      addr.startsWith("/ip4/127.0.0.1/tcp/") && addr.endsWith(`/p2p/${bob.libp2p.peerId}`) &&
        !addr.includes("/p2p-circuit"),
      addr,
    );
    // One exchange per pair: the lower id challenged, the higher one did not repeat it.
    await new Promise((r) => setTimeout(r, 600));
    assertEquals(ada.local.stats.members + bob.local.stats.members, 2);
    assertEquals(ada.found.length + bob.found.length, 2);
    // The challenge's TCP connection stays for the meeting's signaling: exactly one.
    assertEquals(ada.libp2p.getConnections().length, 1);
  } finally {
    await stopAll([ada, bob]);
  }
});

Deno.test("LocalDiscovery: a neighbour of another meeting learns nothing and is told nothing", async () => {
  const [keysA, keysB] = await Promise.all([
    deriveTopicKeys(generateInvitationCode()),
    deriveTopicKeys(generateInvitationCode()),
  ]);
  const ada = await node(keysA, "Ada");
  const eve = await node(keysB, "Eve");
  try {
    ada.sight(infoOf(eve));
    eve.sight(infoOf(ada));
    await waitUntil(
      () => ada.local.stats.foreign + eve.local.stats.foreign >= 1,
      "the exchange to end",
    );
    await new Promise((r) => setTimeout(r, 800)); // the fallback of the higher id passes too
    assertEquals(ada.found, []);
    assertEquals(eve.found, []);
    assertEquals(ada.local.stats.members + eve.local.stats.members, 0);
    // Nothing is kept open to a stranger.
    await waitUntil(() => ada.libp2p.getConnections().length === 0, "the connection to close");
  } finally {
    await stopAll([ada, eve]);
  }
});

Deno.test("LocalDiscovery answers a stranger's challenge with 64 random-looking bytes and nothing else", async () => {
  const keys = await deriveTopicKeys(generateInvitationCode());
  const ada = await node(keys, "Ada");
  const stranger = await createParticipantLibp2p({});
  try {
    const answers: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      const stream = await stranger.dialProtocol(ada.local.lanAddresses[0], LOCAL_PROTOCOL);
      const framed = new FramedStream(stream, { maxPayload: 64 * 1024 });
      await framed.write({
        type: FrameType.Hello,
        flags: 0,
        channel: 0,
        seq: 0,
        ref: 0,
        payload: localNonce(),
      });
      const answer = await framed.read({ signal: AbortSignal.timeout(5000) });
      assertEquals(answer.type, FrameType.Proof);
      assertEquals(answer.payload.length, 64);
      answers.push(answer.payload);
      // A wrong tag: Ada hangs up without sending her record.
      await framed.write({
        type: FrameType.Proof,
        flags: 0,
        channel: 0,
        seq: 0,
        ref: 0,
        payload: new Uint8Array(64),
      });
      let more = true;
      try {
        await framed.read({ signal: AbortSignal.timeout(5000) });
      } catch {
        more = false;
      }
      assertEquals(more, false, "Ada must not answer a wrong tag");
      framed.abort(new Error("done"));
    }
    // Fresh nonce and tag every time; neither holds the topic id.
    assert(toHex(answers[0]) !== toHex(answers[1]));
    for (const a of answers) {
      assert(!toHex(a).includes(keys.topicId.slice(0, 16)));
    }
    assertEquals(ada.found, []);
  } finally {
    await stopAll([ada]);
    await stranger.stop();
  }
});
