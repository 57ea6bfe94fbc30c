/**
 * The process around a CLI, for Node: arguments, environment, standard streams, exit,
 * signals. Same exports as `process.ts` (the Deno variant); `build_npm.ts` maps
 * `process.ts` to this file in the npm package.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";

/** Command-line arguments (without the program). */
export function args(): string[] {
  return process.argv.slice(2);
}

/**
 * Read an environment variable.
 *
 * @param name The variable.
 * @returns Its value, or undefined.
 */
export function env(name: string): string | undefined {
  return process.env[name];
}

/**
 * Write text to standard output.
 *
 * @param text The text (no newline is added).
 */
export function writeStdout(text: string): void {
  process.stdout.write(text);
}

/**
 * Write text to standard error.
 *
 * @param text The text (no newline is added).
 */
export function writeStderr(text: string): void {
  process.stderr.write(text);
}

/**
 * Lines of standard input, until it ends.
 *
 * @returns An async iterable of lines (without newlines).
 */
export async function* stdinLines(): AsyncGenerator<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
  }
}

/**
 * Exit the process.
 *
 * @param code Exit code.
 */
export function exit(code: number): never {
  process.exit(code);
}

/**
 * Call `handler` on SIGINT and SIGTERM.
 *
 * @param handler What to do (e.g. leave the meeting, then exit).
 */
export function onShutdownSignal(handler: () => void): void {
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

/** Name of the runtime, for `--version` and status output. */
export const runtimeName = `node ${process.versions.node}`;

/**
 * Call `handler` when standard input ends (the other side closed it).
 *
 * @param handler What to do.
 */
export function onStdinEnd(handler: () => void): void {
  process.stdin.once("end", handler);
  process.stdin.once("close", handler);
}
