/**
 * Serving a fetch handler over HTTP, for Node (`node:http`). Same exports as
 * `http_server.ts` (the Deno variant, `Deno.serve`); `build_npm.ts` maps that file to this
 * one in the npm package. Requests become web `Request`s (bodies streamed, aborted when
 * the client goes away) and `Response` bodies are streamed back, so event streams work.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
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

function _toRequest(req: IncomingMessage, res: ServerResponse, fallbackHost: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
    else if (value !== undefined) headers.set(name, value);
  }
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? fallbackHost}`);
  const method = req.method ?? "GET";
  const controller = new AbortController();
  res.on("close", () => controller.abort());
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
  if (method !== "GET" && method !== "HEAD") {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(url, init);
}

async function _writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on("close", () => void reader.cancel().catch(() => {}));
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
    }
  } finally {
    res.end();
  }
}

/**
 * Serve a fetch handler over HTTP.
 *
 * @param handler The handler, e.g. `app.fetch` of a Hono app.
 * @param options Address, port and an abort signal.
 * @returns Once listening: the bound address and `close()`.
 * @throws {Error} With code `EADDRINUSE` when the port is taken.
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
  const server = createServer((req, res) => {
    void (async () => {
      let response: Response;
      const method = req.method ?? "GET";
      try {
        // `new Request()` throws for these; answer before building one.
        response = _isForbiddenMethod(method)
          ? forbidden(method)
          : await handler(_toRequest(req, res, hostname));
      } catch {
        response = new Response("Internal Server Error", { status: 500 });
      }
      await _writeResponse(response, res).catch(() => res.destroy());
    })();
  });
  return new Promise<HttpServer>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.address;
      let closed: Promise<void> | undefined;
      const close = () => {
        options.signal?.removeEventListener("abort", close);
        return closed ??= new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
        });
      };
      options.signal?.addEventListener("abort", close, { once: true });
      resolve({
        hostname: host,
        port: address.port,
        url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`,
        close,
        [Symbol.asyncDispose]: close,
      });
    });
  });
}
