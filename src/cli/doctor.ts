/**
 * `meshmeet doctor`: can this machine take part in meetings? Checks the bootstrap nodes
 * (reachable, how fast, DHT server, relay, advertised ICE servers), STUN (reachable, public
 * address), the NAT's behaviour (RFC 5780 where the STUN server supports it), and ICE
 * candidate gathering, then says what to do.
 *
 * @module
 */
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { fetchIceServers, ICE_SERVERS_PROTOCOL } from "../ice_servers.ts";
import { createParticipantLibp2p, DHT_PROTOCOL, type ParticipantLibp2p } from "../node.ts";
import { formatAddress } from "../public_address.ts";
import { stunBinding } from "../runtime/stun_client.ts";
import { stunServersOf } from "../stun.ts";
import { parseArgs, UsageError } from "./args.ts";
import { gatherCandidates, type GatheredCandidate } from "./candidates.ts";
import { type NatReport, probeNatBehavior } from "./nat_behavior.ts";
import { Output } from "./output.ts";

/** Usage of `doctor`. */
export const DOCTOR_USAGE =
  `meshmeet doctor [--stun <host:port>] [--bootstrap <multiaddr>] [options]

Check whether this machine can take part in meetings: reachability and speed of the
bootstrap nodes, STUN (public address), the NAT's behaviour (RFC 5780 tests, where the STUN
server supports them), and ICE candidate gathering. Ends with a verdict; exits 1 when
something is broken.

Options:
  --stun <host:port>       STUN server, repeatable (default: those the bootstrap nodes advertise)
  --bootstrap <multiaddr>  bootstrap node address to check, repeatable
  --timeout <ms>           budget of each network check (default 3000)
  --json                   print one JSON object
  --help                   show this help`;

/** What `doctor` found about one bootstrap address. */
export interface BootstrapCheck {
  /** The address. */
  address: string;
  /** Whether a libp2p connection (Noise, Yamux) was made. */
  reachable: boolean;
  /** Time to connect, ms. */
  connectMs?: number;
  /** libp2p ping round trip, ms. */
  pingMs?: number;
  /** Whether it runs meshmeet's DHT as a server. */
  dht?: boolean;
  /** Whether it runs a circuit relay (signaling). */
  relay?: boolean;
  /** The ICE servers it advertises (URLs only). */
  iceServers?: string[];
  /** Why not, when unreachable. */
  error?: string;
}

/** What `doctor` found about one STUN server. */
export interface StunCheck {
  /** `host:port`. */
  server: string;
  /** Whether it answered. */
  reachable: boolean;
  /** Our public address as it saw it. */
  publicAddress?: string;
  /** Round trip, ms. */
  rttMs?: number;
  /** Whether it supports the RFC 5780 tests (has OTHER-ADDRESS). */
  rfc5780?: boolean;
  /** Why not. */
  error?: string;
}

/** Everything `doctor` found. */
export interface DoctorReport {
  /** Bootstrap checks. */
  bootstrap: BootstrapCheck[];
  /** STUN checks. */
  stun: StunCheck[];
  /** NAT behaviour, when a STUN server answered. */
  nat?: NatReport;
  /** Gathered candidates. */
  candidates: { complete: boolean; ms: number; list: GatheredCandidate[] };
  /** Blocking problems (exit code 1 when any). */
  problems: string[];
  /** Things that may limit connections. */
  warnings: string[];
  /** The summary a person can act on. */
  verdict: string;
}

const RELAY_HOP = "/libp2p/circuit/relay/0.2.0/hop";

function _parseStun(text: string): { host: string; port: number } {
  const m = /^(?:stun:)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] ? Number(m[2]) : 3478;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`--stun ${JSON.stringify(text)} is not host:port (e.g. 127.0.0.1:3478)`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

