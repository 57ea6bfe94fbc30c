/**
 * The child side of {@linkcode Child} (bench/_util.ts): read `{id, op, args}` lines from
 * stdin, run the handler, answer `{id, ok, result | error}` on stdout. Closing stdin ends
 * the worker after `onClose`.
 *
 * @module
 */

import { stdinLines } from "../../src/runtime/process.ts";

// deno-lint-ignore no-explicit-any
export type Handler = (args: any) => unknown;

const encoder = new TextEncoder();

/**
 * Write one JSON line to stdout.
 *
 * @param value Any JSON value.
 */
export function writeLine(value: unknown): void {
  const bytes = encoder.encode(JSON.stringify(value) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/**
 * Emit an event line (not an answer).
 *
 * @param event Event name.
 * @param data Fields.
 */
export function emit(event: string, data: Record<string, unknown> = {}): void {
  writeLine({ event, ...data });
}

/**
 * Serve handlers until stdin closes.
 *
 * @param handlers Operation name to handler.
 * @param onClose Cleanup before exit.
 */
export async function serve(
  handlers: Record<string, Handler>,
  onClose: () => Promise<void> | void = () => {},
): Promise<void> {
  const inflight = new Set<Promise<void>>();
  for await (const line of stdinLines()) {
    if (!line.trim()) continue;
    const { id, op, args } = JSON.parse(line);
    const p = (async () => {
      try {
        const handler = handlers[op];
        if (!handler) throw new Error(`unknown op ${op}`);
        writeLine({ id, ok: true, result: (await handler(args)) ?? null });
      } catch (err) {
        writeLine({ id, ok: false, error: (err as Error)?.stack ?? String(err) });
      }
    })();
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }
  await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 5000))]);
  try {
    await Promise.race([onClose(), new Promise((r) => setTimeout(r, 15_000))]);
  } finally {
    Deno.exit(0);
  }
}
