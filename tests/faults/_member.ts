/**
 * A meeting member in its own process, for fault, load and soak tests: it can be killed
 * (SIGKILL), run with a shifted clock, and report what it sent, had acknowledged and
 * received. Driven by `_member_process.ts`.
 *
 *     MESHMEET_FAULT_CODE=<code> deno run -A tests/faults/_member.ts --name A \
 *       --bootstrap <multiaddr> [--clock-offset-ms 120000] [--lease-ms 14000]
 *
 * Out (stdout, one JSON object per line): `joined`, `peer:join`, `peer:leave`, `message`
 * (with an integrity check of the payload), `acked`, `send-failed`, `result`. In (stdin):
 * `{"id": 1, "op": "send", "to": <peer id>, "count": 10, "bytes": 1000}`, `stats`,
 * `participants`, `leave`.
 *
 * With `--clock-offset-ms`, `Date` (`Date.now()`, `new Date()`) is shifted before meshmeet
 * is loaded, so records, expiries and leases see the shifted clock; `performance.now()`
 * (monotonic) is not, as on a real machine whose wall clock is wrong.
 *
 * With `MESHMEET_TIMER_SITES=1` in the environment, `stats` also counts the live timers by
 * where they were set (the soak prints them as `TIMER_SITES` lines on stderr).
 *
 * @module
 */
import { checkPayload, makePayload } from "./_payload.ts";

const argv = Deno.args;
const bootstrap: string[] = [];
let name = "member";
let offsetMs = 0;
let leaseMs: number | undefined;
let maxFramesPerSecond: number | undefined;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--bootstrap") bootstrap.push(argv[++i]);
  else if (argv[i] === "--name") name = argv[++i];
  else if (argv[i] === "--clock-offset-ms") offsetMs = Number(argv[++i]);
  else if (argv[i] === "--lease-ms") leaseMs = Number(argv[++i]);
  else if (argv[i] === "--max-fps") maxFramesPerSecond = Number(argv[++i]);
}

if (offsetMs !== 0) {
  const RealDate = Date;
  const shifted = class extends RealDate {
    constructor(...args: unknown[]) {
      super(...((args.length === 0 ? [RealDate.now() + offsetMs] : args) as [string]));
    }
    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  };
  globalThis.Date = shifted as DateConstructor;
}

// Live timers set through the global functions (libp2p and meshmeet use these), counted so
// the soak can watch for leaks.
const liveTimers = new Set<unknown>();
// MESHMEET_TIMER_SITES=1: remember where each live timer was set (for finding a leak).
const timerSites = Deno.env.get("MESHMEET_TIMER_SITES") ? new Map<unknown, string>() : undefined;
function site(): string {
  const lines = (new Error().stack ?? "").split("\n").slice(3, 7);
  return lines.map((l) => l.trim().replace(/^at /, "").replace(/file:\/\/\S*node_modules\//, ""))
    .join(" < ");
}
{
  type Fn = (...a: unknown[]) => unknown;
  const g = globalThis as unknown as Record<string, Fn>;
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = g;
  g.setTimeout = (fn: unknown, ...rest: unknown[]) => {
    const id = st((...a: unknown[]) => {
      liveTimers.delete(id);
      timerSites?.delete(id);
      if (typeof fn === "function") fn(...a);
    }, ...rest);
    liveTimers.add(id);
    timerSites?.set(id, `timeout ${rest[0]} ${site()}`);
    return id;
  };
  g.setInterval = (...args: unknown[]) => {
    const id = si(...args);
    liveTimers.add(id);
    timerSites?.set(id, `interval ${args[1]} ${site()}`);
    return id;
  };
  g.clearTimeout = (id: unknown) => {
    liveTimers.delete(id);
    timerSites?.delete(id);
    return ct(id);
  };
  g.clearInterval = (id: unknown) => {
    liveTimers.delete(id);
    timerSites?.delete(id);
    return ci(id);
  };
}

const { joinMeeting } = await import("../../mod.ts");
const { readLines } = await import("../../src/_lines.ts");

const code = Deno.env.get("MESHMEET_FAULT_CODE");
if (!code) throw new Error("set MESHMEET_FAULT_CODE");
const encoder = new TextEncoder();
const write = (o: Record<string, unknown>) =>
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(o) + "\n"));

