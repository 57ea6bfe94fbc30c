// Failover: two members, each its own process, offer the same slow tool; the one a routed
// call reaches is killed (SIGKILL) while the tool is working, and the call is answered by
// the other one, which the outcome names.
import { assert, assertEquals } from "@std/assert";
import { generateInvitationCode } from "../../mod.ts";
import { meetingTools } from "../../src/mcp/mod.ts";
import { readLines } from "../../src/_lines.ts";
import { cleanup, joinLoopback, startLoopbackBootstrap } from "../integration/_harness.ts";

const MEMBER = new URL("./_tool_member.ts", import.meta.url).pathname;

interface Child {
  name: string;
  process: Deno.ChildProcess;
  ready: Promise<string>;
  called: Promise<void>;
}

function spawnMember(code: string, name: string, bootstrap: string): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MEMBER, code, name, bootstrap, "3000"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ready = Promise.withResolvers<string>();
  const called = Promise.withResolvers<void>();
  (async () => {
    for await (const line of readLines(process.stdout)) {
      const msg = JSON.parse(line);
      if (msg.ready) ready.resolve(msg.ready);
      if (msg.called) called.resolve();
    }
    ready.reject(new Error(`${name} exited before it was ready`));
  })().catch(() => {});
  return { name, process, ready: ready.promise, called: called.promise };
}

Deno.test("MeetingTools.call() fails over to another member when the member working on the call is killed", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const bootstrap = boot.addresses.find((a) => !a.includes("/ws"))!;
  const children = [spawnMember(code, "Kim", bootstrap), spawnMember(code, "Lee", bootstrap)];
  const bob = await joinLoopback(code, boot, { name: "Bob" });
  try {
    const ids = await Promise.all(children.map((c) => c.ready));
    const tools = meetingTools(bob);
    const deadline = Date.now() + 40_000;
    while (tools.filter({ name: "slow_echo" }).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assertEquals(new Set(tools.filter({ name: "slow_echo" }).map((t) => t.peerId)), new Set(ids));

    const call = tools.call("slow_echo", { text: "hi" }, { timeoutMs: 60_000 });
    // Kill whichever member started working on the call.
    const first = await Promise.race(children.map((c, i) => c.called.then(() => i)));
    const killedAt = performance.now();
    children[first].process.kill("SIGKILL");
    const outcome = await call;
    const failoverMs = performance.now() - killedAt;
    const other = children[1 - first];
    assertEquals(outcome.peerId, ids[1 - first]);
    assertEquals(outcome.memberName, other.name);
    assertEquals(outcome.attempts.map((a) => a.peerId), [ids[first]]);
    assertEquals((outcome.result.content as { text: string }[])[0].text, `${other.name}: hi`);
    // The answer needs the survivor's 3 s of work; noticing the dead member must not take
    // the lease (14 s) on top.
    assert(failoverMs < 14_000, `failover took ${failoverMs.toFixed(0)} ms`);
    console.log(
      `failover: answered by ${other.name} ${failoverMs.toFixed(0)} ms after the kill ` +
        `(3000 ms of it the tool's own work); first attempt failed with: ${
          outcome.attempts[0].error.message
        }`,
    );
    await tools.close();
  } finally {
    for (const c of children) {
      try {
        c.process.kill("SIGKILL");
      } catch { /* gone */ }
      await c.process.status;
    }
    await cleanup([bob], [boot]);
  }
});
