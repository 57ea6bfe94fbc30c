/**
 * Fault injection: the relay that carries a dial's signaling dies (SIGKILL of its `meshmeet
 * serve` process) at the moment the relayed connection between the two members opens, that
 * is while the membership handshake and the WebRTC offer/answer are under way on it. Two
 * relays; each member holds a reservation on both.
 *
 * Asserts that the kill interrupted a dial (an attempt failed), that nothing hangs: the two
 * members end up linked (through the other relay) after at most three failed attempts, any
 * dial that gave up did so with a named `ConnectionFailedError`, and that later dials succeed
 * (a newcomer meets both through the live relay). Prints one `RELIABILITY` JSON line.
 */
import { assert, assertInstanceOf } from "@std/assert";
import {
  ConnectionFailedError,
  generateInvitationCode,
  joinMeeting,
  KNOCK_PROTOCOL,
  type Meeting,
  MEETING_PROTOCOL,
} from "../../mod.ts";
import { relaysOf } from "../../src/relay_reservations.ts";
import { LOOPBACK_RTC, waitUntil } from "../integration/_harness.ts";
import { killServer, startServers, stopServers } from "./_servers.ts";

const linked = (m: Meeting, peerId: string) =>
  m.participants.some((p) => p.peerId === peerId && p.state === "connected");

Deno.test("a relay dying during signaling: no hang, named errors, the members link through the other relay, a later dial succeeds", async () => {
  const servers = await startServers(2);
  const bootstrap = servers.flatMap((s) => s.addresses);
  const options = { bootstrap, rtcConfiguration: LOOPBACK_RTC, dialTimeoutMs: 10_000 };
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const a = await joinMeeting(code, { ...options, name: "A" });
    meetings.push(a);
    await waitUntil(() => relaysOf(a.self.addresses).length === 2, "A reserves on both relays");
    const failures: Error[] = [];
    a.addEventListener("connection:failed", (e) => failures.push(e.detail.error));

    // Kill the relay as soon as a dial's signaling runs on a relayed connection to the
    // newcomer: the handshake, then the offer and answer, run on it right then. Which stream
    // that is depends on the peer ids. A lower newcomer dials over a meeting stream of its
    // own; a higher one knocks (a knock stream), and A dials back over that stream once it
    // has checked the knock, so there the kill waits for a dial attempt to start.
    let killedAt: number | undefined;
    let killedRelay: string | undefined;
    let newcomerId: string | undefined;
    let over: "meeting stream" | "knock stream" | undefined;
    const dialing = () => meetings.some((m) => m.stats.dialAttempts > 0); // A's or B's
    a.libp2p.addEventListener("connection:open", (e) => {
      const conn = e.detail;
      if (conn.limits == null) return;
      const watch = setInterval(() => {
        if (killedAt !== undefined || conn.status !== "open") return clearInterval(watch);
        const protocols = conn.streams.map((s) => s.protocol);
        if (protocols.includes(MEETING_PROTOCOL)) over = "meeting stream";
        else if (protocols.includes(KNOCK_PROTOCOL) && dialing()) over = "knock stream";
        else return;
        clearInterval(watch);
        const relay = relaysOf([conn.remoteAddr.toString()])[0];
        const server = servers.find((s) => s.peerId === relay);
        if (!server || server.killed) return;
        server.process.child.kill("SIGKILL"); // synchronous: the relay dies mid-signaling
        killedAt = performance.now();
        killedRelay = relay;
        newcomerId = conn.remotePeer.toString();
      }, 1);
    });
    const b = await joinMeeting(code, { ...options, name: "B" });
    meetings.push(b);
    b.addEventListener("connection:failed", (e) => failures.push(e.detail.error));
    await waitUntil(() => killedAt !== undefined, "a signaling stream between A and B", 20_000);
    assert(newcomerId === b.self.peerId);
    const dead = servers.find((s) => s.peerId === killedRelay)!;
    await killServer(dead);

    // Nothing hangs: they link through the other relay.
    await waitUntil(
      () => linked(a, b.self.peerId) && linked(b, a.self.peerId),
      "A and B link after the relay died",
      45_000,
    );
    const linkedMs = performance.now() - killedAt!;
    for (const err of failures) assertInstanceOf(err, ConnectionFailedError);

    // The kill interrupted a dial: at least one attempt failed (and was retried).
    const dialFailures = a.stats.dialFailures + b.stats.dialFailures;
    const dialAttempts = a.stats.dialAttempts + b.stats.dialAttempts;
    assert(dialFailures >= 1, "the relay died while a dial was under way");
    // The retries go to the other relay at once (address_rotation.ts, and the knocker's new
    // knock with its current record), not again and again to the dead one (before: up to 5).
    assert(dialFailures <= 3, `${dialFailures} failed attempts: retried at the dead relay?`);

    // A later dial works: a newcomer meets both through the live relay.
    const live = servers.find((s) => !s.killed)!;
    const l0 = performance.now();
    const c = await joinMeeting(code, { ...options, name: "C" });
    meetings.push(c);
    await waitUntil(
      () => linked(c, a.self.peerId) && linked(c, b.self.peerId),
      "a newcomer meets A and B",
      30_000,
    );
    const laterMeetMs = performance.now() - l0;
    assert(relaysOf(c.self.addresses).every((r) => r === live.peerId));

    console.log(
      `RELIABILITY ${
        JSON.stringify({
          test: "relay_death_signaling",
          relays: 2,
          signalingOver: over,
          linkedAfterKillMs: Math.round(linkedMs),
          failedDials: failures.map((f) => f.name),
          dialAttempts,
          dialFailures,
          newcomerMetBothMs: Math.round(laterMeetMs),
        })
      }`,
    );
  } finally {
    await Promise.allSettled(meetings.map((m) => m.leave()));
    await stopServers(servers);
  }
});
