import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import { dropSparePayloads, sparePayloadBytes } from "../../src/_payload_pool.ts";
import { generateKeyPair, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { SIGNAL_PROTOCOL } from "../../src/connect/signaling.ts";
import { KNOCK_PROTOCOL } from "../../src/connect/knock.ts";
import {
  cleanup,
  joinAll,
  joinLoopback,
  ownAddresses,
  recordEvents,
  startLoopbackBootstrap,
  waitUntil,
} from "./_harness.ts";

async function meetAndTalk(boot: Awaited<ReturnType<typeof startLoopbackBootstrap>>) {
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const [ada, bob] = await joinAll(code, boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    const received = recordEvents(bob, ["message"]);
    const receivedByAda = recordEvents(ada, ["message"]);
    await waitUntil(
      () => ada.participants.length === 1 && bob.participants.length === 1,
      "Ada and Bob to see each other",
    );
    const bobSeenByAda = ada.participants[0];
    assertEquals(bobSeenByAda.name, "Bob");
    assertEquals(bob.participants[0].name, "Ada");
    assertEquals(bobSeenByAda.path, "direct");
    assertEquals(bobSeenByAda.state, "connected");
    // The link is meshmeet's own WebRTC session (a data channel, not a libp2p connection):
    // its selected pair is a host pair on loopback, and the relayed libp2p connection that
    // carried the signaling is closed once the data channel is open.
    const pair = bobSeenByAda.selectedCandidatePair;
    assertEquals(pair?.local.type, "host");
    assert(ownAddresses().has(pair!.local.address), `local ${pair?.local.address} not this host's`);
    // libwebrtc does not reveal the address of a peer-reflexive remote candidate.
    assert(
      pair!.remote.type === "prflx" || ownAddresses().has(pair!.remote.address),
      `remote ${pair?.remote.address} not this host's`,
    );
    await waitUntil(
      () =>
        !ada.libp2p.getConnections().some((c) => c.remotePeer.toString() === bobSeenByAda.peerId),
      "the relayed signaling connection between Ada and Bob to close",
    );
    // Given the bootstrap node's /ws and /tcp addresses, each side reached it once, over
    // plain TCP (Deno's WebSocket client adds ~44 ms per round trip: no TCP_NODELAY).
    for (const m of [ada, bob]) {
      const toBoot = m.libp2p.getConnections().filter((c) =>
        c.remotePeer.toString() === boot.peerId
      );
      assertEquals(toBoot.map((c) => c.remoteAddr.toString().includes("/ws")), [false]);
    }

    await ada.send(bobSeenByAda.peerId, "hello Bob");
    await ada.send(bobSeenByAda.peerId, { n: 2 });
    await ada.send(bobSeenByAda.peerId, new Uint8Array([1, 2, 3]));
    assertEquals(received.map((m) => m.detail.data), [
      "hello Bob",
      { n: 2 },
      new Uint8Array([1, 2, 3]),
    ]);
    assertEquals(received[0].detail.text, "hello Bob");
    assertEquals(received[0].detail.name, "Ada");
    const result = await bob.broadcast("hi all");
    assertEquals(result.delivered, [ada.self.peerId]);
    assertEquals(result.failed, []);
    assertEquals(receivedByAda.map((m) => m.detail.text), ["hi all"]);
    return { ada, bob };
  } finally {
    await cleanup(meetings);
  }
}

Deno.test("joinMeeting() lets two peers meet and exchange acknowledged messages over a direct WebRTC connection", async () => {
  const boot = await startLoopbackBootstrap();
  try {
    await meetAndTalk(boot);
  } finally {
    await boot.stop();
  }
});

Deno.test("Meeting.request() gets the response of the other side's request listener, in order", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const [ada, bob] = await joinAll(code, boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    bob.addEventListener("request", (e) => {
      const body = e.detail.data as { op: string; n: number };
      if (body.op === "fail") return e.detail.reject(new Error("refused on purpose"));
      e.detail.respond({ doubled: body.n * 2, from: e.detail.name });
    });
    await waitUntil(() => ada.participants.length === 1, "Ada to see Bob");
    const bobId = ada.participants[0].peerId;
    const answers = await Promise.all(
      [1, 2, 3].map((n) => ada.request(bobId, { op: "double", n })),
    );
    assertEquals(answers, [1, 2, 3].map((n) => ({ doubled: n * 2, from: "Ada" })));
    let failure: Error | undefined;
    try {
      await ada.request(bobId, { op: "fail", n: 0 });
    } catch (err) {
      failure = err as Error;
    }
    assert(failure?.message.includes("refused on purpose"), `got ${failure?.message}`);
    // Messages on one link arrive in the order they were sent.
    const got: unknown[] = [];
    bob.addEventListener("message", (e) => got.push(e.detail.data));
    await Promise.all(Array.from({ length: 50 }, (_, i) => ada.send(bobId, i)));
    assertEquals(got, Array.from({ length: 50 }, (_, i) => i));
  } finally {
    await cleanup(meetings, [boot]);
  }
});

