/**
 * A STUN binding for browsers, which cannot send UDP themselves: an `RTCPeerConnection`
 * with only the given STUN server gathers candidates, and its server-reflexive (`srflx`)
 * candidate is the mapped address. Same exports as `stun_client.ts` (swapped in by the npm
 * build's `browser` field and by the browser bundle).
 *
 * Limits: no RFC 5780 CHANGE-REQUEST (browsers send plain binding requests), the local
 * address cannot be chosen, and `localPort` is what the browser reports (often 0, as it
 * hides local addresses).
 *
 * @module
 */
import type { StunBindingResult } from "../stun.ts";

/** Options of {@linkcode stunBinding}. */
export interface StunBindingOptions {
  /**
   * How long to wait for an answer.
   * @default {3000}
   */
  timeoutMs?: number;
  /** Local address to bind (not supported in browsers; ignored). */
  localAddress?: string;
  /** Local port to bind (not supported in browsers; ignored). */
  localPort?: number;
  /** RFC 5780 CHANGE-REQUEST flags (not supported in browsers: rejects with a TypeError). */
  change?: { ip?: boolean; port?: boolean };
  /** Aborts the binding. */
  signal?: AbortSignal;
}

/** A binding result plus the local port the request was sent from. */
export interface StunProbeResult extends StunBindingResult {
  /** Local UDP port the request was sent from (0 when the browser hides it). */
  localPort: number;
  /** Time from starting ICE gathering to the server-reflexive candidate, in ms. */
  rttMs: number;
}

/**
 * Learn the mapped (public) address from one STUN server through ICE gathering.
 *
 * @param server STUN server host (IP or name) and port.
 * @param options Timeout and abort signal.
 * @returns The mapped address.
 * @throws {TypeError} When `change` flags are asked for (browsers cannot send them).
 * @throws {Error} When no server-reflexive candidate came in time. Rejects with
 * `signal.reason` when aborted.
 *
 * @example
 * ```ts ignore
 * const { mapped } = await stunBinding({ host: "198.51.100.1", port: 3478 });
 * ```
 */
export function stunBinding(
  server: { host: string; port: number },
  options: StunBindingOptions = {},
): Promise<StunProbeResult> {
  if (options.change?.ip || options.change?.port) {
    return Promise.reject(
      new TypeError("Cannot send a STUN CHANGE-REQUEST from a browser; use Deno or Node"),
    );
  }
  const timeoutMs = options.timeoutMs ?? 3000;
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  const started = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [{ urls: `stun:${host}:${server.port}` }] });
  return new Promise<StunProbeResult>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      pc.close();
      fn();
    };
    const onAbort = () => finish(() => reject(options.signal!.reason));
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `STUN server ${server.host}:${server.port} did not answer within ${timeoutMs} ms`,
            ),
          )
        ),
      timeoutMs,
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      if (c === null || c.type !== "srflx" || !c.address || !c.port) return;
      const address = c.address;
      finish(() =>
        resolve({
          mapped: { address, port: c.port!, family: address.includes(":") ? 6 : 4 },
          localPort: c.relatedPort ?? 0,
          rttMs: performance.now() - started,
        })
      );
    });
    pc.createDataChannel("stun");
    pc.createOffer().then((offer) => pc.setLocalDescription(offer)).catch((err) =>
      finish(() => reject(err))
    );
  });
}
