/**
 * MCP over meeting links, measured: call latency between two peers and failover time.
 *
 *     deno task bench:mcp                 # 100 calls, 3 failover rounds
 *     deno task bench:mcp --calls 300 --rounds 5 --json
 *     deno task bench:mcp --suspect 3000   # failover with suspectAfterMs 3000 (default 6000)
 *
 * 1. Latency: Ada offers an `echo` tool (official SDK `McpServer`), Bob calls it 100 times
 *    one after another, over a direct WebRTC link on loopback (both in this process): routed
 *    calls (`meetingTools(bob).call()`: roster lookup, RTT order, cached SDK client), the same
 *    through a plain SDK `Client` (`connect()`), and the meeting's own request/response for
 *    comparison (what MCP adds on top of one round trip).
 * 2. Failover: two members in their own processes (`examples/mcp_agent.ts offer --delay`)
 *    offer the same slow tool; Bob calls it, the member the call goes to is killed (SIGKILL)
 *    while working, and the time from the kill to the answer from the other one is measured,
 *    minus the survivor's own work.
 *
 * @module
 */
import { generateInvitationCode, joinMeeting, startBootstrapNode } from "../mod.ts";
import { meetingTools, offerTools } from "../src/mcp/mod.ts";
import { McpServer } from "../src/mcp/_sdk.ts";
import { readLines } from "../src/_lines.ts";
import { parseArgs } from "../src/cli/args.ts";
import { z } from "zod";

const args = parseArgs(Deno.args, {
  values: ["calls", "rounds", "delay", "suspect"],
  flags: ["json"],
});
const CALLS = Number(args.values.calls ?? 100);
const ROUNDS = Number(args.values.rounds ?? 3);
const WORK_MS = Number(args.values.delay ?? 1000);
const SUSPECT_MS = args.values.suspect ? Number(args.values.suspect) : undefined;
const AGENT = new URL("../examples/mcp_agent.ts", import.meta.url).pathname;
const RTC = { iceServers: [], bindAddress: "127.0.0.1" };
const log = (line: string) => console.error(line);

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return {
    n: s.length,
    p50: +q(0.5).toFixed(2),
    p95: +q(0.95).toFixed(2),
    max: +s.at(-1)!.toFixed(2),
  };
}

const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
const results: Record<string, unknown> = { calls: CALLS };
try {
  // ---- 1. latency ----------------------------------------------------------------------
  const code = generateInvitationCode();
  const join = (name: string) =>
    joinMeeting(code, { name, bootstrap: boot.addresses, rtcConfiguration: RTC });
  const [ada, bob] = await Promise.all([join("Ada"), join("Bob")]);
  const server = new McpServer({ name: "echo", version: "1.0.0" });
  server.registerTool("echo", { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  const offer = await offerTools(ada, server);
  ada.addEventListener("request", (e) => e.detail.respond(e.detail.data));
  const tools = meetingTools(bob);
  await tools.waitFor("echo", { timeoutMs: 60_000 });
  const path = bob.participants[0]?.path;
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 5; i++) await fn(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await fn();
      samples.push(performance.now() - t);
    }
    return stats(samples);
  };
  // The meeting's own request/response first: it also lets the join's DHT follow-up lookups
  // finish before MCP is timed (the first series otherwise catches their CPU spikes).
  results.request = await time(() => bob.request(ada.self.peerId, "hi"));
  const client = await tools.connect(ada.self.peerId);
  results.client = await time(() => client.callTool({ name: "echo", arguments: { text: "hi" } }));
  results.routed = await time(() => tools.call("echo", { text: "hi" }));
  results.path = path;
  log(`latency over a ${path} link, ${CALLS} sequential calls (ms):`);
  for (const k of ["request", "client", "routed"]) {
    log(`  ${k.padEnd(8)} ${JSON.stringify(results[k])}`);
  }
  await client.close();
  await tools.close();
  await offer.close();
  await Promise.all([ada.leave(), bob.leave()]);

  // ---- 2. failover ---------------------------------------------------------------------
  const failovers: { ms: number; detectMs: number; error: string }[] = [];
  const bootAddress = boot.addresses[0];
  for (let round = 0; round < ROUNDS; round++) {
    const fcode = generateInvitationCode();
    const spawn = (name: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          AGENT,
          "offer",
          fcode,
          "--bootstrap",
          bootAddress,
          "--name",
          name,
          "--delay",
          String(WORK_MS),
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const ready = (async () => {
        for await (const line of readLines(child.stdout)) {
          if (line.startsWith("{")) return JSON.parse(line).ready as string;
        }
        throw new Error(`${name} exited before it was ready`);
      })();
      return { child, ready };
    };
    const members = [spawn("Kim"), spawn("Lee")];
    const ids = await Promise.all(members.map((m) => m.ready));
    const caller = await joinMeeting(fcode, {
      name: "Bob",
      bootstrap: boot.addresses,
      rtcConfiguration: RTC,
    });
    const ftools = meetingTools(caller);
    try {
      const deadline = Date.now() + 60_000;
      while (ftools.filter({ name: "translate" }).length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // call() asks the first entry of this order first.
      const first = ftools.filter({ name: "translate" })[0].peerId;
      const victim = members[ids.indexOf(first)];
      const call = ftools.call("translate", { text: "hallo", to: "en" }, {
        timeoutMs: 60_000,
        suspectAfterMs: SUSPECT_MS,
      });
      await new Promise((r) => setTimeout(r, WORK_MS / 4)); // the victim is working
      const killedAt = performance.now();
      victim.child.kill("SIGKILL");
      const outcome = await call;
      const ms = performance.now() - killedAt;
      if (outcome.peerId === first) throw new Error("the killed member answered?");
      failovers.push({
        ms: +ms.toFixed(0),
        detectMs: +(ms - WORK_MS).toFixed(0),
        error: outcome.attempts[0]?.error.message ?? "",
      });
      log(
        `  failover round ${round + 1}: answer ${ms.toFixed(0)} ms after the kill ` +
          `(${(ms - WORK_MS).toFixed(0)} ms without the survivor's ${WORK_MS} ms of work): ` +
          outcome.attempts[0]?.error.message,
      );
    } finally {
      await ftools.close();
      await caller.leave();
      for (const m of members) {
        try {
          m.child.kill("SIGKILL");
        } catch { /* gone */ }
        await m.child.status;
      }
    }
  }
  if (ROUNDS > 0) {
    results.failover = {
      rounds: failovers,
      detectMs: stats(failovers.map((f) => f.detectMs)),
      workMs: WORK_MS,
      suspectAfterMs: SUSPECT_MS ?? 6000,
    };
    log(
      `failover (kill → answer, minus the tool's work), ms: ${
        JSON.stringify(stats(failovers.map((f) => f.detectMs)))
      }`,
    );
  }
} finally {
  await boot.stop();
}
if (args.flags.has("json")) console.log(JSON.stringify(results));
Deno.exit(0);
