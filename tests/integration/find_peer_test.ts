import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  findParticipant,
  findPeer,
  generateInvitationCode,
  type Meeting,
  PeerNotFoundError,
  PeerRecordNotFoundError,
} from "../../mod.ts";
import { cleanup, joinLoopback, startLoopbackBootstrap, waitUntil } from "./_harness.ts";
import { runCli } from "../cli/_cli.ts";

Deno.test("findPeer() returns a findable peer's current addresses, and PeerRecordNotFoundError once it left and its record expired", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  try {
    const code = generateInvitationCode();
    const ada = await joinLoopback(code, boot, { name: "Ada", findable: { ttlMs: 4000 } });
    const bob = await joinLoopback(code, boot, { name: "Bob" });
    meetings.push(ada, bob);

    // Through the DHT, from another node: the addresses Ada's node has now.
    const found = await findPeer(bob.libp2p, ada.self.peerId);
    assertEquals(found.peerId, ada.self.peerId);
    assertEquals(new Set(found.addresses), new Set(ada.libp2p.getMultiaddrs().map(String)));
    assert(found.addresses.some((a) => a.includes("/p2p-circuit/p2p/")), found.addresses[0]);
    assert(found.expiresAt > Date.now() && found.expiresAt - found.issuedAt === 4000);

    // The CLI, from a fresh node that only knows the bootstrap node.
    const address = boot.addresses.find((a) => a.includes("/ws/"))!;
    const cli = await runCli(["lookup", "--peer", ada.self.peerId, "--bootstrap", address]);
    assertEquals(cli.code, 0, cli.stderr);
    assertStringIncludes(cli.stdout, `peer ${ada.self.peerId}`);
    assertStringIncludes(cli.stdout, found.addresses[0]);
    // The same with the bootstrap list from MESHMEET_BOOTSTRAP instead of --bootstrap.
    const fromEnv = await runCli(["lookup", "--peer", ada.self.peerId, "--json"], {
      env: { MESHMEET_BOOTSTRAP: `${address}, ${boot.addresses.find((a) => !a.includes("/ws/"))}` },
    });
    assertEquals(fromEnv.code, 0, fromEnv.stderr);
    assertEquals(JSON.parse(fromEnv.stdout).peerId, ada.self.peerId);

    // Bob is not findable.
    await assertRejects(
      () => findPeer(ada.libp2p, bob.self.peerId, { timeoutMs: 5000 }),
      PeerRecordNotFoundError,
      "the DHT has no record of it",
    );
    await assertRejects(() => findPeer(bob.libp2p, "not-a-peer-id"), TypeError, "not a peer id");

    // Inside the meeting, by name.
    await waitUntil(() => bob.participants.some((p) => p.state === "connected"), "Bob sees Ada");
    const byName = await findParticipant(bob, "Ada");
    assertEquals(byName.participant.peerId, ada.self.peerId);
    // Its node's announced (relay) addresses; its link is the direct WebRTC one.
    assert(byName.addresses.some((a) => a.includes("/p2p-circuit")), byName.addresses.join(" "));
    assertEquals(byName.participant.path, "direct");
    await assertRejects(() => findParticipant(bob, "Nobody"), PeerNotFoundError, '"Nobody"');

    // Ada goes away: her last record expires, and she is reported not found.
    await ada.leave();
    const left = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, found.expiresAt + 4000 - left)));
    const gone = await runCli(["lookup", "--peer", ada.self.peerId, "--bootstrap", address]);
    assertEquals(gone.code, 1);
    assertStringIncludes(gone.stderr, "Cannot find peer");
    await assertRejects(
      () => findPeer(bob.libp2p, ada.self.peerId),
      PeerRecordNotFoundError,
      "Cannot find peer",
    );
  } finally {
    await cleanup(meetings, [boot]);
  }
});
