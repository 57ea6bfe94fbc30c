/**
 * Fault injection: a peer is killed (SIGKILL, its own process) while both sides are in the
 * middle of sending each other large messages.
 *
 * - every `send()` to it settles: acknowledged, or rejected with a named error
 *   (`DeliveryError` / `MeetingClosedError`, as `Meeting.send()` documents), none hangs;
 * - every message it acknowledged had arrived whole on its side (it prints each arrival
 *   before the acknowledgement leaves), and nothing arrives half: each message either
 *   arrives with every byte or not at all, in both directions;
 * - the roster drops it within the lease (`leaseMs` + the 1-s lease check), and a later
 *   send fails with `PeerNotFoundError`.
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

const MESSAGES = 30;
/** More than can pass before the kill, so that direction is cut mid-transfer too. */
const VICTIM_MESSAGES = 100;
const BYTES = 512 * 1024;
const LEASE_MS = 14_000; // the default

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
    const fromVictim: ReturnType<typeof checkPayload>[] = [];
    sender.addEventListener("message", (e) => {
      if (e.detail.from === victim!.peerId) {
        fromVictim.push(checkPayload(e.detail.data as Uint8Array));
      }
    });
    let left: number | undefined;
    sender.addEventListener("peer:leave", (e) => {
      if (e.detail.peerId === victim!.peerId) left = performance.now();
    });

    // Both directions at once: the victim sends to us, we send to it.
    await victim.post("send", { to: sender.self.peerId, count: VICTIM_MESSAGES, bytes: BYTES });
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
    // Kill it once a few messages went each way, so the rest are in flight.
    await waitUntil(
      () =>
        fromVictim.length >= 3 &&
        victim!.count((e) => e.event === "message") >= 3,
      "a few messages delivered each way",
      30_000,
    );
    await victim.kill();
    const killedAt = performance.now();

    // Every send settles, none hangs (the lease bounds it).
    await Promise.race([
      Promise.all(sends),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("sends still pending 25 s after the kill")), 25_000)
      ),
    ]);
    const lastSettledMs = Math.max(...outcomes.map((o) => o.settledAt!)) - killedAt;
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
    await waitUntil(() => left !== undefined, "Victim leaves Sender's roster", LEASE_MS + 10_000);
    const droppedMs = left! - killedAt;
    assertLess(droppedMs, LEASE_MS + 3000, `dropped ${droppedMs} ms after the kill`);
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
