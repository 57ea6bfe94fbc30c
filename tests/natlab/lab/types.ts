/**
 * The NAT lab's public types (options, hosts, routers, results, the {@linkcode NatLab}
 * interface) and its error class. See `../lab.ts` for the topology.
 *
 * @module
 */

/** How a home's router translates addresses. */
export type NatKind = "none" | "cone" | "symmetric" | "fullcone";

/** One home: a router (unless `nat` is "none") and the hosts behind it. */
export interface HomeOptions {
  /** Lowercase letters and digits, starting and ending with a letter, at most 8 characters. */
  name: string;
  /**
   * "cone": endpoint-independent mapping with port preservation, address+port-dependent
   * filtering (MASQUERADE). "symmetric": a fresh random port per destination
   * (MASQUERADE --random-fully). "fullcone": cone plus every unsolicited inbound UDP packet
   * forwarded to the home's first host (DNAT). "none": the hosts sit directly on the
   * internet with public addresses.
   */
  nat: NatKind;
  /**
   * Number of hosts in the home, named `<name>1`, `<name>2`, ...
   * @default {1}
   */
  hosts?: number;
  /**
   * Whether the hosts share one LAN on which they reach each other directly. When false
   * they are on the same subnet but isolated from each other (bridge port isolation, like
   * a guest Wi-Fi), so they only meet through the internet. Ignored for nat "none".
   * @default {NatLabOptions.lan}
   */
  lan?: boolean;
  /**
   * First three octets of the home's /24, e.g. "192.168.1". Homes may overlap, as real
   * ones do.
   * @default {"192.168.<index of the home, from 1>"}
   */
  subnet?: string;
}

/** Long-term TURN credentials. */
export interface TurnCredentials {
  /** TURN user name. */
  user: string;
  /** TURN password. */
  password: string;
  /**
   * TURN realm.
   * @default {"meshmeet.lab"}
   */
  realm?: string;
}

/** Options of {@linkcode createNatLab}. */
export interface NatLabOptions {
  /**
   * Short unique prefix of every namespace name: a lowercase letter, then up to 7
   * lowercase letters or digits. Namespaces left over with this prefix are deleted first.
   * @default {"mm" + 4 random hex digits}
   */
  prefix?: string;
  /**
   * The homes to build.
   * @default {[{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }]}
   */
  homes?: HomeOptions[];
  /**
   * Default of {@linkcode HomeOptions.lan} for every home.
   * @default {true}
   */
  lan?: boolean;
  /**
   * TURN credentials, or false for a STUN-only coturn. STUN is always on.
   * @default {{ user: "meshmeet", password: "natlab" }}
   */
  turn?: TurnCredentials | false;
  /**
   * Also give the internet and the homes IPv6 addresses (NAT66 behind NAT routers).
   * @default {false}
   */
  ipv6?: boolean;
  /**
   * Pass `-v` to coturn (see {@linkcode NatLab.turnLog}).
   * @default {false}
   */
  verbose?: boolean;
  /**
   * Upper bound for building the lab, in milliseconds.
   * @default {30000}
   */
  timeout?: number;
  /** Aborts building the lab (everything built so far is torn down). */
  signal?: AbortSignal;
}

/** A machine in the lab: a namespace with one interface, `eth0` (`br0` for the backbone). */
export interface LabHost {
  /** Key in {@linkcode NatLab.hosts} (`"a1"`), "pub" for the internet host, "inet" for the backbone. */
  name: string;
  /** Network namespace name, for `ip netns exec`. */
  ns: string;
  /** IPv4 address. */
  ip: string;
  /** IPv6 address, when the lab has IPv6. */
  ip6?: string;
  /** Home name, absent for the internet host and the backbone. */
  home?: string;
}

/** The NAT router of one home. */
export interface LabRouter {
  /** Home name. */
  home: string;
  /** Network namespace name. */
  ns: string;
  /** NAT kind. */
  nat: Exclude<NatKind, "none">;
  /** Public (WAN) IPv4 address. */
  wanIp: string;
  /** Public (WAN) IPv6 address, when the lab has IPv6. */
  wanIp6?: string;
  /** LAN address of the router, the hosts' gateway. */
  lanIp: string;
  /** LAN IPv6 address of the router, when the lab has IPv6. */
  lanIp6?: string;
  /** LAN subnet in CIDR notation. */
  subnet: string;
  /** LAN IPv6 subnet in CIDR notation, when the lab has IPv6. */
  subnet6?: string;
}

/** The shape of `RTCIceServer`. */
export interface IceServer {
  /** `stun:` or `turn:` URLs. */
  urls: string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/** Result of {@linkcode NatLab.exec}. */
export interface ExecResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard error, decoded as UTF-8. */
  stderr: string;
}

