/**
 * Probe: relayed connections under load. One relay (a bootstrap node in this process, as in
 * `tests/overlay/many_processes_test.ts`), `--processes` worker processes of `--per` nodes
 * each (`_relay_client.ts`), every node echoing 1 KiB with random others through the relay
 * for `--seconds`, a round every `--pause` ms (± half) per node; `--spin n` keeps n other processes spinning a core each. Prints the echo
 * rounds' p50 / p95 / max and every stall (over 5 s) or failure with its connection.
 *
 * `deno run -A bench/probes/relay_circuits.ts [--processes 6] [--per 5] [--seconds 60] [--pause 400] [--spin 1]`
 *
 * @module
 */
import { startBootstrapNode } from "../../mod.ts";
import { quantile } from "../_stats.ts";

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const processes = option("processes", 6);
const per = option("per", 5);
const seconds = option("seconds", 60);
const spin = option("spin", 0);
const pauseMs = option("pause", 400);
const client = new URL("_relay_client.ts", import.meta.url).pathname;

const spinners = Array.from({ length: spin }, () =>
  new Deno.Command(Deno.execPath(), {
    args: ["eval", "for (;;) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn());
const boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
const relay = boot.addresses[0];

interface Worker {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  next: () => Promise<Record<string, unknown>>;
}

function start(): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", client, relay, String(per)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("a worker ended early");
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return JSON.parse(line);
  };
  return { child, writer: child.stdin.getWriter(), next };
}

try {
  const workers = Array.from({ length: processes }, start);
  const ids = (await Promise.all(workers.map((w) => w.next()))).flatMap((m) => m.ready as string[]);
  console.log(`${ids.length} nodes reserved on the relay; echoing for ${seconds} s (spin ${spin})`);
  const targets = ids.map((id) => `${relay}/p2p-circuit/p2p/${id}`);
  const line = new TextEncoder().encode(JSON.stringify({ targets, seconds, pauseMs }) + "\n");
  await Promise.all(workers.map((w) => w.writer.write(line)));
  const results = await Promise.all(workers.map((w) => w.next()));
  const times: number[] = [];
  const steps: number[][] = [];
  const stalls: Record<string, unknown>[] = [];
  let rounds = 0;
  for (const r of results.map((m) => m.result as Record<string, unknown>)) {
    rounds += r.rounds as number;
    times.push(...(r.times as number[]));
    steps.push(...(r.steps as number[][]));
    stalls.push(...(r.stalls as Record<string, unknown>[]));
  }
  const f = (x: number) => x.toFixed(0);
  console.log(
    `${rounds} echo rounds: p50 ${f(quantile(times, 0.5))} ms, p95 ${
      f(quantile(times, 0.95))
    } ms, max ${f(Math.max(...times))} ms; ${stalls.length} over 5 s or failed`,
  );
  const step = (i: number) => steps.map((s) => s[i] - (i ? s[i - 1] : 0));
  console.log(
    `  steps p50 / p95: connection ${f(quantile(step(0), 0.5))} / ${
      f(quantile(step(0), 0.95))
    } ms, stream ${f(quantile(step(1), 0.5))} / ${f(quantile(step(1), 0.95))} ms, echo ${
      f(quantile(step(2), 0.5))
    } / ${f(quantile(step(2), 0.95))} ms`,
  );
  for (const s of stalls) console.log("  ", JSON.stringify(s));
  await Promise.all(workers.map((w) => w.child.status));
} finally {
  for (const s of spinners) {
    s.kill("SIGKILL");
    await s.status;
  }
  await boot.stop();
}
