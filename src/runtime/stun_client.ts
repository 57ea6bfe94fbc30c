/**
 * A STUN binding over UDP, for Deno and Node (`node:dgram` works in both). The browser
 * variant (`stun_client.browser.ts`) learns the same thing from ICE gathering.
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { decodeBindingResponse, encodeBindingRequest, type StunBindingResult } from "../stun.ts";

/** Options of {@linkcode stunBinding}. */
export interface StunBindingOptions {
  /**
   * How long to wait for an answer (the request is retransmitted at 250, 750 ms, …).
   * @default {3000}
   */
  timeoutMs?: number;
  /** Local address to bind (e.g. to probe one interface). */
  localAddress?: string;
  /** Local port to bind (0: any). */
  localPort?: number;
  /** RFC 5780 CHANGE-REQUEST flags. */
  change?: { ip?: boolean; port?: boolean };
  /** Aborts the binding. */
  signal?: AbortSignal;
}

/** A binding result plus the local port the request was sent from. */
export interface StunProbeResult extends StunBindingResult {
  /** Local UDP port the request was sent from. */
  localPort: number;
  /** Round-trip time of the answered request, in ms. */
  rttMs: number;
}

/**
 * Send a STUN binding request and wait for the answer.
 *
 * @param server STUN server host (IP or name) and port.
 * @param options Timeout, local address, change flags, abort signal.
 * @returns The mapped (public) address and what else the server said.
 * @throws {Error} When no answer came in time (`"STUN server … did not answer"`), or the
 * server answered with an error. Rejects with `signal.reason` when aborted.
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
  const timeoutMs = options.timeoutMs ?? 3000;
  const family = isIPv6(server.host) || (options.localAddress && isIPv6(options.localAddress))
    ? "udp6"
    : "udp4";
  const socket = createSocket({ type: family });
  const transactionId = crypto.getRandomValues(new Uint8Array(12));
  const request = encodeBindingRequest(transactionId, options.change);
  return new Promise<StunProbeResult>((resolve, reject) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    let sentAt = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      timers.forEach(clearTimeout);
      options.signal?.removeEventListener("abort", onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      fn();
    };
    const onAbort = () => finish(() => reject(options.signal!.reason));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (err) => finish(() => reject(err)));
    socket.on("message", (message) => {
      let result: StunBindingResult | undefined;
      try {
        result = decodeBindingResponse(new Uint8Array(message), transactionId);
      } catch (err) {
        return finish(() => reject(err));
      }
      if (!result) return;
      const localPort = socket.address().port;
      const rttMs = performance.now() - sentAt;
      finish(() => resolve({ ...result, localPort, rttMs }));
    });
    const send = () => {
      sentAt = performance.now();
      socket.send(request, server.port, server.host, (err) => {
        if (err) finish(() => reject(err));
      });
    };
    socket.bind({ port: options.localPort ?? 0, address: options.localAddress }, () => {
      send();
      for (let delay = 250, at = 250; at < timeoutMs; delay *= 2, at += delay) {
        timers.push(setTimeout(send, at));
      }
      timers.push(setTimeout(() =>
        finish(() =>
          reject(
            new Error(
              `STUN server ${server.host}:${server.port} did not answer within ${timeoutMs} ms`,
            ),
          )
        ), timeoutMs));
    });
  });
}
