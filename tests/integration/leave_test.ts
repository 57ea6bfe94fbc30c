import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode, type Meeting } from "../../mod.ts";
import {
  cleanup,
  joinLoopback,
  recordEvents,
  startLoopbackBootstrap,
  waitUntil,
} from "./_harness.ts";

/**
 * The documented bound: a crashed peer leaves every roster within leaseMs (14 s) + the
 * overlay's suspicion (6 s with one accuser, shorter with confirmations) + 2 s to spread.
 */
const CRASH_BOUND_MS = 22_000;

Deno.test("Meeting.leave() removes the peer from the others' rosters at once, with reason 'left'", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    meetings.push(
      ...await Promise.all(["Ada", "Bob", "Cyd"].map((name) => joinLoopback(code, boot, { name }))),
    );
    const [ada, bob, cyd] = meetings;
    await waitUntil(
      () => meetings.every((m) => m.participants.length === 2 && m.neighbours.length === 2),
      "a full mesh, every link up",
    );
    const adaLog = recordEvents(ada, ["peer:leave"]);
    const bobLog = recordEvents(bob, ["peer:leave"]);
    const started = Date.now();
    await cyd.leave();
    await waitUntil(() => adaLog.length === 1 && bobLog.length === 1, "Cyd's leave to be seen");
    const elapsed = Date.now() - started;
    assert(elapsed < 2000, `leave took ${elapsed} ms to be seen`);
    for (const log of [adaLog, bobLog]) {
      assertEquals(log[0].detail.name, "Cyd");
      assertEquals(log[0].detail.reason, "left");
    }
    assertEquals(ada.participants.map((p) => p.name), ["Bob"]);
    assertEquals(cyd.left, true);
    assertEquals(cyd.participants, []);
    await cyd.leave(); // idempotent
  } finally {
    await cleanup(meetings, [boot]);
  }
});

Deno.test("a participant whose process is killed leaves every roster within the documented bound", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  const cli = new URL("../../src/cli/main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      cli,
      "join",
      code,
      "--json",
      "--name",
      "Doomed",
      "--bind-address",
      "127.0.0.1",
      "--bootstrap",
      boot.addresses[0],
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let killed = false;
  try {
    meetings.push(
      ...await Promise.all(["Ada", "Bob"].map((name) => joinLoopback(code, boot, { name }))),
    );
    await waitUntil(
      () => meetings.every((m) => m.participants.some((p) => p.name === "Doomed")),
      "the child process to join both rosters",
      30_000,
    );
    const logs = meetings.map((m) => recordEvents(m, ["peer:leave"]));
    child.kill("SIGKILL");
    killed = true;
    const started = Date.now();
    await waitUntil(
      () => logs.every((log) => log.some((e) => e.detail.name === "Doomed")),
      "the killed peer to leave both rosters",
      CRASH_BOUND_MS + 4000,
    );
    const elapsed = Date.now() - started;
    assert(elapsed <= CRASH_BOUND_MS, `took ${elapsed} ms, bound is ${CRASH_BOUND_MS} ms`);
    for (const log of logs) {
      assertEquals(log.find((e) => e.detail.name === "Doomed")?.detail.reason, "timeout");
    }
    for (const m of meetings) assertEquals(m.participants.map((p) => p.name).length, 1);
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.stdin.close().catch(() => {});
    await child.status;
    await cleanup(meetings, [boot]);
  }
});

Deno.test("a member that leaves withdraws its presence record: a newcomer does not discover it", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const meetings: Meeting[] = [];
  try {
    const [ada, bob] = await Promise.all(
      ["Ada", "Bob"].map((name) => joinLoopback(code, boot, { name })),
    );
    meetings.push(ada, bob);
    await waitUntil(() => ada.participants.length === 1, "Ada and Bob to meet");
    const bobId = bob.self.peerId;
    // Bob's record would stay on the DHT server for its whole life (60 s) without this.
    await bob.leave();
    const discovered: string[] = [];
    const cyd = await joinLoopback(code, boot, {
      name: "Cyd",
      on: { "peer:discovered": (e) => discovered.push(e.detail.peerId) },
    });
    meetings.push(cyd);
    await waitUntil(() => cyd.participants.some((p) => p.state === "connected"), "Cyd meets Ada");
    await new Promise((r) => setTimeout(r, 1500)); // a few more lookups
    assert(discovered.includes(ada.self.peerId), "Cyd discovered Ada");
    assert(!discovered.includes(bobId), "Cyd discovered Bob, who had left");
  } finally {
    await cleanup(meetings, [boot]);
  }
});
