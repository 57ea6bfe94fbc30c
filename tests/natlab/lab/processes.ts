/**
 * Running commands for the NAT lab: one-shot commands that always settle (even when
 * aborted), `ip -batch`, long-running children inside a namespace, and their termination.
 *
 * @module
 */
import { type ExecResult, NatLabError, type SpawnOptions } from "./types.ts";

/** How long a process gets between SIGTERM and SIGKILL, and again to be reaped. */
export const KILL_GRACE_MS = 2_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of {@linkcode execCommand} and {@linkcode runCommand}. */
export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Runs a command to completion. On abort it is killed with SIGKILL, and its output pipes
 * are abandoned shortly after it exits, even if a background process it left still holds
 * them: an aborted command always settles.
 */
export async function execCommand(cmd: string[], options: RunOptions = {}): Promise<ExecResult> {
  options.signal?.throwIfAborted();
  const [program, ...args] = cmd;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(which(program) ?? program, {
      args,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new NatLabError(`Cannot run "${cmd.join(" ")}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const aborted = Promise.withResolvers<void>();
  const onAbort = () => {
    kill(child.pid, "SIGKILL");
    child.status.then(() => sleep(200)).then(() => aborted.resolve());
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const stdout = collect(child.stdout, aborted.promise);
    const stderr = collect(child.stderr, aborted.promise);
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(encoder.encode(options.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const [status, out, err] = await Promise.all([child.status, stdout, stderr]);
    return { code: status.code, stdout: out, stderr: err };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Reads a stream to its end, or until `stop` resolves. */
async function collect(stream: ReadableStream<Uint8Array>, stop: Promise<void>): Promise<string> {
  const reader = stream.getReader();
  let stopped = false;
  stop.then(() => {
    stopped = true;
    reader.cancel().catch(() => {});
  });
  const chunks: Uint8Array[] = [];
  try {
    while (!stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  } catch {
    // cancelled
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return decoder.decode(bytes);
}

/** Runs a command and rejects when it fails. */
export async function runCommand(cmd: string[], options: RunOptions = {}): Promise<ExecResult> {
  const result = await execCommand(cmd, options);
  if (options.signal?.aborted) throw options.signal.reason;
  if (result.code !== 0) {
    throw new NatLabError(
      `Command "${cmd.join(" ")}" failed with exit code ${result.code}: ${
        result.stderr.trim() || result.stdout.trim()
      }`,
    );
  }
  return result;
}

/** Runs `ip` commands in one batch, optionally inside a namespace (`ip -n`). */
export function ipBatch(
  lines: string[],
  options: { ns?: string; signal?: AbortSignal; force?: boolean } = {},
): Promise<ExecResult> {
  const args = ["ip"];
  if (options.ns) args.push("-n", options.ns);
  if (options.force) args.push("-force");
  args.push("-batch", "-");
  return runCommand(args, { stdin: lines.join("\n") + "\n", signal: options.signal });
}

/** A child process the lab started and must stop on `close()`. */
export interface Tracked {
  child: Deno.ChildProcess;
  /** Its output streams that are pipes (cancelled after it exits, so nothing leaks). */
  piped: ("stdout" | "stderr")[];
  status: Promise<Deno.CommandStatus>;
}

/** Starts a long-running command inside a namespace (`ip netns exec`). */
export function spawnInNamespace(ns: string, cmd: string[], options: SpawnOptions): Tracked {
  const stdout = options.stdout ?? "piped";
  const stderr = options.stderr ?? "piped";
  const child = new Deno.Command(which("ip") ?? "ip", {
    args: ["netns", "exec", ns, ...cmd],
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin ?? "null",
    stdout,
    stderr,
  }).spawn();
  const piped: ("stdout" | "stderr")[] = [];
  if (stdout === "piped") piped.push("stdout");
  if (stderr === "piped") piped.push("stderr");
  return { child, piped, status: child.status };
}

/** Stops a child: SIGTERM, then SIGKILL when it ignores it; waits for it either way. */
export async function terminate(t: Tracked): Promise<void> {
  const exited = await within(t.status, 0);
  if (!exited) {
    kill(t.child.pid, "SIGTERM");
    if (!await within(t.status, KILL_GRACE_MS)) {
      kill(t.child.pid, "SIGKILL");
      await within(t.status, KILL_GRACE_MS);
    }
  }
}

/** Resolves to true when `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a signal; a process that is already gone is fine. */
export function kill(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Whether a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const whichCache = new Map<string, string | undefined>();

/** Absolute path of a program on the PATH (plus the sbin directories root uses). */
export function which(name: string): string | undefined {
  if (name.includes("/")) return name;
  if (whichCache.has(name)) return whichCache.get(name);
  const path = (Deno.env.get("PATH") ?? "").split(":");
  let found: string | undefined;
  for (const dir of [...path, "/usr/local/sbin", "/usr/sbin", "/sbin"]) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) {
        found = `${dir}/${name}`;
        break;
      }
    } catch {
      // not here
    }
  }
  whichCache.set(name, found);
  return found;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The message of an error, or the thrown value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
