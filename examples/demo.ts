/**
 * The demo: a bootstrap node and three participants, each in its own process on this
 * machine (loopback only). They join one freshly generated invitation code, find each
 * other through the DHT, connect directly over WebRTC, greet each other, and leave.
 *
 *     deno task demo            # readable log
 *     deno task demo --json     # plus one JSON summary line at the end
 *
 * Exit code 0 when every pair connected directly and every greeting was acknowledged.
 *
 * @module
 */
import { generateInvitationCode } from "../mod.ts";
import { readLines } from "../src/_lines.ts";

const json = Deno.args.includes("--json");
const NAMES = ["Ada", "Bob", "Cyd"];
const TIMEOUT_MS = 90_000;
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(3).padStart(7)}s]`;
const say = (line: string) => console.log(`${stamp()} ${line}`);

type Event = Record<string, unknown> & { event: string };

class Proc {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly events: Event[] = [];
  #waiters: Array<() => void> = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<Deno.CommandStatus>;

  constructor(name: string, args: string[]) {
    this.name = name;
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.done = this.child.status;
    void this.#read();
    void this.#drainStderr();
  }

  async #read() {
    for await (const line of readLines(this.child.stdout)) {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        say(`${this.name}: ${line}`);
      }
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  stderr = "";
  async #drainStderr() {
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
    }
  }

  async waitFor(pred: (events: Event[]) => boolean, what: string): Promise<void> {
    const deadline = performance.now() + TIMEOUT_MS;
    while (!pred(this.events)) {
      if (performance.now() > deadline) {
        throw new Error(`${this.name}: timed out waiting for ${what}\n${this.stderr}`);
      }
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 250);
      });
    }
  }

  async send(line: string) {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  async close() {
    await this.#writer.close().catch(() => {});
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

const procs: Proc[] = [];
let ok = false;
const summary: Record<string, unknown> = {};
try {
  const server = new Proc("server", ["serve", "--json", "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
  procs.push(server);
  await server.waitFor((e) => e.some((x) => x.event === "listening"), "the bootstrap node");
  const listening = server.events.find((x) => x.event === "listening")!;
  const bootstrap = (listening.addresses as string[])[0];
  say(`bootstrap node up: ${bootstrap}`);
  const code = generateInvitationCode();
  say(`invitation code: ${code} (only the participants see it)`);

  const peers = NAMES.map((name) =>
    new Proc(name, [
      "join",
      code,
      "--json",
      "--name",
      name,
      "--bootstrap",
      bootstrap,
      "--bind-address",
      "127.0.0.1",
    ])
  );
  procs.push(...peers);
  const shown = new Set<string>();
  const follow = setInterval(() => {
    for (const p of peers) {
      for (const [i, e] of p.events.entries()) {
        const key = `${p.name}:${i}`;
        if (shown.has(key)) continue;
        shown.add(key);
        if (e.event === "joined") {
          const t = e.timings as Record<string, number>;
          say(
            `${p.name} joined topic ${(e.topicId as string).slice(0, 12)}… in ${t.totalMs} ms ` +
              `(KDF ${t.kdfMs}, bootstrap ${t.bootstrapMs}, relay ${t.reservationMs}, ` +
              `announce ${Math.round(t.announceMs)}, lookup ${Math.round(t.firstLookupMs)} ms)`,
          );
        } else if (e.event === "peer:join") {
          const pair = e.pair as { local: { type: string }; remote: { type: string } } | undefined;
          say(
            `${p.name} ⇄ ${e.name}: ${e.path} (${pair?.local.type}/${pair?.remote.type}), ` +
              `${e.direction}, connected ${
                (e.connectedAt as number) - (e.discoveredAt as number)
              } ms after discovery`,
          );
        } else if (e.event === "message") say(`${p.name} received from ${e.name}: "${e.text}"`);
        else if (e.event === "sent") {
          say(
            `${p.name}'s greeting acknowledged by ${(e.delivered as string[]).length} in ${
              Math.round(e.ms as number)
            } ms`,
          );
        } else if (e.event === "peer:leave") say(`${p.name} saw ${e.name} leave (${e.reason})`);
      }
    }
  }, 20);

  await Promise.all(
    peers.map((p) =>
      p.waitFor(
        (e) => e.filter((x) => x.event === "peer:join").length >= NAMES.length - 1,
        "all participants",
      )
    ),
  );
  for (const p of peers) await p.send(`hello from ${p.name}`);
  await Promise.all(peers.map((p) =>
    p.waitFor(
      (e) =>
        e.some((x) => x.event === "sent") &&
        e.filter((x) => x.event === "message").length >= NAMES.length - 1,
      "greetings",
    )
  ));
  for (const p of peers) await p.send("/quit");
  await Promise.all(peers.map((p) => p.waitFor((e) => e.some((x) => x.event === "left"), "leave")));
  clearInterval(follow);

  // ---- summary
  const discovery: number[] = [];
  const connect: number[] = [];
  const paths: Record<string, string> = {};
  let sent = 0;
  let acked = 0;
  for (const p of peers) {
    const joined = p.events.find((x) => x.event === "joined")!;
    for (const e of p.events.filter((x) => x.event === "peer:join")) {
      discovery.push((e.discoveredAt as number) - (joined.joinStartedAt as number));
      connect.push((e.connectedAt as number) - (e.discoveredAt as number));
      const pair = e.pair as { local: { type: string }; remote: { type: string } } | undefined;
      paths[[p.name, e.name].sort().join("-")] =
        `${e.path}:${pair?.local.type}/${pair?.remote.type}`;
    }
    for (const e of p.events.filter((x) => x.event === "sent")) {
      sent += (e.delivered as string[]).length + (e.failed as unknown[]).length;
      acked += (e.delivered as string[]).length;
    }
  }
  const received = peers.reduce(
    (n, p) => n + p.events.filter((x) => x.event === "message").length,
    0,
  );
  Object.assign(summary, {
    peers: peers.length,
    discoveryMs: { p50: quantile(discovery, 0.5), max: Math.max(...discovery) },
    connectMs: { p50: quantile(connect, 0.5), max: Math.max(...connect) },
    paths,
    messages: { sent, acknowledged: acked, received },
    totalMs: Math.round(performance.now() - t0),
  });
  const pairs = Object.values(paths);
  ok = pairs.length === 3 && pairs.every((p) => p.startsWith("direct")) && acked === sent &&
    sent === 6 && received === 6;
  say(
    `${ok ? "OK" : "FAILED"}: ${pairs.length} pairs (${
      pairs.join(", ")
    }), ${acked}/${sent} messages acknowledged`,
  );
} catch (err) {
  say(`FAILED: ${(err as Error).message}`);
} finally {
  for (const p of procs.slice(1)) await p.close();
  for (const p of procs.slice(1)) {
    const timer = setTimeout(() => p.child.kill("SIGKILL"), 5000);
    await p.done;
    clearTimeout(timer);
  }
  if (procs[0]) {
    procs[0].child.kill("SIGTERM");
    const timer = setTimeout(() => procs[0].child.kill("SIGKILL"), 5000);
    await procs[0].done;
    clearTimeout(timer);
  }
}
if (json) console.log(JSON.stringify({ ok, ...summary }));
Deno.exit(ok ? 0 : 1);
