/**
 * Probe: where a peer process's resident memory is, per mapping (from /proc/self/smaps),
 * at four moments: the bare program, after importing `mod.ts`, with a bootstrap node and
 * one other member running in other processes, and joined with one link after 5 s idle.
 * Each line: resident MiB, of it anonymous MiB, and the mapping (the runtime's binary,
 * `[heap]` for malloc, `[anon]` for V8's heap and stacks, add-ons, code caches).
 *
 * `deno run -A --v8-flags=--expose-gc bench/probes/rss_breakdown.ts [--import-only]`
 *
 * @module
 */
const root = new URL("../..", import.meta.url).pathname;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Usage {
  rss: number;
  anon: number;
}

function report(label: string): void {
  gc();
  const byMapping = new Map<string, Usage>();
  let name = "";
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = (head[1] || "[anon]").replace(/.*\//, "");
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    const u = byMapping.get(name) ?? { rss: 0, anon: 0 };
    if (field[1] === "Rss") u.rss += Number(field[2]);
    else u.anon += Number(field[2]);
    byMapping.set(name, u);
  }
  const total = [...byMapping.values()].reduce(
    (t, u) => ({ rss: t.rss + u.rss, anon: t.anon + u.anon }),
    { rss: 0, anon: 0 },
  );
  const m = (kb: number) => (kb / 1024).toFixed(1).padStart(6);
  const heap = Deno.memoryUsage();
  console.log(
    `== ${label}: RSS ${m(total.rss)} MiB, anonymous ${m(total.anon)}; V8 heap ` +
      `${(heap.heapUsed / 2 ** 20).toFixed(1)} used of ${(heap.heapTotal / 2 ** 20).toFixed(1)}`,
  );
  const top = [...byMapping].sort((a, b) => b[1].rss - a[1].rss).slice(0, 8);
  for (const [n, u] of top) console.log(`  ${m(u.rss)} ${m(u.anon)}  ${n}`);
}

report("bare program");
const mod = await import("../../mod.ts");
report("imported mod.ts");
if (Deno.args.includes("--import-only")) Deno.exit(0);

// The bootstrap node and the other member run in their own processes, as in part 5.
const boot = new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    "import { startBootstrapNode } from './mod.ts';" +
    "const b = await startBootstrapNode({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] });" +
    "console.log(b.addresses[0]);",
  ],
  cwd: root,
  stdout: "piped",
  stderr: "null",
}).spawn();
const reader = boot.stdout.pipeThrough(new TextDecoderStream()).getReader();
let out = "";
while (!out.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the bootstrap process ended before printing its address");
  out += value;
}
const bootstrap = [out.trim()];
const code = mod.generateInvitationCode();
const other = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "src/cli/main.ts", "join", code, "--bootstrap", bootstrap[0], "--no-local"],
  cwd: root,
  stdin: "piped",
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  report("others started");
  const meeting = await mod.joinMeeting(code, { bootstrap, localDiscovery: false });
  const deadline = Date.now() + 60_000;
  while (meeting.participants.length < 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 5000));
  report(`joined, ${meeting.participants.length} participant(s), 5 s idle`);
  await meeting.leave();
} finally {
  other.kill("SIGTERM");
  await other.status;
  boot.kill("SIGTERM");
  await boot.status;
  reader.releaseLock();
}
