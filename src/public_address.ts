/**
 * Learning our public address through STUN (requirement C1).
 *
 * @module
 */
import { stunBinding } from "./runtime/stun_client.ts";
import { type StunAddress, stunServersOf } from "./stun.ts";

/** What STUN said about our address. */
export interface PublicAddressInfo {
  /** `ok`: found; `unreachable`: STUN servers configured but none answered; `none`: none configured. */
  status: "ok" | "unreachable" | "none";
  /** Our public address as `ip:port` (IPv6 in brackets), when found. */
  address?: string;
  /** The mapped address in parts, when found. */
  mapped?: StunAddress;
  /** The local UDP port of the probe (its mapping is what `mapped` shows). */
  localPort?: number;
  /** The server that answered (`host:port`). */
  server?: string;
  /** Why it failed, when it did. */
  error?: string;
}

/**
 * Format an address as `ip:port` (`[ip]:port` for IPv6).
 *
 * @param a The address.
 * @returns The text form.
 */
export function formatAddress(a: StunAddress): string {
  return a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * Ask the STUN servers of an ICE server list for our public address; the first answer
 * wins. Never throws: failures are reported in the result.
 *
 * @param iceServers ICE servers (`stun:` URLs, or `turn:` when there is no `stun:`).
 * @param options Timeout, local address, abort signal.
 * @returns The public address, or why there is none.
 *
 * @example
 * ```ts ignore
 * const info = await discoverPublicAddress([{ urls: "stun:198.51.100.1:3478" }]);
 * if (info.status === "ok") console.log("public address", info.address);
 * ```
 */
export async function discoverPublicAddress(
  iceServers: readonly RTCIceServer[] | undefined,
  options: { timeoutMs?: number; localAddress?: string; signal?: AbortSignal } = {},
): Promise<PublicAddressInfo> {
  const servers = stunServersOf(iceServers ?? []);
  if (servers.length === 0) return { status: "none" };
  try {
    return await Promise.any(servers.map(async (server) => {
      const result = await stunBinding(server, {
        timeoutMs: options.timeoutMs ?? 3000,
        localAddress: options.localAddress,
        signal: options.signal,
      });
      return {
        status: "ok" as const,
        address: formatAddress(result.mapped),
        mapped: result.mapped,
        localPort: result.localPort,
        server: `${server.host}:${server.port}`,
      };
    }));
  } catch (err) {
    const errors = (err as AggregateError).errors ?? [err];
    return {
      status: "unreachable",
      error: `No STUN server answered (${
        errors.map((e: Error) => e.message).join("; ")
      }); the public address is unknown, meetings still work on a LAN`,
    };
  }
}