async function _checkBootstrap(
  libp2p: ParticipantLibp2p,
  address: string,
  timeoutMs: number,
): Promise<BootstrapCheck> {
  const ma = multiaddr(address);
  const id = ma.getComponents().findLast((c) => c.name === "p2p")?.value;
  const started = performance.now();
  try {
    const connection = await libp2p.dial(ma, {
      signal: AbortSignal.timeout(timeoutMs),
      force: true,
    });
    const connectMs = Math.round(performance.now() - started);
    const check: BootstrapCheck = { address, reachable: true, connectMs };
    try {
      check.pingMs = Math.round(
        (await libp2p.services.ping.ping(ma, { signal: AbortSignal.timeout(timeoutMs) })) * 10,
      ) / 10;
    } catch {
      // ping is optional on servers
    }
    const peerId = id ? peerIdFromString(id) : connection.remotePeer;
    // identify runs right after the connection opens; give it a moment.
    let protocols: string[] = [];
    for (let waited = 0; waited < timeoutMs; waited += 50) {
      protocols = (await libp2p.peerStore.get(peerId).catch(() => undefined))?.protocols ?? [];
      if (protocols.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    check.dht = protocols.includes(DHT_PROTOCOL);
    check.relay = protocols.includes(RELAY_HOP);
    if (protocols.includes(ICE_SERVERS_PROTOCOL)) {
      const servers = await fetchIceServers(libp2p, [peerId], AbortSignal.timeout(timeoutMs));
      check.iceServers = servers.flatMap((s) => Array.isArray(s.urls) ? s.urls : [s.urls]);
    } else check.iceServers = [];
    await connection.close().catch(() => {});
    return check;
  } catch (err) {
    return {
      address,
      reachable: false,
      error: (err as Error).message || (err as Error).name,
    };
  }
}

/**
 * Turn the findings into problems, warnings and a verdict.
 *
 * @param report The findings so far.
 * @returns The same report with `problems`, `warnings` and `verdict` filled in.
 */
export function judge(
  report: Omit<DoctorReport, "problems" | "warnings" | "verdict">,
): DoctorReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const good: string[] = [];
  const reachable = report.bootstrap.filter((b) => b.reachable);
  if (report.bootstrap.length > 0) {
    if (reachable.length === 0) {
      problems.push(
        `none of the ${report.bootstrap.length} bootstrap address(es) is reachable: check the ` +
          `addresses (with /p2p/<peer id>), that the node runs (meshmeet serve) and that ` +
          `no firewall blocks its TCP port`,
      );
    } else {
      const down = report.bootstrap.length - reachable.length;
      if (down > 0) warnings.push(`${down} bootstrap address(es) unreachable`);
      if (!reachable.some((b) => b.dht)) {
        problems.push(
          "no reachable bootstrap node runs the meshmeet DHT (is it `meshmeet serve`?)",
        );
      }
      if (!reachable.some((b) => b.relay)) {
        problems.push("no reachable bootstrap node runs a circuit relay: peers cannot signal");
      }
      good.push(`${reachable.length}/${report.bootstrap.length} bootstrap address(es) reachable`);
    }
  }
  const answering = report.stun.filter((s) => s.reachable);
  if (report.stun.length > 0) {
    if (answering.length === 0) {
      problems.push(
        "no STUN server answered: UDP may be blocked or the servers are down; without a " +
          "public address, meetings only work on a LAN (or through the relay)",
      );
    } else good.push(`public address ${answering[0].publicAddress} (STUN)`);
  } else {
    warnings.push(
      "no STUN server to test (give --stun, or a bootstrap node that advertises one): " +
        "peers behind different NATs may not connect directly",
    );
  }
  const nat = report.nat;
  if (nat) {
    if (nat.type === "symmetric") {
      warnings.push(
        "symmetric NAT: direct connections to peers behind symmetric or port-restricted NATs " +
          "will fail; configure a TURN server (serve --ice-server turn:…) so they can relay",
      );
    } else if (nat.type === "unknown") {
      warnings.push(`NAT behaviour unknown (${nat.notes[0] ?? "tests inconclusive"})`);
    } else good.push(`NAT: ${nat.type}, direct connections should work`);
  }
  const types = new Set(report.candidates.list.map((c) => c.type));
  if (!types.has("host")) {
    problems.push("WebRTC gathered no host candidate: no usable network interface?");
  }
  if (answering.length > 0 && !types.has("srflx") && nat?.nat !== false) {
    warnings.push(
      "ICE gathered no server-reflexive candidate although STUN answered (UDP blocked for " +
        "WebRTC, or the STUN server is on a private address)",
    );
  }
  let verdict: string;
  if (problems.length > 0) verdict = `NOT OK: ${problems[0]}`;
  else if (warnings.length > 0) verdict = `OK with warnings: ${warnings.join("; ")}`;
  else verdict = `OK: ${good.join("; ")}`;
  return { ...report, problems, warnings, verdict };
}

function _formatCandidate(c: GatheredCandidate): string {
  return `${c.type} ${c.protocol} ${
    c.address.includes(":") ? `[${c.address}]` : c.address
  }:${c.port}`;
}

/**
 * Run `doctor`.
 *
 * @param argv Arguments after `doctor`.
 * @returns 0 when nothing is broken, 1 otherwise.
 */
export async function doctor(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ["timeout"],
    lists: ["stun", "bootstrap"],
    flags: ["json"],
  });
  if (args.positional.length > 0) {
    throw new UsageError(`doctor takes no arguments, got ${JSON.stringify(args.positional[0])}`);
  }
  const timeoutMs = args.values.timeout === undefined ? 3000 : Number(args.values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new UsageError("--timeout must be a number of ms between 100 and 60000");
  }
  const stunServers = (args.lists.stun ?? []).map(_parseStun);
  const bootstrap = args.lists.bootstrap ?? [];
  for (const address of bootstrap) {
    let ok = false;
    try {
      ok = multiaddr(address).getComponents().some((c) => c.name === "p2p");
    } catch {
      // not a multiaddr
    }
    if (!ok) {
      throw new UsageError(
        `--bootstrap ${JSON.stringify(address)} is not a multiaddr with /p2p/<peer id>`,
      );
    }
  }
  const out = new Output(args.flags.has("json"));
  const line = (text: string) => {
    if (!out.json) out.event("doctor", text);
  };

  // 1. Bootstrap nodes (they may also tell us which STUN servers to use).
  const bootstrapChecks: BootstrapCheck[] = [];
  if (bootstrap.length > 0) {
    const libp2p = await createParticipantLibp2p();
    try {
      for (const address of bootstrap) {
        out.progress(`checking bootstrap ${address} …`);
        const check = await _checkBootstrap(libp2p, address, timeoutMs);
        bootstrapChecks.push(check);
        line(
          check.reachable
            ? `bootstrap ${address}\n  reachable: connected in ${check.connectMs} ms` +
              `${check.pingMs !== undefined ? `, ping ${check.pingMs} ms` : ""}; ` +
              `DHT server ${check.dht ? "yes" : "NO"}, relay ${check.relay ? "yes" : "NO"}, ` +
              `advertises ${check.iceServers?.length ?? 0} ICE server(s)` +
              (check.iceServers?.length ? ` (${check.iceServers.join(", ")})` : "")
            : `bootstrap ${address}\n  UNREACHABLE: ${check.error}`,
        );
      }
    } finally {
      await libp2p.stop();
    }
  }
  if (stunServers.length === 0) {
    const advertised = bootstrapChecks.flatMap((b) => b.iceServers ?? []);
    stunServers.push(...stunServersOf([{ urls: advertised }]));
  }

  // 2. STUN reachability and public address.
  const stunChecks: StunCheck[] = [];
  for (const server of stunServers) {
    const name = `${server.host}:${server.port}`;
    out.progress(`asking STUN server ${name} …`);
    try {
      const r = await stunBinding(server, { timeoutMs });
      stunChecks.push({
        server: name,
        reachable: true,
        publicAddress: formatAddress(r.mapped),
        rttMs: Math.round(r.rttMs * 10) / 10,
        rfc5780: r.other !== undefined,
      });
      line(
        `STUN ${name}: reachable in ${Math.round(r.rttMs * 10) / 10} ms, public address ${
          formatAddress(r.mapped)
        }` +
          (r.other ? `; supports RFC 5780 (other address ${formatAddress(r.other)})` : ""),
      );
    } catch (err) {
      stunChecks.push({ server: name, reachable: false, error: (err as Error).message });
      line(`STUN ${name}: NO ANSWER (${(err as Error).message})`);
    }
  }

  // 3. ICE candidates (also gives this host's addresses for the NAT test).
  out.progress("gathering ICE candidates …");
  const iceServers = stunServers.map((s) => ({
    urls: `stun:${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}`,
  }));
  const gathered = await gatherCandidates(iceServers, { timeoutMs: Math.max(timeoutMs, 2000) });
  const byType = new Map<string, GatheredCandidate[]>();
  for (const c of gathered.candidates) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  line(
    `ICE candidates (${gathered.ms} ms${gathered.complete ? "" : ", gathering not complete"}): ` +
      ([...byType].map(([type, list]) => `${list.length} ${type}`).join(", ") || "none") +
      gathered.candidates.map((c) => `\n  ${_formatCandidate(c)}`).join(""),
  );

  // 4. NAT behaviour, with the first STUN server that answered (preferring RFC 5780 ones).
  let nat: NatReport | undefined;
  const natServer = stunChecks.find((s) => s.reachable && s.rfc5780) ??
    stunChecks.find((s) => s.reachable);
  if (natServer) {
    out.progress(`testing the NAT's behaviour with ${natServer.server} (RFC 5780) …`);
    const server = stunServers[stunChecks.indexOf(natServer)];
    try {
      nat = await probeNatBehavior(server, (s, o) => stunBinding(s, o), {
        hostAddresses: gathered.candidates.filter((c) => c.type === "host").map((c) => c.address),
        timeoutMs: Math.min(timeoutMs, 2000),
      });
      line(
        `NAT: ${nat.type} (mapping ${nat.mapping}, filtering ${nat.filtering}; ` +
          `${
            nat.nat === false
              ? "the public address is this host's own"
              : `mapped to ${formatAddress(nat.mapped)}`
          })` +
          nat.notes.map((n) => `\n  note: ${n}`).join(""),
      );
    } catch (err) {
      line(`NAT: unknown (${(err as Error).message})`);
    }
  } else line("NAT: unknown (no STUN server answered)");

  const report = judge({
    bootstrap: bootstrapChecks,
    stun: stunChecks,
    ...(nat ? { nat } : {}),
    candidates: { complete: gathered.complete, ms: gathered.ms, list: gathered.candidates },
  });
  if (out.json) out.event("doctor", "", { ...report });
  else {
    for (const p of report.problems.slice(1)) line(`problem: ${p}`);
    for (const w of report.warnings) line(`warning: ${w}`);
    line(`Verdict: ${report.verdict}`);
  }
  return report.problems.length > 0 ? 1 : 0;
}