Deno.test("Meeting.send() of large messages, 8 at a time: each arrives intact and in order, and the buffers of acknowledged ones are used again", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  dropSparePayloads();
  try {
    const [ada, bob] = await joinAll(code, boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    await waitUntil(() => ada.participants.length === 1, "Ada to see Bob");
    const bobId = ada.participants[0].peerId;
    const got: Uint8Array[] = [];
    bob.addEventListener("message", (e) => got.push(e.detail.data as Uint8Array));
    // Every message is different (its number in every 4th byte), so a buffer written again
    // before its message was acknowledged would show as a wrong or repeated message.
    const message = (n: number) => {
      const bytes = new Uint8Array(256 * 1024 + (n % 3) * 1000);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i + 4 <= bytes.length; i += 4) view.setUint32(i, n * 1_000_003 + i);
      return bytes;
    };
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 8 }, () => ada.send(bobId, message(sent++))));
      assert(sparePayloadBytes() > 0, `round ${round}: no buffer given back`);
    }
    await waitUntil(() => got.length === sent, `${sent} messages to arrive`);
    got.forEach((bytes, n) => assertEquals(bytes, message(n), `message ${n}`));
  } finally {
    await cleanup(meetings, [boot]);
    dropSparePayloads();
  }
  assertEquals(sparePayloadBytes(), 0);
});

Deno.test("a member dials a newcomer with a higher peer id back over the newcomer's knock: no signaling stream of its own", async () => {
  // Two identities, the member's id the lower one: the newcomer knocks, the member dials.
  const keys = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);
  keys.sort((
    a,
    b,
  ) => (peerIdFromPrivateKey(a).toString() < peerIdFromPrivateKey(b).toString() ? -1 : 1));
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const ada = await joinLoopback(code, boot, {
      name: "Ada",
      privateKey: privateKeyToProtobuf(keys[0]),
    });
    meetings.push(ada);
    const opened: string[] = [];
    const dialProtocol = ada.libp2p.dialProtocol.bind(ada.libp2p);
    ada.libp2p.dialProtocol = ((addr, protocols, options) => {
      opened.push(...[protocols].flat());
      return dialProtocol(addr, protocols, options);
    }) as typeof ada.libp2p.dialProtocol;
    const bob = await joinLoopback(code, boot, {
      name: "Bob",
      privateKey: privateKeyToProtobuf(keys[1]),
    });
    meetings.push(bob);
    assert(ada.self.peerId < bob.self.peerId);
    await waitUntil(
      () => ada.participants.length === 1 && bob.participants.length === 1,
      "Ada and Bob to link",
    );
    assertEquals(ada.participants[0].direction, "outbound", "Ada (lower id) did not dial");
    assertEquals(ada.participants[0].path, "direct");
    assertEquals(opened.filter((p) => p === SIGNAL_PROTOCOL || p === KNOCK_PROTOCOL), []);
    const got = recordEvents(ada, ["message"]);
    await bob.send(ada.self.peerId, "over the knock");
    assertEquals(got.map((m) => m.detail.text), ["over the knock"]);
  } finally {
    await cleanup(meetings, [boot]);
  }
});

Deno.test("joinMeeting() meets and talks directly 20 times in a row without a failure", async () => {
  const boot = await startLoopbackBootstrap();
  const times: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await meetAndTalk(boot);
      times.push(Math.round(performance.now() - started));
    }
  } finally {
    await boot.stop();
  }
  assertEquals(times.length, 20);
  console.log(`20 rounds, ms each: ${times.join(" ")}`);
});