/** Options of {@linkcode NatLab.exec}. */
export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Text written to the command's standard input. */
  stdin?: string;
  /**
   * Kill the command (SIGKILL) and reject after this many milliseconds.
   * @default {30000}
   */
  timeout?: number;
  /** Kills the command and rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@linkcode NatLab.spawn}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * Working directory.
   * @default {the current one}
   */
  cwd?: string;
  /**
   * Standard input.
   * @default {"null"}
   */
  stdin?: "piped" | "inherit" | "null";
  /**
   * Standard output. Read it when piped, or the process blocks once the pipe is full.
   * @default {"piped"}
   */
  stdout?: "piped" | "inherit" | "null";
  /**
   * Standard error. Read it when piped, or the process blocks once the pipe is full.
   * @default {"piped"}
   */
  stderr?: "piped" | "inherit" | "null";
}

/** One UDP (or TCP) NAT mapping from a router's conntrack table. */
export interface WanMapping {
  /** Transport protocol. */
  protocol: "udp" | "tcp";
  /** Address family. */
  family: "ipv4" | "ipv6";
  /** The LAN host's address and port. */
  internal: { ip: string; port: number };
  /** The router's public address and port that the host is seen as. */
  external: { ip: string; port: number };
  /** The remote end on the internet. */
  remote: { ip: string; port: number };
  /** "outbound" for flows a LAN host started, "inbound" for full-cone DNAT flows. */
  direction: "outbound" | "inbound";
  /** Whether the remote end has answered. */
  replied: boolean;
}

/** A running lab. See the module documentation for the topology. */
export interface NatLab extends AsyncDisposable {
  /** The prefix of every namespace of this lab. */
  readonly prefix: string;
  /** Directory with the lab's files (coturn log); removed by `close()`. */
  readonly dir: string;
  /** Every namespace of the lab. */
  readonly namespaces: readonly string[];
  /** Hosts of all homes by name: `"a1"` is the first host of home "a". */
  readonly hosts: Readonly<Record<string, LabHost>>;
  /** NAT routers by home name (homes with nat "none" have none). */
  readonly routers: Readonly<Record<string, LabRouter>>;
  /** The internet host slot: a public machine for a bootstrap node. */
  readonly internet: LabHost;
  /** IPv4 address of the internet host. */
  readonly internetIp: string;
  /** The backbone namespace: holds the internet bridge and coturn. */
  readonly backbone: LabHost;
  /** coturn's STUN endpoint, plus its RFC 5780 alternate address. */
  readonly stun: {
    host: string;
    port: number;
    host6?: string;
    altHost: string;
    altPort: number;
  };
  /** coturn's TURN endpoint as an `RTCIceServer`, absent when `turn: false`. */
  readonly turn?: Required<IceServer>;
  /** STUN and (when enabled) TURN, ready for `rtcConfiguration.iceServers`. */
  readonly iceServers: IceServer[];
  /**
   * Runs a command inside a namespace and waits for it.
   * @param target A namespace name of this lab or a host/router object.
   * @param cmd Program and arguments.
   * @param options Environment, stdin, timeout, signal.
   * @returns Exit code and decoded output (a non-zero exit does not reject).
   * @throws {NatLabError} When the command cannot start or times out.
   */
  exec(target: string | { ns: string }, cmd: string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a long-running command inside a namespace. The lab kills it on `close()`.
   * @param target A namespace name of this lab or a host/router object.
   * @param cmd Program and arguments.
   * @param options Environment, working directory and stdio.
   * @returns The child process.
   * @throws {NatLabError} When the lab is closed or the namespace is not one of the lab's.
   */
  spawn(target: string | { ns: string }, cmd: string[], options?: SpawnOptions): Deno.ChildProcess;
  /**
   * Cuts a home off the internet: its router drops every forwarded packet (for a nat
   * "none" home, its hosts' bridge ports stop forwarding). NAT mappings are kept.
   * @param home Home name.
   * @param ms Restore the link automatically after this many milliseconds.
   * @throws {TypeError} For an unknown home.
   */
  cutLink(home: string, ms?: number): Promise<void>;
  /**
   * Undoes {@linkcode NatLab.cutLink} (no-op when the link is up).
   * @param home Home name.
   * @throws {TypeError} For an unknown home.
   */
  restoreLink(home: string): Promise<void>;
  /**
   * Reads the NAT mappings (UDP by default) from a router's conntrack table.
   * @param home Home name (must have a NAT router).
   * @param options Protocol to list.
   * @returns One entry per conntrack flow, IPv4 and (with IPv6) IPv6.
   * @throws {TypeError} For an unknown home or one with nat "none".
   */
  wanMapping(home: string, options?: { protocol?: "udp" | "tcp" }): Promise<WanMapping[]>;
  /**
   * Reads coturn's log so far.
   * @returns The log text.
   */
  turnLog(): Promise<string>;
  /**
   * Tears everything down: kills coturn and every spawned process, deletes the
   * namespaces (and with them every veth and bridge) and the lab's directory. Idempotent;
   * never rejects.
   */
  close(): Promise<void>;
}

/** A lab operation failed; `cause` holds the underlying error when there is one. */
export class NatLabError extends Error {
  /**
   * Creates the error.
   * @param message What failed, why, and what to do.
   * @param options The underlying cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NatLabError";
  }
}
