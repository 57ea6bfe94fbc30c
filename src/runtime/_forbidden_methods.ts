/**
 * HTTP methods that a fetch `Request` cannot carry. Shared by both `http_server` variants.
 *
 * The Fetch standard forbids `CONNECT`, `TRACE` and `TRACK` (compared case-insensitively):
 * `new Request(url, { method: "TRACE" })` throws `TypeError: Method is forbidden`. Deno.serve
 * still hands such requests to the handler (it builds them internally), and any handler code
 * that rebuilds the request (a body limit, a clone) then throws; Node's `http` hands over the
 * bare method, so turning it into a `Request` throws. Either way a client could make the
 * server answer 500 (found by issue 12: `TRACE /status HTTP/1.1` → 500). The server answers
 * them itself, with 405, before the handler runs.
 *
 * @module
 */

const FORBIDDEN = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Whether `method` is one a fetch `Request` refuses (case-insensitive). */
export function _isForbiddenMethod(method: string): boolean {
  return FORBIDDEN.has(method.toUpperCase());
}

/** The default answer to a forbidden method: a plain-text 405. */
export function _forbiddenMethodResponse(method: string): Response {
  return new Response(`Method ${JSON.stringify(method)} is not allowed\n`, {
    status: 405,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