const t0 = performance.now();
const meeting = await joinMeeting(code, {
  name,
  bootstrap,
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
  dialTimeoutMs: 15_000,
  ...(leaseMs ? { leaseMs } : {}),
  ...(maxFramesPerSecond ? { maxFramesPerSecond } : {}),
});
write({
  event: "joined",
  peerId: meeting.self.peerId,
  addresses: meeting.self.addresses,
  joinMs: Math.round(performance.now() - t0),
  now: Date.now(),
});
meeting.addEventListener("peer:join", (e) => {
  write({ event: "peer:join", peerId: e.detail.peerId, name: e.detail.name });
});
meeting.addEventListener("peer:leave", (e) => {
  write({ event: "peer:leave", peerId: e.detail.peerId, reason: e.detail.reason });
});
meeting.addEventListener("message", (e) => {
  const data = e.detail.data;
  if (data instanceof Uint8Array) {
    const check = checkPayload(data);
    write({ event: "message", from: e.detail.from, ...check });
  } else {
    write({ event: "message", from: e.detail.from, text: String(e.detail.text ?? "") });
  }
});

let nextIndex = 1;

function countSites(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of timerSites?.values() ?? []) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

function fds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

function threads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function handle(cmd: Record<string, unknown>): Promise<unknown> {
  switch (cmd.op) {
    case "send": {
      const to = String(cmd.to);
      const count = Number(cmd.count ?? 1);
      const bytes = Number(cmd.bytes ?? 100);
      const sends: Promise<unknown>[] = [];
      if (cmd.sequential === true) {
        // One at a time (each waits for its acknowledgement): a transfer that lasts.
        for (let i = 0; i < count; i++) {
          const index = nextIndex++;
          const ok = await meeting.send(to, makePayload(index, bytes)).then(
            () => (write({ event: "acked", to, index }), true),
            (err) => (write({ event: "send-failed", to, index, error: err?.name }), false),
          );
          if (!ok) break;
        }
        return { sent: count };
      }
      for (let i = 0; i < count; i++) {
        const index = nextIndex++;
        sends.push(
          meeting.send(to, makePayload(index, bytes)).then(
            () => write({ event: "acked", to, index }),
            (err) => write({ event: "send-failed", to, index, error: err?.name ?? String(err) }),
          ),
        );
      }
      await Promise.all(sends);
      return { sent: count };
    }
    case "flood": {
      // Keep `window` messages in flight to one peer for `seconds`, as fast as it takes them.
      const to = String(cmd.to);
      const bytes = Number(cmd.bytes ?? 100);
      const window = Number(cmd.window ?? 256);
      const deadline = performance.now() + Number(cmd.seconds ?? 5) * 1000;
      const outcomes: Record<string, number> = {};
      const count = (k: string) => outcomes[k] = (outcomes[k] ?? 0) + 1;
      const payload = makePayload(0, bytes);
      const lane = async () => {
        while (performance.now() < deadline) {
          await meeting.send(to, payload).then(
            () => count("acked"),
            (err) => count(err?.name ?? "Error"),
          );
        }
      };
      await Promise.all(Array.from({ length: window }, lane));
      return outcomes;
    }
    case "stats": {
      // With --v8-flags=--expose-gc: measure the heap after a collection.
      (globalThis as { gc?: () => void }).gc?.();
      const mem = Deno.memoryUsage();
      return {
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        fds: fds(),
        threads: threads(),
        timers: liveTimers.size,
        ...(timerSites ? { timerSites: countSites() } : {}),
        participants: meeting.participants.filter((p) => p.state === "connected").length,
        stats: meeting.stats,
      };
    }
    case "participants":
      return meeting.participants.map((p) => ({ peerId: p.peerId, name: p.name, state: p.state }));
    case "leave":
      await meeting.leave();
      return "left";
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

for await (const line of readLines(Deno.stdin.readable)) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line) as Record<string, unknown>;
  handle(cmd).then(
    (value) => write({ event: "result", id: cmd.id, ok: true, value }),
    (err) =>
      write({ event: "result", id: cmd.id, ok: false, error: `${err?.name}: ${err?.message}` }),
  ).then(() => {
    if (cmd.op === "leave") Deno.exit(0);
  });
}
await meeting.leave();
Deno.exit(0);
