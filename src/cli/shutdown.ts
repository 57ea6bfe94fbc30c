/**
 * SIGINT/SIGTERM for the long-running commands (`serve`, `join`, `mcp`).
 *
 * @module
 */
import { onShutdownSignal } from "../runtime/process.ts";

/**
 * Listen for SIGINT and SIGTERM from now on. Commands call it first, before starting a node
 * or joining: a signal that arrives before any listener exists ends the process at once
 * (the signal's default action), with nothing stopped or left. `serve` listened only after
 * printing its addresses, and a SIGTERM sent the moment they appeared killed it outright in
 * 11 of 30 tries (exit code 143; a supervisor that stops a node it just started does that).
 *
 * @returns Resolves at the first SIGINT or SIGTERM.
 */
export function shutdownRequested(): Promise<void> {
  return new Promise((resolve) => onShutdownSignal(resolve));
}

/**
 * An abort signal for work under way when a shutdown signal comes (a join that would
 * otherwise run to its end before the command could stop).
 *
 * @param shutdown From {@linkcode shutdownRequested}.
 * @returns Aborted at the first SIGINT or SIGTERM.
 */
export function abortedOn(shutdown: Promise<void>): AbortSignal {
  const controller = new AbortController();
  void shutdown.then(() =>
    controller.abort(new DOMException("Interrupted by SIGINT or SIGTERM", "AbortError"))
  );
  return controller.signal;
}
