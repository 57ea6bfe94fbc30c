/**
 * Drives `_member.ts` in a child process: start, wait for its events, send commands, kill.
 *
 * @module
 */
import { readLines } from "../../src/_lines.ts";

const SCRIPT = new URL("./_member.ts", import.meta.url).pathname;

/** An event line of a member process. */
export type MemberEvent = Record<string, unknown> & { event: string };

/** Options of {@linkcode MemberProcess.start}. */
export interface MemberProcessOptions {
  /** Display name. */
  name: string;
  /** The invitation code (given in the environment, never on the command line). */
  code: string;
  /** Bootstrap multiaddrs. */
  bootstrap: string[];
  /** Shift of the process's wall clock in ms. */
  clockOffsetMs?: number;
  /** The meeting's `leaseMs`. */
  leaseMs?: number;
  /** The meeting's `maxFramesPerSecond`. */
  maxFramesPerSecond?: number;
  /** How long to wait for the join. */
  timeoutMs?: number;
}

/** One member process. */
export class MemberProcess {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly events: MemberEvent[] = [];
  stderr = "";
  peerId = "";
  addresses: string[] = [];
  killed = false;
  readonly status: Promise<Deno.CommandStatus>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #wake: Array<() => void> = [];
  #nextId = 1;
  #readers: Promise<void>[];
  /** Called for every event line as it arrives. */
  onEvent: ((e: MemberEvent) => void) | undefined;

  private constructor(options: MemberProcessOptions) {
    this.name = options.name;
    const args = ["run", "-A", "--v8-flags=--expose-gc", SCRIPT, "--name", options.name];
    for (const b of options.bootstrap) args.push("--bootstrap", b);
    if (options.clockOffsetMs) args.push("--clock-offset-ms", String(options.clockOffsetMs));
    if (options.leaseMs) args.push("--lease-ms", String(options.leaseMs));
    if (options.maxFramesPerSecond) args.push("--max-fps", String(options.maxFramesPerSecond));
    const child = new Deno.Command(Deno.execPath(), {
      args,
      env: { NO_COLOR: "1", MESHMEET_FAULT_CODE: options.code },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.status = child.status;
    this.#writer = child.stdin.getWriter();
    this.#readers = [
      (async () => {
        for await (const line of readLines(child.stdout)) {
          let e: MemberEvent;
          try {
            e = JSON.parse(line);
          } catch {
            continue;
          }
          this.events.push(e);
          this.onEvent?.(e);
          for (const wake of this.#wake.splice(0)) wake();
        }
      })(),
      (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
          this.stderr = (this.stderr + chunk).slice(-8000);
        }
      })(),
    ];
  }

  /** Start a member and wait until it joined. */
  static async start(options: MemberProcessOptions): Promise<MemberProcess> {
    const m = new MemberProcess(options);
    try {
      const joined = await m.waitFor((e) => e.event === "joined", "joined", options.timeoutMs);
      m.peerId = joined.peerId as string;
      m.addresses = joined.addresses as string[];
    } catch (err) {
      await m.kill();
      throw err;
    }
    return m;
  }

  /** Wait for an event that matches (events already seen count). */
  async waitFor(
    match: (e: MemberEvent) => boolean,
    what: string,
    timeoutMs = 60_000,
  ): Promise<MemberEvent> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.status.then(() => exited = true);
    while (true) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline || exited) {
        throw new Error(
          `${this.name}: ${
            exited ? "exited" : "timed out"
          } waiting for ${what}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake.push(done);
      });
    }
  }

  /** Send a command and wait for its result. */
  async call(op: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<unknown> {
    const id = this.#nextId++;
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, op, ...args }) + "\n"));
    const result = await this.waitFor(
      (e) => e.event === "result" && e.id === id,
      `the result of ${op}`,
      timeoutMs,
    );
    if (!result.ok) throw new Error(`${this.name}: ${op} failed: ${result.error}`);
    return result.value;
  }

  /** Send a command without waiting for its result. */
  async post(op: string, args: Record<string, unknown> = {}): Promise<void> {
    const id = this.#nextId++;
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, op, ...args }) + "\n"))
      .catch(() => {});
  }

  /** Count events that match. */
  count(match: (e: MemberEvent) => boolean): number {
    return this.events.filter(match).length;
  }

  /** Kill with SIGKILL (no goodbye) and wait for it to be gone. */
  async kill(): Promise<void> {
    if (!this.killed) {
      this.killed = true;
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.status;
    await this.#writer.close().catch(() => {});
    await Promise.allSettled(this.#readers);
  }

  /** Leave gracefully (falls back to SIGKILL after `graceMs`). */
  async leave(graceMs = 10_000): Promise<void> {
    if (this.killed) return this.kill();
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, graceMs);
    await this.post("leave");
    await this.#writer.close().catch(() => {});
    await this.status;
    clearTimeout(timer);
    this.killed = true;
    await Promise.allSettled(this.#readers);
  }
}
