/**
 * Drives a contract peer host (`tests/contract/peer_host.ts`) in a child process over its
 * standard input/output, for mixed meetings.
 *
 * @module
 */
import { type HostCommand, RemoteRuntime } from "../contract/local_runtime.ts";
import { readLines } from "../../src/_lines.ts";

/** A peer host in a child process. */
export class ProcessHost {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #stderr = "";
  #closed: Promise<void>;
  #ready: Promise<void>;
  /** Runtime name (`node22`, …). */
  readonly name: string;

  private constructor(name: string, command: string, args: string[], cwd?: string) {
    this.name = name;
    this.#child = new Deno.Command(command, {
      args,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    let readyResolve!: () => void;
    this.#ready = new Promise((resolve) => readyResolve = resolve);
    this.#pending.set(0, { resolve: () => readyResolve(), reject: () => {} });
    const stdout = this.#pump(this.#child.stdout, (line) => this.#onLine(line));
    const stderr = this.#pump(this.#child.stderr, (line) => {
      this.#stderr = (this.#stderr + line + "\n").slice(-4000);
    });
    this.#closed = Promise.all([stdout, stderr, this.#child.status]).then(() => {
      for (const { reject } of this.#pending.values()) {
        reject(new Error(`${this.name} host exited: ${this.#stderr}`));
      }
      this.#pending.clear();
    });
  }

  /**
   * Start a host process and wait until it is ready.
   *
   * @param name Runtime name.
   * @param command Executable.
   * @param args Arguments (the host script, `--bootstrap …`, `--runtime …`).
   * @param options Working directory and a start timeout.
   * @returns The ready host.
   */
  static async start(
    name: string,
    command: string,
    args: string[],
    options: { cwd?: string; timeoutMs?: number } = {},
  ): Promise<ProcessHost> {
    const host = new ProcessHost(name, command, args, options.cwd);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        host.#ready,
        host.#closed.then(() => {
          throw new Error(`${name} host exited before it was ready: ${host.#stderr}`);
        }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${name} host not ready in time: ${host.#stderr}`)),
            options.timeoutMs ?? 60_000,
          );
        }),
      ]);
    } catch (err) {
      await host.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return host;
  }

  async #pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    for await (const line of readLines(stream)) onLine(line);
  }

  #onLine(line: string): void {
    let answer: { id: number; ok: boolean; value?: unknown; error?: string };
    try {
      answer = JSON.parse(line);
    } catch {
      this.#stderr = (this.#stderr + `stdout: ${line}\n`).slice(-4000);
      return;
    }
    const waiter = this.#pending.get(answer.id);
    if (!waiter) return;
    this.#pending.delete(answer.id);
    if (answer.ok) waiter.resolve(answer.value);
    else waiter.reject(new Error(`${this.name}: ${answer.error}`));
  }

  /**
   * Send a command; resolves with its result.
   *
   * @param command The command.
   * @returns Its result.
   */
  call(command: HostCommand): Promise<unknown> {
    const id = this.#nextId++;
    const result = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    const line = new TextEncoder().encode(JSON.stringify({ id, ...command }) + "\n");
    this.#writer.write(line).catch((err) => {
      this.#pending.get(id)?.reject(err);
      this.#pending.delete(id);
    });
    return result;
  }

  /** A contract runtime backed by this host. */
  runtime(): RemoteRuntime {
    return new RemoteRuntime(this.name, (command) => this.call(command));
  }

  /** End the host's input (it leaves its meetings and exits); kill it after 15 s. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 15_000);
    await this.#closed;
    clearTimeout(timer);
  }
}
