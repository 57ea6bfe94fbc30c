/**
 * NAT behaviour discovery (RFC 5780, section 4) with STUN binding requests: how the NAT
 * maps our address (mapping) and which incoming packets it lets through (filtering), and
 * from both the classic NAT type. Needs a STUN server with a second address (OTHER-ADDRESS)
 * that honours CHANGE-REQUEST, such as coturn with two listening IPs; otherwise the
 * behaviour is reported as `unknown`.
 *
 * The STUN binding itself is injected (`runtime/stun_client.ts` in the CLI, fakes in tests).
 *
 * @module
 */
import type { StunAddress, StunBindingResult } from "../stun.ts";

/** How a NAT maps, or filters (RFC 4787 terms). */
export type NatBehavior =
  | "endpoint-independent"
  | "address-dependent"
  | "address-and-port-dependent"
  | "unknown";

/** The classic name of a NAT (RFC 3489 terms), derived from its behaviour. */
export type NatType =
  | "no NAT"
  | "no NAT, firewalled"
  | "full cone"
  | "restricted cone"
  | "port-restricted cone"
  | "symmetric"
  | "unknown";

/** One STUN binding: what a probe sends and what it learns. */
export type StunBinder = (
  server: { host: string; port: number },
  options: { localPort?: number; change?: { ip?: boolean; port?: boolean }; timeoutMs: number },
) => Promise<StunBindingResult & { localPort: number; rttMs: number }>;

/** The result of {@linkcode probeNatBehavior}. */
export interface NatReport {
  /** The STUN server asked (`host:port`). */
  server: string;
  /** Our address as the server saw it. */
  mapped: StunAddress;
  /** The local UDP port of the probes. */
  localPort: number;
  /** Round trip of the first binding, ms. */
  rttMs: number;
  /** The server's second address, if it has one (RFC 5780). */
  otherAddress?: StunAddress;
  /** Whether a NAT sits between us and the server (`unknown` without host addresses). */
  nat: boolean | "unknown";
  /** Mapping behaviour. */
  mapping: NatBehavior;
  /** Filtering behaviour. */
  filtering: NatBehavior;
  /** The classic NAT type. */
  type: NatType;
  /** Why something is unknown, or what else was seen. */
  notes: string[];
}

function _same(a: StunAddress, b: StunAddress): boolean {
  return a.address === b.address && a.port === b.port;
}

/**
 * Name the NAT type from its behaviour.
 *
 * @param nat Whether there is a NAT.
 * @param mapping Mapping behaviour.
 * @param filtering Filtering behaviour.
 * @returns The classic NAT type.
 */
export function natType(
  nat: boolean | "unknown",
  mapping: NatBehavior,
  filtering: NatBehavior,
): NatType {
  if (nat === false) {
    if (filtering === "endpoint-independent") return "no NAT";
    return filtering === "unknown" ? "no NAT" : "no NAT, firewalled";
  }
  if (mapping === "address-dependent" || mapping === "address-and-port-dependent") {
    return "symmetric";
  }
  if (mapping !== "endpoint-independent") return "unknown";
  switch (filtering) {
    case "endpoint-independent":
      return "full cone";
    case "address-dependent":
      return "restricted cone";
    case "address-and-port-dependent":
      return "port-restricted cone";
    default:
      return "unknown";
  }
}

/**
 * Run the RFC 5780 mapping and filtering tests against one STUN server.
 *
 * @param server The STUN server.
 * @param bind Sends one binding request (from a given local port, with change flags).
 * @param options `hostAddresses`: this host's own IP addresses (to tell "no NAT");
 * `timeoutMs`: budget of each binding (a filtering test waits that long for nothing).
 * @returns What the tests found; the parts the server cannot test are `unknown`.
 * @throws {Error} When the server does not answer the first binding request.
 *
 * @example
 * ```ts ignore
 * const report = await probeNatBehavior({ host: "198.51.100.1", port: 3478 }, stunBinding);
 * console.log(report.type); // "port-restricted cone"
 * ```
 */
export async function probeNatBehavior(
  server: { host: string; port: number },
  bind: StunBinder,
  options: { hostAddresses?: readonly string[]; timeoutMs?: number } = {},
): Promise<NatReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const notes: string[] = [];
  const first = await bind(server, { timeoutMs });
  const localPort = first.localPort;
  const report: NatReport = {
    server: `${server.host}:${server.port}`,
    mapped: first.mapped,
    localPort,
    rttMs: first.rttMs,
    ...(first.other ? { otherAddress: first.other } : {}),
    nat: "unknown",
    mapping: "unknown",
    filtering: "unknown",
    type: "unknown",
    notes,
  };
  if (options.hostAddresses) {
    // A loopback address is this host's own, whatever the interfaces list says.
    const own = options.hostAddresses.includes(first.mapped.address) ||
      /^127\.|^::1$/.test(first.mapped.address);
    report.nat = !(own && first.mapped.port === localPort);
  }
  const other = first.other;
  if (!other) {
    notes.push(
      "the STUN server has no second address (no OTHER-ADDRESS, RFC 5780), so mapping and " +
        "filtering cannot be tested; coturn offers it with two --listening-ip",
    );
    report.type = report.nat === false ? "no NAT" : "unknown";
    return report;
  }
  // Mapping: does the mapping change with the destination address, or port?
  try {
    const second = await bind({ host: other.address, port: server.port }, {
      localPort,
      timeoutMs,
    });
    if (_same(second.mapped, first.mapped)) report.mapping = "endpoint-independent";
    else {
      const third = await bind({ host: other.address, port: other.port }, {
        localPort,
        timeoutMs,
      });
      report.mapping = _same(third.mapped, second.mapped)
        ? "address-dependent"
        : "address-and-port-dependent";
    }
  } catch (err) {
    notes.push(`mapping test failed: ${(err as Error).message}`);
  }
  // Filtering: which answers from elsewhere come back in?
  const answersFrom = async (change: { ip?: boolean; port?: boolean }) => {
    try {
      const result = await bind(server, { localPort, change, timeoutMs });
      const origin = result.origin;
      if (origin && _same(origin, { address: server.host, port: server.port, family: 4 })) {
        notes.push("the server answered CHANGE-REQUEST from its primary address (ignores it)");
        return undefined;
      }
      return true;
    } catch {
      return false;
    }
  };
  const fromOtherIpAndPort = await answersFrom({ ip: true, port: true });
  if (fromOtherIpAndPort === true) report.filtering = "endpoint-independent";
  else if (fromOtherIpAndPort === false) {
    const fromOtherPort = await answersFrom({ port: true });
    if (fromOtherPort === true) report.filtering = "address-dependent";
    else if (fromOtherPort === false) report.filtering = "address-and-port-dependent";
  }
  report.type = natType(report.nat, report.mapping, report.filtering);
  return report;
}
