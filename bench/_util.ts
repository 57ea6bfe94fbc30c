/**
 * Shared helpers of the benchmark: statistics, progress output, child processes that
 * speak JSON lines, process CPU/RSS from /proc, and loopback-only network namespaces.
 *
 * @module
 */
import { readLines } from "../src/_lines.ts";
import { CHROMIUM_PATH } from "../tests/browser/_chromium.ts";

/** Summary statistics of a sample. */
export interface Summary {
  /** Sample size. */
  n: number;
  /** Smallest value. */
  min: number;
  /** Median. */
  p50: number;
  /** 95th percentile (linear interpolation). */
  p95: number;
  /** Largest value. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * Quantile with linear interpolation between closest ranks.
 *
 * @param xs Sample (any order).
 * @param q Quantile in [0, 1].
 * @returns The quantile, or NaN for an empty sample.
 */
export function quantile(xs: number[], q: number): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Summarize a sample.
 *
 * @param xs Values (non-finite ones are ignored).
 * @returns n, min, p50, p95, max, mean (rounded to 0.1).
 */
export function summarize(xs: number[]): Summary {
  const f = xs.filter(Number.isFinite);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: f.length,
    min: r(f.length ? Math.min(...f) : NaN),
    p50: r(quantile(f, 0.5)),
    p95: r(quantile(f, 0.95)),
    max: r(f.length ? Math.max(...f) : NaN),
    mean: r(f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN),
  };
}

/**
 * A ratio a/b rounded to two significant decimals (NaN-safe).
 *
 * @param a Numerator.
 * @param b Denominator.
 * @returns a / b, or null when either side is missing.
 */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) {
    return null;
  }
  const x = a / b;
  return x >= 10 ? Math.round(x) : Math.round(x * 100) / 100;
}

/**
 * Least-squares slope and intercept of y over x.
 *
 * @param xs x values.
 * @param ys y values (same length).
 * @returns `{ slope, intercept }`.
 */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  const slope = den === 0 ? NaN : num / den;
  return { slope, intercept: my - slope * mx };
}

const started = performance.now();
let quiet = false;

/**
 * Silence or enable progress output.
 *
 * @param value True to silence progress lines.
 */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/**
 * Print one progress line (to stderr, so `--json` keeps stdout clean).
 *
 * @param part Part label, e.g. "1 join".
 * @param message What is happening.
 */
export function progress(part: string, message: string): void {
  if (quiet) return;
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.error(`[${t}s] ${part.padEnd(12)} ${message}`);
}

/**
 * Sleep.
 *
 * @param ms Milliseconds.
 * @returns Resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reject if `promise` does not settle within `ms`.
 *
 * @param promise The work.
 * @param ms Budget in ms.
 * @param what Used in the error message.
 * @returns The promise's value.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** CPU time (user + system) and RSS of a process, from /proc. */
export interface ProcSample {
  /** CPU seconds used so far (user + system, this process only). */
  cpuSeconds: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** Threads of the process (from /proc/PID/status). */
  threads: number;
  /** Monotonic time of the sample (performance.now()). */
  at: number;
}

const CLK_TCK = 100; // Linux USER_HZ

/**
 * Read CPU time and RSS of a process.
 *
 * @param pid Process id (`"self"` for this process).
 * @returns The sample, or undefined when the process is gone.
 */
export function sampleProc(pid: number | "self"): ProcSample | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is state (field 3); utime is field 14, stime field 15 (1-based).
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rss = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) * 1024;
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return {
      cpuSeconds: (utime + stime) / CLK_TCK,
      rssBytes: rss,
      threads,
      at: performance.now(),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU share (in % of one core) between two samples.
 *
 * @param a Earlier sample.
 * @param b Later sample.
 * @returns Percent of one core.
 */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? Math.round(((b.cpuSeconds - a.cpuSeconds) / wall) * 1000) / 10 : NaN;
}

/** Bytes and packets counted on the loopback interface (of this network namespace). */
export interface LoopbackCounters {
  /** Bytes sent on lo. */
  bytes: number;
  /** Packets sent on lo. */
  packets: number;
}

