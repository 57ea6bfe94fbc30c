/**
 * Fault injection: a peer is killed (SIGKILL, its own process) while both sides are in the
 * middle of sending each other large messages.
 *
 * - every `send()` to it settles: acknowledged, or rejected with a named error
 *   (`DeliveryError` / `MeetingClosedError`, as `Meeting.send()` documents), none hangs;
 * - every message it acknowledged had arrived whole on its side (it prints each arrival
 *   before the acknowledgement leaves), and nothing arrives half: each message either
 *   arrives with every byte or not at all, in both directions;
 * - the roster drops it within the documented crash bound (lease, then the overlay's
 *   suspicion: 22 s), and a later send fails with `PeerNotFoundError`.
 *
 * Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals, assertInstanceOf, assertLess } from "@std/assert";
import {
  DeliveryError,
  generateInvitationCode,
  type Meeting,
  MeetingClosedError,
  PeerNotFoundError,
} from "../../mod.ts";
import {
  cleanup,
  joinLoopback,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";
import { MemberProcess } from "./_member_process.ts";
import { checkPayload, makePayload } from "./_payload.ts";

const MESSAGES = 100;
/** More than can pass before the kill (sent one after the other), so that direction is cut too. */
const VICTIM_MESSAGES = 1000;
const BYTES = 512 * 1024;
const LEASE_MS = 14_000; // the default
/**
 * The documented bound for a crashed peer to leave every roster (README, "Leases"): the lease,
 * then the overlay's suspicion (6 s with one accuser) and its spreading: 22 s. Plus 3 s for a
 * loaded machine.
 */
const CRASH_BOUND_MS = 22_000 + 3000;

Deno.test("a peer killed mid-transfer: sends settle with named errors, nothing arrives half, the roster drops it within the lease", async () => {
  const boot = await startLoopbackBootstrap();
  const meetings: Meeting[] = [];
  let victim: MemberProcess | undefined;
  try {
    const code = generateInvitationCode();
    const sender = await joinLoopback(code, boot, { name: "Sender", leaseMs: LEASE_MS });
    meetings.push(sender);
    victim = await MemberProcess.start({ name: "Victim", code, bootstrap: boot.addresses });
    await waitUntil(
      () => sender.participants.some((p) => p.peerId === victim!.peerId && p.state === "connected"),
      "Sender meets Victim",
      45_000,
    );
    // Killed from inside the event handlers, the moment a message has arrived from it and
    // it has printed the arrival of three of ours: both directions are then mid-transfer (a
    // bulk transfer on loopback can end between two polls).
    const fromVictim: ReturnType<typeof checkPayload>[] = [];
    let killedAt: number | undefined;
    let victimGot = 0;
    const maybeKill = () => {
      if (killedAt !== undefined || fromVictim.length < 1 || victimGot < 3) return;
      victim!.child.kill("SIGKILL");
      killedAt = performance.now();
    };
    sender.addEventListener("message", (e) => {
      if (e.detail.from !== victim!.peerId) return;
      fromVictim.push(checkPayload(e.detail.data as Uint8Array));
      maybeKill();
    });
    victim.onEvent = (e) => {
      if (e.event === "message") victimGot++;
      maybeKill();
    };
    let left: number | undefined;
    sender.addEventListener("peer:leave", (e) => {
      if (e.detail.peerId === victim!.peerId) left = performance.now();
    });

    // Both directions at once: the victim sends to us, we send to it.
    await victim.post("send", {
      to: sender.self.peerId,
      count: VICTIM_MESSAGES,
      bytes: BYTES,
      sequential: true,
    });
    const outcomes: Array<{ index: number; ok: boolean; error?: Error; settledAt?: number }> = [];
    const sends = Array.from({ length: MESSAGES }, (_, i) => {
      const index = i + 1;
      const outcome: (typeof outcomes)[number] = { index, ok: false };
      outcomes.push(outcome);
      return sender.send(victim!.peerId, makePayload(index, BYTES)).then(
        () => outcome.ok = true,
        (err) => outcome.error = err,
      ).finally(() => outcome.settledAt = performance.now());
    });
    await waitUntil(() => killedAt !== undefined, "messages on their way both ways", 30_000);
    await victim.kill();

    // Every send settles, none hangs (the lease bounds it).
    await Promise.race([
      Promise.all(sends),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("sends still pending 35 s after the kill")), 35_000)
      ),
    ]);
    const lastSettledMs = Math.max(...outcomes.map((o) => o.settledAt!)) - killedAt!;
    const acked = outcomes.filter((o) => o.ok).map((o) => o.index);
    const failed = outcomes.filter((o) => !o.ok);
    assert(failed.length > 0, "the kill came mid-transfer: some sends were not acknowledged");
    for (const f of failed) {
      assert(
        f.error instanceof DeliveryError || f.error instanceof MeetingClosedError,
        `send ${f.index} failed with ${f.error?.name}: ${f.error?.message}`,
      );
    }
    const errorNames = [...new Set(failed.map((f) => f.error!.name))];

    // What the victim printed before it died: every acknowledged message had arrived whole.
    const arrived = victim.events.filter((e) => e.event === "message");
    for (const m of arrived) assert(m.intact === true, `Victim got a damaged message ${m.index}`);
    const arrivedIndexes = new Set(arrived.map((m) => m.index as number));
    for (const index of acked) assert(arrivedIndexes.has(index), `acked ${index} never arrived`);
    // What we got from the victim: whole messages, in order, no gap.
    for (const m of fromVictim) assert(m.intact, `Sender got a damaged message ${m.index}`);
    assertEquals(
      fromVictim.map((m) => m.index),
      Array.from({ length: fromVictim.length }, (_, i) => i + 1),
    );
    assertLess(fromVictim.length, VICTIM_MESSAGES, "the kill cut the other direction too");

    // The roster drops it within the lease.
    await waitUntil(
      () => left !== undefined,
      "Victim leaves Sender's roster",
      CRASH_BOUND_MS + 5000,
    );
    const droppedMs = left! - killedAt!;
    assertLess(droppedMs, CRASH_BOUND_MS, `dropped ${droppedMs} ms after the kill`);
    assert(!sender.participants.some((p) => p.peerId === victim!.peerId));
    const late = await sender.send(victim.peerId, "too late").catch((e) => e);
    assertInstanceOf(late, PeerNotFoundError);

    console.log(
      `RELIABILITY ${
        JSON.stringify({
          test: "killed_mid_transfer",
          messageBytes: BYTES,
          sent: MESSAGES,
          victimSent: VICTIM_MESSAGES,
          senderAcked: acked.length,
          senderFailed: failed.length,
          errors: errorNames,
          victimReceivedWhole: arrived.length,
          senderReceivedWhole: fromVictim.length,
          damaged: 0,
          lastSendSettledMs: Math.round(lastSettledMs),
          rosterDroppedMs: Math.round(droppedMs),
        })
      }`,
    );
    // Sender still works after all that.
    assertEquals(sender.left, false);
  } finally {
    await victim?.kill();
    await cleanup(meetings, [boot]);
  }
});
