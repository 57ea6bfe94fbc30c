/**
 * `serveControlApi()`: serve a control API over HTTP, on loopback unless told otherwise.
 *
 * @module
 */
import { type HttpServer, serve } from "../runtime/http_server.ts";
import type { ControlApi } from "./control_api.ts";

/** Options of {@linkcode serveControlApi}. */
export interface ServeControlApiOptions {
  /**
   * Address to bind. Anything but loopback exposes the open reads (status, meetings,
   * metrics) to the network; writes still need the token.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port (0: any free port).
   * @default {8787}
   */
  port?: number;
  /** Stops the server (and ends event streams) when aborted. */
  signal?: AbortSignal;
}

/** A served control API. */
export interface ControlApiServer extends AsyncDisposable {
  /** The base URL, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** End event streams, stop accepting requests and wait for those in flight. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serve a control API over HTTP.
 *
 * @param api The app from `createControlApi()`.
 * @param options Address (default 127.0.0.1), port (default 8787), abort signal.
 * @returns Once listening: the URL and `close()`.
 * @throws {Error} When the address cannot be bound (e.g. the port is taken).
 *
 * @example Serve on a free port
 * ```ts ignore
 * await using server = await serveControlApi(api, { port: 0 });
 * console.log(`${server.url}/status`);
 * ```
 */
export async function serveControlApi(
  api: ControlApi,
  options: ServeControlApiOptions = {},
): Promise<ControlApiServer> {
  const server: HttpServer = await serve(api.fetch, {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8787,
    // TRACE/TRACK/CONNECT never reach the app (a fetch Request cannot carry them); answer
    // them as the app answers any other method it does not route: a JSON 4xx.
    onForbiddenMethod: (method) =>
      Response.json({
        error: {
          code: "method_not_allowed",
          message: `Method ${JSON.stringify(method)} is not allowed; ` +
            `the control API takes GET, POST and DELETE (GET /openapi.json lists the routes)`,
        },
      }, { status: 405, headers: { Allow: "GET, HEAD, POST, DELETE, OPTIONS" } }),
  });
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      options.signal?.removeEventListener("abort", onAbort);
      api.close();
      await server.close();
    })();
  const onAbort = () => void close();
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    url: server.url,
    hostname: server.hostname,
    port: server.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