/**
 * Read the loopback counters from /proc/net/dev (per network namespace).
 *
 * @returns The counters, or undefined when unreadable.
 */
export function loopbackCounters(): LoopbackCounters | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/net/dev");
    const line = text.split("\n").find((l) => l.trim().startsWith("lo:"));
    if (!line) return undefined;
    const f = line.split(":")[1].trim().split(/\s+/).map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets ...
    return { bytes: f[8], packets: f[9] };
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode Child}. */
export interface ChildOptions {
  /** Label for progress/errors. */
  name: string;
  /** Executable. */
  cmd: string;
  /** Arguments. */
  args: string[];
  /** Environment additions. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Called with each non-JSON stdout line and with stderr text. */
  onOutput?: (text: string) => void;
  /** Called with each event line (`{ event, ... }`). */
  onEvent?: (event: Record<string, unknown>) => void;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * A child process that answers JSON-line requests `{id, op, args}` with
 * `{id, ok, result | error}`; other JSON lines with an `event` field are events.
 */
export class Child {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  #next = 1;
  #pending = new Map<number, Pending>();
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  #exited = false;
  #onEvent?: (event: Record<string, unknown>) => void;
  readonly status: Promise<Deno.CommandStatus>;

  /** @param options Command and label. */
  constructor(options: ChildOptions) {
    this.name = options.name;
    this.process = new Deno.Command(options.cmd, {
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.process.stdin.getWriter();
    this.status = this.process.status.then((s) => {
      this.#exited = true;
      for (const p of this.#pending.values()) {
        p.reject(new Error(`${this.name} exited (code ${s.code}): ${this.#stderr.slice(-2000)}`));
      }
      this.#pending.clear();
      return s;
    });
    this.#onEvent = options.onEvent;
    void this.#read(options.onOutput);
    void this.#readErr(options.onOutput);
  }

  /** Process id. */
  get pid(): number {
    return this.process.pid;
  }

  /** The last part of what the child wrote to stderr. */
  get stderr(): string {
    return this.#stderr.slice(-4000);
  }

  async #read(onOutput?: (text: string) => void) {
    try {
      for await (const line of readLines(this.process.stdout)) {
        let msg: Record<string, unknown> | undefined;
        try {
          msg = line.startsWith("{") ? JSON.parse(line) : undefined;
        } catch {
          msg = undefined;
        }
        if (msg && typeof msg.id === "number" && this.#pending.has(msg.id)) {
          const p = this.#pending.get(msg.id)!;
          this.#pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.result);
          else p.reject(new Error(`${this.name}: ${msg.error}`));
        } else if (msg && typeof msg.event === "string") {
          this.events.push(msg);
          if (this.events.length > 1000) this.events.splice(0, 500);
          this.#onEvent?.(msg);
        } else if (line.trim()) {
          onOutput?.(`${this.name}: ${line}`);
        }
      }
    } catch {
      // stream closed
    }
  }

  async #readErr(onOutput?: (text: string) => void) {
    try {
      for await (const chunk of this.process.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-20000);
        if (Deno.env.get("BENCH_DEBUG")) onOutput?.(`${this.name} (stderr): ${chunk.trimEnd()}`);
      }
    } catch {
      // stream closed
    }
  }

