/**
 * Fault injection: bootstrap/relay nodes die (SIGKILL) during a meeting. Three `meshmeet
 * serve` processes form one DHT; three members meet through them, each holding relay
 * reservations on two of them. Then, one by one:
 *
 * 1. one of three dies: members that had a reservation there drop its addresses from
 *    their presence records at once, the meeting holds, a newcomer meets everyone;
 * 2. two of three are dead: the same, with members re-reserving on the last one (issue 12
 *    measured 6.5–9.2 s for a newcomer to meet everyone here, from stale records);
 * 3. all are dead: the meeting keeps its direct links and delivers messages; a join fails
 *    with a named BootstrapError instead of hanging.
 *
 * Prints one `RELIABILITY` JSON line with the figures (RELIABILITY.md).
 */
import { assert, assertEquals, assertInstanceOf, assertLess } from "@std/assert";
import { BootstrapError, generateInvitationCode, joinMeeting, type Meeting } from "../../mod.ts";
import { relaysOf } from "../../src/relay_reservations.ts";
import { LOOPBACK_RTC, waitUntil } from "../integration/_harness.ts";
import process from "node:process";
import { killServer, type ServerProcess, startServers, stopServers } from "./_servers.ts";

/** CPU of this process (the members) and of a server over `ms`. */
async function cpuOver(ms: number, server: ServerProcess) {
  const serverTicks = () => {
    const fields = Deno.readTextFileSync(`/proc/${server.process.child.pid}/stat`)
      .split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
  };
  const members0 = process.cpuUsage();
  const server0 = serverTicks();
  await new Promise((r) => setTimeout(r, ms));
  const members = process.cpuUsage(members0);
  return {
    windowMs: ms,
    membersCpuMs: Math.round((members.user + members.system) / 1000),
    serverCpuMs: (serverTicks() - server0) * 10,
  };
}

const connected = (m: Meeting) => m.participants.filter((p) => p.state === "connected").length;

