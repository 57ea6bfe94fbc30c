/**
 * Running the `meshmeet` CLI as a subprocess in tests: one-shot runs and long-running
 * processes whose output lines can be waited for.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { readLines } from "../../src/_lines.ts";

/** The CLI entry point. */
export const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** The result of a one-shot run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion (with a deadline). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 60_000);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A long-running CLI process. */
export class CliProcess implements AsyncDisposable {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly status: Promise<Deno.CommandStatus>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readers: Promise<void>[];
  #wake: Array<() => void> = [];

  constructor(name: string, args: string[], env: Record<string, string> = {}) {
    this.name = name;
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      env: { NO_COLOR: "1", ...env },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.status = this.child.status;
    this.#writer = this.child.stdin.getWriter();
    this.#readers = [this.#readStdout(), this.#readStderr()];
  }

  async #readStdout(): Promise<void> {
    for await (const line of readLines(this.child.stdout)) {
      this.lines.push(line);
      for (const wake of this.#wake.splice(0)) wake();
    }
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
      for (const wake of this.#wake.splice(0)) wake();
    }
  }

  /** JSON lines printed so far (`--json`). */
  get events(): Array<Record<string, unknown> & { event: string }> {
    const out = [];
    for (const line of this.lines) {
      try {
        out.push(JSON.parse(line));
      } catch {
        // not JSON
      }
    }
    return out;
  }

  /** Wait until `predicate` holds, or fail with the output so far. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.status.then(() => exited = true);
    while (!predicate()) {
      if (Date.now() > deadline || exited) {
        throw new Error(
          `${this.name}: ${exited ? "exited" : "timed out"} waiting for ${what}\n` +
            `stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`,
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

  /** Wait for a JSON event. */
  async waitForEvent(
    match: (e: Record<string, unknown> & { event: string }) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown> & { event: string }> {
    await this.waitFor(() => this.events.some(match), what, timeoutMs);
    return this.events.find(match)!;
  }

  /** Type a line on its standard input. */
  async type(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Stop it (SIGTERM, then SIGKILL after a grace period) and wait for its streams. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    await this.#writer.close().catch(() => {});
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, graceMs);
    const status = await this.status;
    clearTimeout(timer);
    await Promise.all(this.#readers);
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Scrape a control API's `/metrics`.
 *
 * @param url The API's base URL.
 * @returns The value of a metric's first sample by name (NaN when it is missing).
 */
export async function scrapeMetrics(url: string): Promise<(name: string) => number> {
  const families: { name: string; metrics: { value: string }[] }[] = parsePrometheusTextFormat(
    await (await fetch(`${url}/metrics`)).text(),
  );
  return (name) => Number(families.find((f) => f.name === name)?.metrics[0]?.value ?? NaN);
}
