/**
 * The process around a CLI, for Deno: arguments, environment, standard streams, exit,
 * signals. `process.node.ts` has the same exports for Node (swapped by `build_npm.ts`).
 *
 * @module
 */
import nodeProcess from "node:process";
import { readLines } from "../_lines.ts";

/** Command-line arguments (without the program). */
export function args(): string[] {
  return [...Deno.args];
}

/**
 * Read an environment variable.
 *
 * @param name The variable.
 * @returns Its value, or undefined (also when access is not permitted).
 */
export function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();

/**
 * Write text to standard output.
 *
 * @param text The text (no newline is added).
 */
export function writeStdout(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

/**
 * Write text to standard error.
 *
 * @param text The text (no newline is added).
 */
export function writeStderr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/**
 * Lines of standard input, until it ends.
 *
 * @returns An async iterable of lines (without newlines).
 */
export function stdinLines(): AsyncGenerator<string> {
  return readLines(Deno.stdin.readable);
}

/**
 * Exit the process.
 *
 * @param code Exit code.
 */
export function exit(code: number): never {
  Deno.exit(code);
}

/**
 * Call `handler` on SIGINT and SIGTERM.
 *
 * @param handler What to do (e.g. leave the meeting, then exit).
 */
export function onShutdownSignal(handler: () => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, handler);
    } catch {
      // not supported on this platform
    }
  }
}

/** Name of the runtime, for `--version` and status output. */
export const runtimeName = `deno ${Deno.version.deno}`;

/**
 * Call `handler` when standard input ends (the other side closed it). Listens on Node's
 * `process.stdin`, which is what the MCP SDK's stdio transport reads in Deno too.
 *
 * @param handler What to do.
 */
export function onStdinEnd(handler: () => void): void {
  nodeProcess.stdin.once("end", handler);
  nodeProcess.stdin.once("close", handler);
}
