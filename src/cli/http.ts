/**
 * `--http`: serve the control API from a CLI command (`serve`, `join`).
 *
 * @module
 */
import type { ComponentLogger } from "../logger.ts";
import {
  type ControlApiServer,
  type ControlNode,
  createControlApi,
  DOCS_PATH,
  serveControlApi,
} from "../http/mod.ts";
import { env, writeStderr } from "../runtime/process.ts";
import { type ParsedArgs, UsageError } from "./args.ts";
import type { Output } from "./output.ts";

/**
 * The usage lines of the `--http` options, aligned like the rest of a command's usage.
 *
 * @param column Where the descriptions start (characters after the two-space indent).
 * @returns The lines.
 */
export function httpUsage(column: number): string {
  const row = (option: string, text: string) => `  ${option.padEnd(column - 1)} ${text}`;
  const more = (text: string) => `${" ".repeat(column + 2)}${text}`;
  return [
    row("--http <[host:]port>", "serve the control API (host 127.0.0.1 unless given; port 0:"),
    more("any free port)"),
    row("--token <token>", "bearer token for the API's writes (default: $MESHMEET_TOKEN,"),
    more("else a random one, printed)"),
    row("--events", "enable the API's event stream (GET /events)"),
    row("--cors <origin>", "let this browser origin call the API, repeatable (default: none)"),
  ].join("\n");
}

/** Value options of `--http`, to merge into a command's spec. */
export const HTTP_VALUES = ["http", "token"] as const;
/** List options of `--http`. */
export const HTTP_LISTS = ["cors"] as const;
/** Flags of `--http`. */
export const HTTP_FLAGS = ["events"] as const;

/**
 * Parse `[host:]port` (IPv6 hosts in brackets).
 *
 * @param text The value of `--http`.
 * @returns Host and port.
 * @throws {UsageError} When it is not `[host:]port` with a port in 0–65535.
 */
export function parseHttpAddress(text: string): { hostname: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `--http ${JSON.stringify(text)} is not [host:]port (e.g. 127.0.0.1:8787 or 8787)`,
    );
  }
  return { hostname: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), port };
}

function _randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

function _isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

/**
 * Check the `--http` options before anything starts (so that bad ones exit 2 at once).
 *
 * @param args Parsed arguments.
 * @returns The address to serve on, or undefined without `--http`.
 * @throws {UsageError} When `--http` is malformed or `--token` is given without it.
 */
export function httpAddressOf(
  args: ParsedArgs,
): { hostname: string; port: number } | undefined {
  if (args.values.http === undefined) {
    for (const o of ["token", "cors"]) {
      if (args.values[o] !== undefined || args.lists[o] !== undefined) {
        throw new UsageError(`--${o} needs --http`);
      }
    }
    if (args.flags.has("events")) throw new UsageError("--events needs --http");
    return undefined;
  }
  if (args.values.token !== undefined && args.values.token.length < 8) {
    throw new UsageError("--token must have at least 8 characters");
  }
  return parseHttpAddress(args.values.http);
}

/**
 * Serve the control API for a node and print where (URL, docs, token).
 *
 * @param node The registry to serve.
 * @param address Where to bind.
 * @param args Parsed arguments (`--token`, `--events`, `--cors`).
 * @param out Where to print.
 * @param logger The CLI's logger (for `meshmeet:http`).
 * @returns The running server.
 */
export async function startHttp(
  node: ControlNode,
  address: { hostname: string; port: number },
  args: ParsedArgs,
  out: Output,
  logger: ComponentLogger | undefined,
): Promise<ControlApiServer> {
  const token = args.values.token ?? env("MESHMEET_TOKEN") ?? _randomToken();
  const api = createControlApi(node, {
    token,
    events: args.flags.has("events"),
    corsOrigins: args.lists.cors,
    logger,
  });
  const server = await serveControlApi(api, address);
  if (!_isLoopback(server.hostname)) {
    writeStderr(
      `warning: the control API listens on ${server.hostname}: anyone who can reach it can ` +
        `read status, meetings and metrics (writes still need the token)\n`,
    );
  }
  out.event(
    "http",
    `Control API: ${server.url}  (docs ${server.url}${DOCS_PATH})\n` +
      `API token:   ${token}  (send "Authorization: Bearer <token>" to join, leave, send)`,
    { url: server.url, docs: `${server.url}${DOCS_PATH}`, token },
  );
  return server;
}
