/**
 * Serving a fetch handler over HTTP, for Deno (`Deno.serve`). A Node variant
 * (`http_server.node.ts`) exports the same names.
 *
 * @module
 */
import { _forbiddenMethodResponse, _isForbiddenMethod } from "./_forbidden_methods.ts";

/** A fetch-style request handler (what `app.fetch` of a Hono app is). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /**
   * Address to bind.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to bind (0: any free port).
   * @default {0}
   */
  port?: number;
  /** Closes the server when aborted (like calling `close()`). */
  signal?: AbortSignal;
  /**
   * The answer to a request whose method a fetch `Request` cannot carry (`CONNECT`, `TRACE`,
   * `TRACK`, the Fetch standard's forbidden methods); such requests never reach the handler.
   * @default {A plain-text 405}
   */
  onForbiddenMethod?: (method: string) => Response;
}

/** A running HTTP server. */
export interface HttpServer extends AsyncDisposable {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** `http://<hostname>:<port>` (IPv6 in brackets). */
  readonly url: string;
  /**
   * Stop accepting connections and wait for requests in flight (end long-lived responses
   * such as event streams first). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Serve a fetch handler over HTTP.
 *
 * @param handler The handler, e.g. `app.fetch` of a Hono app.
 * @param options Address, port and an abort signal.
 * @returns Once listening: the bound address and `close()`.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example Serve a handler on a free port of 127.0.0.1
 * ```ts ignore
 * await using server = await serve(() => new Response("ok"), { port: 0 });
 * console.log(server.url);
 * ```
 */
export function serve(handler: FetchHandler, options: ServeOptions = {}): Promise<HttpServer> {
  options.signal?.throwIfAborted();
  const hostname = options.hostname ?? "127.0.0.1";
  const forbidden = options.onForbiddenMethod ?? _forbiddenMethodResponse;
  return new Promise<HttpServer>((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve(
        {
          hostname,
          port: options.port ?? 0,
          onListen: () => {},
          // Deno prints uncaught handler errors by default; the handler answers them itself.
          onError: () => new Response("Internal Server Error", { status: 500 }),
        },
        (request) =>
          _isForbiddenMethod(request.method) ? forbidden(request.method) : handler(request),
      );
    } catch (err) {
      reject(err);
      return;
    }
    const port = server.addr.port;
    const host = server.addr.hostname;
    let closed: Promise<void> | undefined;
    const close = () => {
      options.signal?.removeEventListener("abort", close);
      return closed ??= server.shutdown();
    };
    options.signal?.addEventListener("abort", close, { once: true });
    resolve({
      hostname: host,
      port,
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      close,
      [Symbol.asyncDispose]: close,
    });
  });
}