Deno.test("bootstrap/relay death, one, two, then all of three: records follow at once, newcomers meet everyone, the meeting holds", async () => {
  const servers = await startServers(3);
  const bootstrap = servers.flatMap((s) => s.addresses);
  const options = { bootstrap, rtcConfiguration: LOOPBACK_RTC, dialTimeoutMs: 15_000 };
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  const figures: Record<string, unknown> = {};
  try {
    for (const name of ["A", "B", "C"]) {
      meetings.push(await joinMeeting(code, { ...options, name }));
    }
    const members = [...meetings];
    await waitUntil(
      () => members.every((m) => connected(m) === 2),
      "the three members meet",
      45_000,
    );
    // Each member holds reservations on two relays (three bootstrap nodes configured).
    await waitUntil(
      () => members.every((m) => relaysOf(m.self.addresses).length === 2),
      "every member reserves on two relays",
      15_000,
    );
    const received: string[] = [];
    members[1].addEventListener("message", (e) => received.push(String(e.detail.data)));

    // The relays members use most: kill them first (the worst case).
    const use = (s: ServerProcess) =>
      members.filter((m) => relaysOf(m.self.addresses).includes(s.peerId)).length;
    const order = [...servers].sort((a, b) => use(b) - use(a));

    const newcomer = async (name: string, live: ServerProcess[], expect: number) => {
      const t0 = performance.now();
      const n = await joinMeeting(code, { ...options, name });
      meetings.push(n);
      const joinMs = performance.now() - t0;
      await waitUntil(() => connected(n) === expect, `${name} meets all ${expect}`, 30_000);
      const meetMs = performance.now() - t0;
      // The newcomer reserved only on live relays.
      for (const r of relaysOf(n.self.addresses)) assert(live.some((s) => s.peerId === r));
      return { joinMs: Math.round(joinMs), meetAllMs: Math.round(meetMs) };
    };

    for (
      const [step, victims] of [["oneOfThree", [order[0]]], ["twoOfThree", [order[1]]]] as const
    ) {
      const affected = members.filter((m) =>
        relaysOf(m.self.addresses).some((r) => victims.some((v) => v.peerId === r))
      );
      assert(affected.length > 0, `${step}: the victim carried someone's reservation`);
      const before = new Map(affected.map((m) => [m, m.stats.rendezvous.announcements]));
      await Promise.all(victims.map(killServer));
      const dead = servers.filter((s) => s.killed).map((s) => s.peerId);
      const live = servers.filter((s) => !s.killed);
      // Every member's own addresses (what it announces) drop the dead relays at once.
      const dropMs = await waitUntil(
        () =>
          members.every((m) => !relaysOf(m.self.addresses).some((r) => dead.includes(r))) &&
          members.every((m) => relaysOf(m.self.addresses).length >= 1),
        `${step}: members drop the dead relays and hold a live one`,
        10_000,
      );
      // ...and re-announce their presence record without them, without waiting for the
      // periodic renewal (every 20 s).
      const announceMs = dropMs + await waitUntil(
        () => affected.every((m) => m.stats.rendezvous.announcements > before.get(m)!),
        `${step}: affected members re-announce`,
        10_000,
      );
      // Established links do not depend on the relays.
      assert(members.every((m) => connected(m) >= 2), `${step}: members stay connected`);
      const joined = await newcomer(`N-${step}`, live, meetings.length);
      figures[step] = {
        addressesDroppedMs: Math.round(dropMs),
        reannouncedMs: Math.round(announceMs),
        ...joined,
      };
      await members[0].send(members[1].self.peerId, `after ${step}`);
      await waitUntil(() => received.includes(`after ${step}`), `${step}: message delivered`);
      // Generous for a loaded 2-core machine; the figure goes to RELIABILITY.md.
      assertLess(announceMs, 5000, `${step}: records re-announced ${announceMs} ms after the kill`);
    }
    // With two relays gone, members re-reserved on the third.
    await waitUntil(
      () => members.every((m) => relaysOf(m.self.addresses).includes(order[2].peerId)),
      "members reserve on the last relay",
      10_000,
    );
    // Short of relays (two wanted, one alive), members look for more without spinning:
    // libp2p's unpaced random walk had the members' process and the last server each
    // spend a whole core on DHT queries for as long as it lasted (src/relay_walk.ts).
    const idle = await cpuOver(3000, order[2]);
    figures.shortOfRelays = idle;
    assertLess(
      idle.membersCpuMs,
      1500,
      `members' CPU short of relays: ${idle.membersCpuMs} ms in 3 s`,
    );
    assertLess(idle.serverCpuMs, 1000, `last server's CPU: ${idle.serverCpuMs} ms in 3 s`);

    // All dead: the meeting holds on its direct links; joining fails fast and named.
    await killServer(order[2]);
    const everyone = meetings.length - 1;
    await new Promise((r) => setTimeout(r, 2000));
    assert(meetings.every((m) => connected(m) === everyone), "all links survive losing all relays");
    const result = await meetings[0].broadcast("after all died");
    assertEquals(result.failed, []);
    assertEquals(result.delivered.length, everyone);
    const t0 = performance.now();
    const err = await joinMeeting(code, { ...options, name: "late" }).catch((e) => e);
    assertInstanceOf(err, BootstrapError);
    figures.allDead = {
      meetingHeld: true,
      broadcastDelivered: result.delivered.length,
      joinFailsInMs: Math.round(performance.now() - t0),
    };
    console.log(`RELIABILITY ${JSON.stringify({ test: "bootstrap_death", ...figures })}`);
    for (const step of ["oneOfThree", "twoOfThree"]) {
      const f = figures[step] as { meetAllMs: number };
      // Issue 12 measured 6.5–9.2 s; WebRTC set-up alone costs ~1 s per dial with
      // node-datachannel on this machine (LAB.md), so the bound is loose; the figure counts.
      assertLess(f.meetAllMs, 6000, `${step}: newcomer met everyone after ${f.meetAllMs} ms`);
    }
  } finally {
    await Promise.allSettled(meetings.map((m) => m.leave()));
    await stopServers(servers);
  }
});
