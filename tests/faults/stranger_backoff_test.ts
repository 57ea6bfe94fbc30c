/**
 * A stranger who keeps dialing a member with the wrong code is refused before any handshake
 * work after its first failure (issue 12: members absorbed ~50 failed handshakes each with no
 * backoff). Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import {
  cleanup,
  joinAll,
  joinLoopback,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";

Deno.test("a stranger failing the handshake again and again costs the member a bounded number of handshakes", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  try {
    const [ada, bob] = await joinAll(generateInvitationCode(), boot, ["Ada", "Bob"]);
    meetings.push(ada, bob);
    await waitUntil(() => ada.participants.some((p) => p.state === "connected"), "Ada sees Bob");
    const mallory = await joinLoopback(generateInvitationCode(), boot, { name: "Mallory" });
    meetings.push(mallory);
    const adaAddress = ada.self.addresses.find((a) => a.includes("/p2p-circuit"))!;
    const attempts = 30;
    const t0 = performance.now();
    let rejected = 0;
    for (let i = 0; i < attempts; i++) {
      await mallory.connect(adaAddress).then(
        () => {},
        () => rejected++,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    assertEquals(rejected, attempts, "no attempt got in");
    // Backoff 1 s, 2 s, 4 s…: within the attack's duration only a handful reach the handshake.
    const worked = ada.stats.handshakeFailures;
    const bound = 1 + Math.ceil(Math.log2(seconds + 1)) + 1;
    console.log(
      `RELIABILITY ${
        JSON.stringify({
          test: "stranger_backoff",
          attempts,
          seconds: +seconds.toFixed(1),
          handshakesWorked: worked,
          bound,
        })
      }`,
    );
    assert(worked >= 1);
    assertLessOrEqual(worked, bound, `${worked} handshakes for ${attempts} attempts`);
    // Ada's real peer is unaffected.
    await ada.send(bob.self.peerId, "still here");
  } finally {
    await cleanup(meetings, [boot]);
  }
});