  /**
   * Call an operation in the child.
   *
   * @param op Operation name.
   * @param args Arguments (JSON).
   * @param timeoutMs Budget.
   * @returns The result.
   */
  call<T = unknown>(op: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.#next++;
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, op, args }) + "\n")).catch(
      () => {},
    );
    return withTimeout(promise as Promise<T>, timeoutMs, `${this.name}.${op}`).catch((err) => {
      this.#pending.delete(id);
      throw err;
    });
  }

  /**
   * Wait for an event line.
   *
   * @param name The `event` field.
   * @param timeoutMs Budget.
   * @returns The event.
   */
  async waitEvent(name: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const e = this.events.find((x) => x.event === name);
      if (e) return e;
      if (this.#exited) throw new Error(`${this.name} exited: ${this.stderr}`);
      await sleep(20);
    }
    throw new Error(`${this.name}: no "${name}" event within ${timeoutMs} ms\n${this.stderr}`);
  }

  /**
   * Ask the child to exit (closes stdin), then kill it if it does not.
   *
   * @param graceMs How long to wait before SIGKILL.
   */
  async close(graceMs = 5000): Promise<void> {
    if (!this.#exited) {
      await this.#writer.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          this.process.kill("SIGTERM");
        } catch { /* gone */ }
      }, graceMs);
      const timer2 = setTimeout(() => {
        try {
          this.process.kill("SIGKILL");
        } catch { /* gone */ }
      }, graceMs + 3000);
      await this.status;
      clearTimeout(timer);
      clearTimeout(timer2);
    }
  }
}

/** Directory of the bench sources. */
export const BENCH_DIR = new URL(".", import.meta.url).pathname;
/** Repository root. */
export const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Start a Deno worker script from bench/workers/.
 *
 * @param name Label.
 * @param script File name under bench/workers/.
 * @param extraArgs Script arguments.
 * @param options Extra V8 flags, environment, output callback.
 * @returns The child.
 */
export function denoWorker(
  name: string,
  script: string,
  extraArgs: string[] = [],
  options: {
    v8Flags?: string[];
    env?: Record<string, string>;
    netns?: boolean;
    onEvent?: (event: Record<string, unknown>) => void;
  } = {},
): Child {
  const v8 = options.v8Flags?.length ? [`--v8-flags=${options.v8Flags.join(",")}`] : [];
  const denoArgs = ["run", "-A", ...v8, `${BENCH_DIR}workers/${script}`, ...extraArgs];
  if (options.netns) {
    return new Child({
      name,
      cmd: "unshare",
      args: [
        "--net",
        "sh",
        "-c",
        'ip link set lo up && exec "$@"',
        "sh",
        Deno.execPath(),
        ...denoArgs,
      ],
      env: options.env,
      cwd: ROOT,
      onOutput: (t) => progress("  child", t),
      onEvent: options.onEvent,
    });
  }
  return new Child({
    name,
    cmd: Deno.execPath(),
    args: denoArgs,
    env: options.env,
    cwd: ROOT,
    onOutput: (t) => progress("  child", t),
    onEvent: options.onEvent,
  });
}

let netnsOk: boolean | undefined;

/**
 * Whether `unshare --net` works here (root with CAP_SYS_ADMIN, iproute2 installed).
 *
 * @returns True when a loopback-only network namespace can be made.
 */
export async function netnsAvailable(): Promise<boolean> {
  if (netnsOk !== undefined) return netnsOk;
  try {
    const out = await new Deno.Command("unshare", {
      args: ["--net", "sh", "-c", "ip link set lo up && cat /proc/net/dev"],
      stdout: "piped",
      stderr: "null",
    }).output();
    netnsOk = out.success;
  } catch {
    netnsOk = false;
  }
  return netnsOk;
}

/**
 * Describe this machine (CPU model, cores, memory, kernel, runtimes).
 *
 * @returns A short description object.
 */
export async function machineInfo(): Promise<Record<string, string | number>> {
  const read = (p: string) => {
    try {
      return Deno.readTextFileSync(p);
    } catch {
      return "";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(read("/proc/meminfo"))?.[1] ?? 0);
  const osName = /PRETTY_NAME="([^"]+)"/.exec(read("/etc/os-release"))?.[1] ?? Deno.build.os;
  const run = async (cmd: string, args: string[]) => {
    try {
      const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
      return new TextDecoder().decode(o.stdout).trim().split("\n")[0];
    } catch {
      return "n/a";
    }
  };
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(memKb / 1024 / 1024 * 10) / 10,
    os: osName,
    kernel: read("/proc/sys/kernel/osrelease").trim(),
    deno: Deno.version.deno,
    node: await run("node", ["--version"]),
    chromium: await run(CHROMIUM_PATH, ["--version"]),
    loadavg: read("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  };
}
