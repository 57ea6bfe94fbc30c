/**
 * Child processes that speak JSON lines (requests, answers, events), and the Deno workers
 * of bench/workers/ started as such children.
 *
 * @module
 */
import { readLines } from "../src/_lines.ts";
import { BENCH_DIR, progress, ROOT, sleep, withTimeout } from "./_base.ts";

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
