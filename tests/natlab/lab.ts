/**
 * A NAT lab built from Linux network namespaces, for tests that run meshmeet nodes behind
 * real NATs.
 *
 * Topology (addresses are documentation ranges, nothing is routed off the machine):
 *
 * ```text
 *                    <prefix>-inet  "the internet": bridge br0 on 198.51.100.0/24
 *                    coturn STUN+TURN on 198.51.100.1:3478 (RFC 5780 alt 198.51.100.2:3479)
 *                    default route into sink0 (ifb), so every other destination is
 *                    silently dropped instead of failing with ENETUNREACH
 *        +----------------+---------------+---------------------+
 *   <prefix>-pub     <prefix>-rtr-a     <prefix>-rtr-b       <prefix>-c1
 *   internet host    wan0 .11           wan0 .12             nat "none": a host
 *   198.51.100.3     NAT (cone, ...)    NAT (symmetric, ...) directly on br0 (.101)
 *                    lan0 192.168.1.1   lan0 192.168.2.1
 *                      |                  |
 *                    <prefix>-a1 .2     <prefix>-b1 .2 ...
 * ```
 *
 * With `ipv6: true` the internet is also on 2001:db8::/64 (coturn on 2001:db8::1), home N's
 * LAN on 2001:db8:N::/64 behind NAT66 (ip6tables MASQUERADE) and nat "none" hosts get a
 * public 2001:db8::/64 address.
 *
 * Every namespace, veth and process belongs to one lab and disappears with `close()`. A lab
 * registers itself in `/run/meshmeet-natlab/`, so the next `createNatLab()` removes what a
 * crashed process left behind. The host's own interfaces and iptables rules are never
 * touched.
 *
 * To ask coturn for a STUN binding from inside a home, use `turnutils_natdiscovery -m`:
 * `turnutils_stunclient` also waits, without a timeout, for the answers to its
 * CHANGE-REQUEST, which a filtering NAT (cone, symmetric) rightly drops.
 *
 * Needs root and the Debian packages iproute2, iptables, coturn, conntrack
 * (`.ci/install_lab_packages.sh`). Tests register with `ignore: ignoreNatLab()`: they are
 * ignored with a printed reason when the lab cannot run, except under `CI=true`, where
 * they run and fail loudly instead.
 *
 * @example Two homes behind different NATs
 * ```ts ignore
 * import { createNatLab, ignoreNatLab } from "./lab.ts";
 *
 * Deno.test({ name: "a node behind a symmetric NAT", ignore: ignoreNatLab() }, async () => {
 *   await using lab = await createNatLab({
 *     homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "symmetric" }],
 *   });
 *   const { stdout } = await lab.exec(lab.hosts.b1, ["turnutils_natdiscovery", "-m", lab.stun.host]);
 *   console.log(stdout, lab.routers.b.wanIp, await lab.wanMapping("b"));
 * });
 * ```
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

/** Result of {@linkcode natLabAvailable}. */
export interface NatLabAvailability {
  /** Whether a lab can be built here. */
  ok: boolean;
  /** Why not, with what to do about it. */
  reason?: string;
}

const REQUIRED_BINARIES = ["ip", "iptables", "turnserver"] as const;
const STATE_DIR = "/run/meshmeet-natlab";
const INET_NET = "198.51.100";
const INET6_NET = "2001:db8:";
const STUN_PORT = 3478;
const STUN_ALT_PORT = 3479;
const DEFAULT_TIMEOUT = 30_000;
const KILL_GRACE_MS = 2_000;
const LINK_CHAIN = "MESHMEET_LINK";
const activePrefixes = new Set<string>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks whether a NAT lab can be built: root, and `ip`, `iptables` and `turnserver` on
 * the PATH.
 *
 * @returns `{ ok: true }`, or `{ ok: false, reason }` saying what is missing.
 *
 * @example Skip unless the lab can run
 * ```ts ignore
 * const { ok, reason } = natLabAvailable();
 * if (!ok) console.log(`NAT lab unavailable: ${reason}`);
 * ```
 */
export function natLabAvailable(): NatLabAvailability {
  if (Deno.build.os !== "linux") {
    return {
      ok: false,
      reason: `the NAT lab needs Linux network namespaces, not "${Deno.build.os}"`,
    };
  }
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch (error) {
    return { ok: false, reason: `cannot read the user id (${error}); run with --allow-sys` };
  }
  if (uid !== 0) {
    return { ok: false, reason: `the NAT lab needs root (uid is ${uid}); run the tests as root` };
  }
  const missing = REQUIRED_BINARIES.filter((name) => _which(name) === undefined);
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `missing ${missing.map((m) => `"${m}"`).join(", ")} on the PATH; run ` +
        ".ci/install_lab_packages.sh",
    };
  }
  return { ok: true };
}

/**
 * Decides whether NAT lab tests are ignored: when the lab cannot run, prints why (once)
 * and returns true, except under `CI=true`, where it returns false so the tests run and
 * fail with the reason instead of being skipped silently.
 *
 * @returns The value for `Deno.test({ ignore })`.
 *
 * @example Register a lab test
 * ```ts ignore
 * Deno.test({ name: "createNatLab() builds a lab", ignore: ignoreNatLab() }, async () => {
 *   await using _lab = await createNatLab();
 * });
 * ```
 */
export function ignoreNatLab(): boolean {
  const { ok, reason } = natLabAvailable();
  if (ok) return false;
  if (_isCi()) return false;
  if (!warned) {
    warned = true;
    console.warn(`NAT lab tests ignored: ${reason} (under CI=true they fail instead)`);
  }
  return true;
}
let warned = false;

/**
 * Throws when the lab cannot run; call it first in a test that must not pass vacuously.
 *
 * @throws {NatLabError} With the reason from {@linkcode natLabAvailable}.
 *
 * @example Fail instead of skipping
 * ```ts ignore
 * requireNatLab();
 * ```
 */
export function requireNatLab(): void {
  const { ok, reason } = natLabAvailable();
  if (!ok) {
    throw new NatLabError(
      `Cannot build the NAT lab: ${reason}${_isCi() ? " (CI=true: lab tests never skip)" : ""}`,
    );
  }
}

/**
 * Builds a NAT lab: namespaces, bridge, routers with NAT, hosts and coturn.
 *
 * @param options Homes, prefix, TURN credentials, IPv6, timeout.
 * @returns The running lab; close it with `close()` or `await using`.
 * @throws {TypeError} For invalid options.
 * @throws {NatLabError} When the lab cannot be built (everything built so far is removed).
 *
 * @example A cone and a symmetric home
 * ```ts ignore
 * await using lab = await createNatLab({
 *   homes: [{ name: "a", nat: "cone" }, { name: "b", nat: "symmetric", hosts: 2 }],
 * });
 * const child = lab.spawn(lab.hosts.a1, ["deno", "run", "-A", "node.ts"], {
 *   env: { BOOTSTRAP: lab.internetIp },
 * });
 * ```
 */
export async function createNatLab(options: NatLabOptions = {}): Promise<NatLab> {
  const plan = _plan(options);
  requireNatLab();
  const lab = new _Lab(plan);
  try {
    await lab._build(options.timeout ?? DEFAULT_TIMEOUT, options.signal);
  } catch (error) {
    await lab.close();
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof NatLabError || error instanceof TypeError) throw error;
    throw new NatLabError(`Cannot build the NAT lab "${plan.prefix}": ${_message(error)}`, {
      cause: error,
    });
  }
  return lab;
}

// ------------------------------------------------------------------ plan

interface _HomePlan {
  name: string;
  nat: NatKind;
  lan: boolean;
  index: number;
  router?: LabRouter;
  hosts: LabHost[];
  /** Interface names of the hosts' ports: on the router's LAN bridge, or on the internet bridge for nat "none". */
  ports: string[];
  /** The router's port on the internet bridge. */
  wanPort?: string;
}

interface _Plan {
  prefix: string;
  ipv6: boolean;
  verbose: boolean;
  turn: TurnCredentials | false;
  backbone: LabHost;
  internet: LabHost;
  homes: _HomePlan[];
}

function _plan(options: NatLabOptions): _Plan {
  const prefix = options.prefix ?? _randomPrefix();
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) {
    throw new TypeError(
      `Invalid NAT lab prefix "${prefix}": use a lowercase letter, then up to 7 lowercase letters or digits`,
    );
  }
  const ipv6 = options.ipv6 ?? false;
  const turn = options.turn ?? { user: "meshmeet", password: "natlab" };
  if (turn !== false && (!turn.user || !turn.password || /[\s:]/.test(turn.user))) {
    throw new TypeError(
      "Invalid TURN credentials: user and password must be non-empty, user without spaces or colons",
    );
  }
  const homesIn = options.homes ?? [{ name: "a", nat: "cone" }, { name: "b", nat: "cone" }];
  if (homesIn.length === 0 || homesIn.length > 80) {
    throw new RangeError(`Invalid NAT lab: ${homesIn.length} homes (use 1 to 80)`);
  }
  const backbone: LabHost = {
    name: "inet",
    ns: `${prefix}-inet`,
    ip: `${INET_NET}.1`,
    ip6: ipv6 ? `${INET6_NET}:1` : undefined,
  };
  const internet: LabHost = {
    name: "pub",
    ns: `${prefix}-pub`,
    ip: `${INET_NET}.3`,
    ip6: ipv6 ? `${INET6_NET}:3` : undefined,
  };
  const seen = new Set<string>();
  let publicHosts = 0;
  let hostPorts = 0;
  const homes = homesIn.map((home, i): _HomePlan => {
    if (!/^[a-z]([a-z0-9]{0,6}[a-z])?$/.test(home.name)) {
      throw new TypeError(
        `Invalid home name "${home.name}": use 1-8 lowercase letters or digits, starting and ending with a letter`,
      );
    }
    if (seen.has(home.name)) {
      throw new TypeError(`Invalid NAT lab: home "${home.name}" appears twice`);
    }
    seen.add(home.name);
    if (!["none", "cone", "symmetric", "fullcone"].includes(home.nat)) {
      throw new TypeError(
        `Invalid NAT kind "${home.nat}" for home "${home.name}": use "none", "cone", "symmetric" or "fullcone"`,
      );
    }
    const count = home.hosts ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new RangeError(`Invalid host count ${count} for home "${home.name}" (use 1 to 50)`);
    }
    const index = i + 1;
    const plan: _HomePlan = {
      name: home.name,
      nat: home.nat,
      lan: home.lan ?? options.lan ?? true,
      index,
      hosts: [],
      ports: [],
    };
    if (home.nat === "none") {
      for (let k = 1; k <= count; k++) {
        const n = 100 + ++publicHosts;
        if (n > 254) throw new RangeError('Invalid NAT lab: more than 154 hosts with nat "none"');
        plan.hosts.push({
          name: `${home.name}${k}`,
          ns: `${prefix}-${home.name}${k}`,
          ip: `${INET_NET}.${n}`,
          ip6: ipv6 ? `${INET6_NET}:${n}` : undefined,
          home: home.name,
        });
        plan.ports.push(`p${++hostPorts}`);
      }
      return plan;
    }
    const subnet = home.subnet ?? `192.168.${index}`;
    if (
      !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(subnet) ||
      subnet.split(".").some((o) => Number(o) > 255)
    ) {
      throw new TypeError(
        `Invalid subnet "${subnet}" for home "${home.name}": use three octets, e.g. "192.168.1"`,
      );
    }
    if (subnet === INET_NET) {
      throw new TypeError(
        `Invalid subnet "${subnet}" for home "${home.name}": it is the internet's`,
      );
    }
    const subnet6 = `${INET6_NET}${index}::`;
    plan.router = {
      home: home.name,
      ns: `${prefix}-rtr-${home.name}`,
      nat: home.nat,
      wanIp: `${INET_NET}.${10 + index}`,
      wanIp6: ipv6 ? `${INET6_NET}:${10 + index}` : undefined,
      lanIp: `${subnet}.1`,
      lanIp6: ipv6 ? `${subnet6}1` : undefined,
      subnet: `${subnet}.0/24`,
      subnet6: ipv6 ? `${subnet6}/64` : undefined,
    };
    plan.wanPort = `w${index}`;
    for (let k = 1; k <= count; k++) {
      plan.hosts.push({
        name: `${home.name}${k}`,
        ns: `${prefix}-${home.name}${k}`,
        ip: `${subnet}.${k + 1}`,
        ip6: ipv6 ? `${subnet6}${k + 1}` : undefined,
        home: home.name,
      });
      plan.ports.push(`l${k}`);
    }
    return plan;
  });
  return { prefix, ipv6, verbose: options.verbose ?? false, turn, backbone, internet, homes };
}

// ------------------------------------------------------------------ lab

interface _Tracked {
  child: Deno.ChildProcess;
  piped: ("stdout" | "stderr")[];
  status: Promise<Deno.CommandStatus>;
}

class _Lab implements NatLab {
  readonly prefix: string;
  dir = "";
  readonly namespaces: readonly string[];
  readonly hosts: Readonly<Record<string, LabHost>>;
  readonly routers: Readonly<Record<string, LabRouter>>;
  readonly internet: LabHost;
  readonly internetIp: string;
  readonly backbone: LabHost;
  readonly stun: NatLab["stun"];
  readonly turn?: Required<IceServer>;
  readonly iceServers: IceServer[];

  #plan: _Plan;
  #homes = new Map<string, _HomePlan>();
  #children = new Set<_Tracked>();
  #turnserver?: _Tracked;
  #cutTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #pending = new Set<Promise<unknown>>();
  #closing?: Promise<void>;
  #registered = false;
  /** Set once the prefix is ours: before that, teardown must not touch its namespaces. */
  #claimed = false;

  constructor(plan: _Plan) {
    this.#plan = plan;
    this.prefix = plan.prefix;
    this.backbone = plan.backbone;
    this.internet = plan.internet;
    this.internetIp = plan.internet.ip;
    const hosts: Record<string, LabHost> = {};
    const routers: Record<string, LabRouter> = {};
    const namespaces = [plan.backbone.ns, plan.internet.ns];
    for (const home of plan.homes) {
      this.#homes.set(home.name, home);
      if (home.router) {
        routers[home.name] = home.router;
        namespaces.push(home.router.ns);
      }
      for (const host of home.hosts) {
        hosts[host.name] = host;
        namespaces.push(host.ns);
      }
    }
    this.hosts = hosts;
    this.routers = routers;
    this.namespaces = namespaces;
    const b = plan.backbone;
    this.stun = {
      host: b.ip,
      port: STUN_PORT,
      host6: b.ip6,
      altHost: `${INET_NET}.2`,
      altPort: STUN_ALT_PORT,
    };
    const stunUrls = [`stun:${b.ip}:${STUN_PORT}`];
    if (b.ip6) stunUrls.push(`stun:[${b.ip6}]:${STUN_PORT}`);
    this.iceServers = [{ urls: stunUrls }];
    if (plan.turn) {
      const urls = [
        `turn:${b.ip}:${STUN_PORT}?transport=udp`,
        `turn:${b.ip}:${STUN_PORT}?transport=tcp`,
      ];
      if (b.ip6) urls.push(`turn:[${b.ip6}]:${STUN_PORT}?transport=udp`);
      this.turn = { urls, username: plan.turn.user, credential: plan.turn.password };
      this.iceServers.push(this.turn);
    }
  }

  // ---------------------------------------------------------------- build

  async _build(timeout: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new NatLabError(
            `Cannot build the NAT lab "${this.prefix}": timed out after ${timeout} ms`,
          ),
        ),
      timeout,
    );
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      await this.#claimPrefix();
      this.dir = await Deno.makeTempDir({ prefix: `meshmeet-natlab-${this.prefix}-` });
      await this.#register();
      await this.#createTopology(controller.signal);
      await this.#startTurnserver(controller.signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async #claimPrefix(): Promise<void> {
    if (activePrefixes.has(this.prefix)) {
      throw new NatLabError(
        `Cannot build the NAT lab: prefix "${this.prefix}" is used by an open lab of this process; close it or pick another prefix`,
      );
    }
    await _reapStaleLabs();
    const owner = await _readRegistration(this.prefix);
    if (owner && _ownerAlive(owner)) {
      throw new NatLabError(
        `Cannot build the NAT lab: prefix "${this.prefix}" is used by the running process ${owner.pid}; pick another prefix`,
      );
    }
    activePrefixes.add(this.prefix);
    this.#claimed = true;
    // Whatever is left with this prefix comes from a crashed run.
    await _destroyNamespaces(
      (await _listNamespaces()).filter((ns) => ns.startsWith(`${this.prefix}-`)),
    );
  }

  async #register(): Promise<void> {
    await Deno.mkdir(STATE_DIR, { recursive: true });
    const record: _Registration = {
      pid: Deno.pid,
      start: _startTime(Deno.pid),
      dir: this.dir,
      namespaces: [...this.namespaces],
    };
    await Deno.writeTextFile(`${STATE_DIR}/${this.prefix}.json`, JSON.stringify(record));
    this.#registered = true;
  }

  async #createTopology(signal: AbortSignal): Promise<void> {
    const { backbone, internet, homes, ipv6 } = this.#plan;
    const b = backbone.ns;
    // 1. namespaces
    await _ip(this.namespaces.map((ns) => `netns add ${ns}`), { signal });
    // 2. sysctls that must be set before interfaces appear (IPv6 DAD would delay addresses)
    const sysctls: Promise<unknown>[] = [];
    for (const ns of this.namespaces) {
      const keys: string[] = [];
      const router = ns.startsWith(`${this.prefix}-rtr-`);
      if (ipv6) {
        keys.push(
          "net.ipv6.conf.all.accept_dad=0",
          "net.ipv6.conf.default.accept_dad=0",
          "net.ipv6.conf.default.accept_ra=0",
        );
        if (router) keys.push("net.ipv6.conf.all.forwarding=1");
      }
      if (router) keys.push("net.ipv4.ip_forward=1");
      if (router || ns === b) {
        // When the host has br_netfilter loaded (Docker does), bridged frames would go
        // through iptables too; a home LAN and the internet bridge are plain switches.
        keys.push(
          "net.bridge.bridge-nf-call-iptables=0",
          "net.bridge.bridge-nf-call-ip6tables=0",
          "net.bridge.bridge-nf-call-arptables=0",
        );
      }
      if (keys.length > 0) {
        sysctls.push(
          _run(["ip", "netns", "exec", ns, "sysctl", "-q", "-e", "-w", ...keys], { signal }),
        );
      }
    }
    await Promise.all(sysctls);
    // 3. links, created directly inside their namespaces (never on the host)
    const links = [
      `link add br0 netns ${b} type bridge stp_state 0`,
      `link add sink0 netns ${b} type ifb`,
      `link add eth0 netns ${internet.ns} type veth peer name pub netns ${b}`,
    ];
    for (const home of homes) {
      if (home.router) {
        const r = home.router.ns;
        links.push(`link add wan0 netns ${r} type veth peer name ${home.wanPort} netns ${b}`);
        links.push(`link add lan0 netns ${r} type bridge stp_state 0`);
        home.hosts.forEach((host, k) => {
          links.push(
            `link add eth0 netns ${host.ns} type veth peer name ${home.ports[k]} netns ${r}`,
          );
        });
      } else {
        home.hosts.forEach((host, k) => {
          links.push(
            `link add eth0 netns ${host.ns} type veth peer name ${home.ports[k]} netns ${b}`,
          );
        });
      }
    }
    await _ip(links, { signal });
    // 4. addresses, routes, bridge ports, NAT: one batch per namespace, in parallel
    const nodad = " nodad";
    const jobs: Promise<unknown>[] = [];
    const bb = [
      "link set lo up",
      "link set br0 up",
      `addr add ${backbone.ip}/24 dev br0`,
      `addr add ${INET_NET}.2/24 dev br0`,
    ];
    if (ipv6) {
      bb.push(
        `addr add ${backbone.ip6}/64 dev br0${nodad}`,
        `addr add ${INET6_NET}:2/64 dev br0${nodad}`,
      );
    }
    // The internet's default route goes into a sink that drops silently: without it,
    // coturn gets ENETUNREACH relaying to a private address and drops the allocation.
    bb.push("link set sink0 up", "route add default dev sink0");
    if (ipv6) bb.push("route add ::/0 dev sink0");
    bb.push("link set pub master br0 up");
    for (const home of homes) {
      if (home.wanPort) bb.push(`link set ${home.wanPort} master br0 up`);
      else for (const port of home.ports) bb.push(`link set ${port} master br0 up`);
    }
    jobs.push(_ip(bb, { ns: b, signal }));
    const publicHost = (host: LabHost) => {
      const cmds = [
        "link set lo up",
        `addr add ${host.ip}/24 dev eth0`,
        "link set eth0 up",
        `route add default via ${backbone.ip}`,
      ];
      if (ipv6) {
        cmds.push(`addr add ${host.ip6}/64 dev eth0${nodad}`, `route add ::/0 via ${backbone.ip6}`);
      }
      return _ip(cmds, { ns: host.ns, signal });
    };
    jobs.push(publicHost(internet));
    for (const home of homes) {
      const router = home.router;
      if (!router) {
        for (const host of home.hosts) jobs.push(publicHost(host));
        continue;
      }
      const rc = [
        "link set lo up",
        `addr add ${router.wanIp}/24 dev wan0`,
        "link set wan0 up",
        `addr add ${router.lanIp}/24 dev lan0`,
        "link set lan0 up",
        `route add default via ${backbone.ip}`,
      ];
      if (ipv6) {
        rc.push(
          `addr add ${router.wanIp6}/64 dev wan0${nodad}`,
          `addr add ${router.lanIp6}/64 dev lan0${nodad}`,
          `route add ::/0 via ${backbone.ip6}`,
        );
      }
      for (const port of home.ports) {
        rc.push(`link set ${port} master lan0 up`);
        if (!home.lan && home.ports.length > 1) {
          rc.push(`link set ${port} type bridge_slave isolated on`);
        }
      }
      const routerJob = _ip(rc, { ns: router.ns, signal }).then(() =>
        Promise.all([
          _run(["ip", "netns", "exec", router.ns, "iptables-restore", "-w"], {
            stdin: _rules(router, home.hosts[0], "ipv4"),
            signal,
          }),
          ipv6
            ? _run(["ip", "netns", "exec", router.ns, "ip6tables-restore", "-w"], {
              stdin: _rules(router, home.hosts[0], "ipv6"),
              signal,
            })
            : undefined,
        ])
      );
      jobs.push(routerJob);
      for (const host of home.hosts) {
        const hc = [
          "link set lo up",
          `addr add ${host.ip}/24 dev eth0`,
          "link set eth0 up",
          `route add default via ${router.lanIp}`,
        ];
        if (ipv6) {
          hc.push(
            `addr add ${host.ip6}/64 dev eth0${nodad}`,
            `route add ::/0 via ${router.lanIp6}`,
          );
        }
        jobs.push(_ip(hc, { ns: host.ns, signal }));
      }
    }
    await Promise.all(jobs);
  }

  async #startTurnserver(signal: AbortSignal): Promise<void> {
    const { backbone, turn, ipv6, verbose } = this.#plan;
    const args = [
      "-n",
      `--listening-ip=${backbone.ip}`,
      `--listening-ip=${INET_NET}.2`,
      `--relay-ip=${backbone.ip}`,
      `--listening-port=${STUN_PORT}`,
      `--alt-listening-port=${STUN_ALT_PORT}`,
      "--min-port=49152",
      "--max-port=65535",
      "--fingerprint",
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--no-multicast-peers",
      `--userdb=${this.dir}/turndb`,
      `--pidfile=${this.dir}/turnserver.pid`,
      "--log-file=stdout",
      "--simple-log",
    ];
    if (ipv6) {
      args.push(
        `--listening-ip=${backbone.ip6}`,
        `--listening-ip=${INET6_NET}:2`,
        `--relay-ip=${backbone.ip6}`,
      );
    }
    if (verbose) args.push("-v");
    if (turn) {
      args.push(
        "--lt-cred-mech",
        `--user=${turn.user}:${turn.password}`,
        `--realm=${turn.realm ?? "meshmeet.lab"}`,
      );
    } else {
      args.push("--stun-only");
    }
    // `sh -c exec` keeps the pid (turnserver replaces sh) and sends its output to a file
    // nobody has to drain.
    this.#turnserver = this.#spawnTracked(backbone.ns, [
      "sh",
      "-c",
      'exec "$0" "$@" >>"$MESHMEET_NATLAB_LOG" 2>&1',
      _which("turnserver") ?? "turnserver",
      ...args,
    ], {
      env: { MESHMEET_NATLAB_LOG: `${this.dir}/turnserver.log` },
      stdout: "null",
      stderr: "null",
    });
    const pid = this.#turnserver.child.pid;
    let exited = false;
    this.#turnserver.status.then(() => exited = true, () => exited = true);
    // Ready when both STUN addresses are bound (read from the process's own netns view).
    const want = [_procAddress(backbone.ip, STUN_PORT), _procAddress(`${INET_NET}.2`, STUN_PORT)];
    while (true) {
      if (exited) {
        throw new NatLabError(
          `Cannot start coturn: turnserver exited; its log:\n${await this.turnLog()}`,
        );
      }
      if (signal.aborted) throw signal.reason;
      try {
        const udp = await Deno.readTextFile(`/proc/${pid}/net/udp`);
        if (want.every((w) => udp.includes(w))) return;
      } catch {
        // not there yet
      }
      await _sleep(10);
    }
  }

  // ---------------------------------------------------------------- API

  async exec(
    target: string | { ns: string },
    cmd: string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const ns = this.#ns(target);
    this.#assertOpen();
    if (cmd.length === 0) throw new TypeError("Cannot exec: the command is empty");
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new NatLabError(`Command "${cmd.join(" ")}" in "${ns}" timed out after ${timeout} ms`),
        ),
      timeout,
    );
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      const result = await _exec(["ip", "netns", "exec", ns, ...cmd], {
        env: options.env,
        stdin: options.stdin,
        signal: controller.signal,
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      return result;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  spawn(
    target: string | { ns: string },
    cmd: string[],
    options: SpawnOptions = {},
  ): Deno.ChildProcess {
    const ns = this.#ns(target);
    this.#assertOpen();
    if (cmd.length === 0) throw new TypeError("Cannot spawn: the command is empty");
    return this.#spawnTracked(ns, cmd, options).child;
  }

  async cutLink(home: string, ms?: number): Promise<void> {
    const plan = this.#home(home);
    this.#assertOpen();
    this.#clearCutTimer(home);
    await this.#track(this.#setLink(plan, false));
    if (ms !== undefined) {
      if (!(ms >= 0)) {
        throw new RangeError(`Invalid link cut duration ${ms} ms (use a number >= 0)`);
      }
      this.#cutTimers.set(
        home,
        setTimeout(() => {
          this.#cutTimers.delete(home);
          if (!this.#closing) this.#track(this.#setLink(plan, true)).catch(() => {});
        }, ms),
      );
    }
  }

  async restoreLink(home: string): Promise<void> {
    const plan = this.#home(home);
    this.#assertOpen();
    this.#clearCutTimer(home);
    await this.#track(this.#setLink(plan, true));
  }

  async wanMapping(
    home: string,
    options: { protocol?: "udp" | "tcp" } = {},
  ): Promise<WanMapping[]> {
    const plan = this.#home(home);
    const router = plan.router;
    if (!router) {
      throw new TypeError(`Cannot read NAT mappings: home "${home}" has nat "none" and no router`);
    }
    this.#assertOpen();
    const protocol = options.protocol ?? "udp";
    const families: ("ipv4" | "ipv6")[] = this.#plan.ipv6 ? ["ipv4", "ipv6"] : ["ipv4"];
    const lists = await Promise.all(families.map(async (family) => {
      const { stdout } = await _run([
        "ip",
        "netns",
        "exec",
        router.ns,
        "conntrack",
        "-L",
        "-f",
        family,
        "-p",
        protocol,
      ]);
      return _parseConntrack(stdout, protocol, family, router);
    }));
    return lists.flat();
  }

  async turnLog(): Promise<string> {
    try {
      return await Deno.readTextFile(`${this.dir}/turnserver.log`);
    } catch {
      return "";
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- internals

  async #teardown(): Promise<void> {
    for (const timer of this.#cutTimers.values()) clearTimeout(timer);
    this.#cutTimers.clear();
    await Promise.allSettled([...this.#pending]);
    // 1. our own children: TERM, then KILL whatever ignores it; always reap
    const children = [...this.#children];
    await Promise.all(children.map((t) => _terminate(t)));
    for (const t of children) {
      for (const name of t.piped) {
        const stream = t.child[name];
        if (!stream.locked) await stream.cancel().catch(() => {});
      }
    }
    this.#children.clear();
    if (!this.#claimed) return;
    // 2. anything else still inside our namespaces (grandchildren), then the namespaces
    try {
      const existing = new Set(await _listNamespaces());
      await _destroyNamespaces(this.namespaces.filter((ns) => existing.has(ns)));
    } catch {
      // best effort; the next createNatLab() reaps what is left
    }
    if (this.dir) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    if (this.#registered) await Deno.remove(`${STATE_DIR}/${this.prefix}.json`).catch(() => {});
    activePrefixes.delete(this.prefix);
  }

  #spawnTracked(ns: string, cmd: string[], options: SpawnOptions): _Tracked {
    const stdout = options.stdout ?? "piped";
    const stderr = options.stderr ?? "piped";
    const child = new Deno.Command(_which("ip") ?? "ip", {
      args: ["netns", "exec", ns, ...cmd],
      env: options.env,
      cwd: options.cwd,
      stdin: options.stdin ?? "null",
      stdout,
      stderr,
    }).spawn();
    const piped: ("stdout" | "stderr")[] = [];
    if (stdout === "piped") piped.push("stdout");
    if (stderr === "piped") piped.push("stderr");
    const tracked: _Tracked = { child, piped, status: child.status };
    this.#children.add(tracked);
    return tracked;
  }

  async #setLink(home: _HomePlan, up: boolean): Promise<void> {
    if (home.router) {
      const rules = up
        ? `*filter\n-F ${LINK_CHAIN}\nCOMMIT\n`
        : `*filter\n-F ${LINK_CHAIN}\n-A ${LINK_CHAIN} -j DROP\nCOMMIT\n`;
      const ns = home.router.ns;
      await Promise.all([
        _run(["ip", "netns", "exec", ns, "iptables-restore", "-w", "--noflush"], { stdin: rules }),
        this.#plan.ipv6
          ? _run(["ip", "netns", "exec", ns, "ip6tables-restore", "-w", "--noflush"], {
            stdin: rules,
          })
          : undefined,
      ]);
    } else {
      // No router: stop the hosts' ports on the internet bridge (3 = forwarding,
      // 0 = disabled; `ip link ... bridge_slave state` silently ignores this, `bridge` works).
      const state = up ? 3 : 0;
      const ns = this.#plan.backbone.ns;
      await _run(["bridge", "-n", ns, "-batch", "-"], {
        stdin: home.ports.map((port) => `link set dev ${port} state ${state}`).join("\n") + "\n",
      });
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const done = () => this.#pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #clearCutTimer(home: string): void {
    const timer = this.#cutTimers.get(home);
    if (timer !== undefined) clearTimeout(timer);
    this.#cutTimers.delete(home);
  }

  #home(name: string): _HomePlan {
    const home = this.#homes.get(name);
    if (!home) {
      throw new TypeError(
        `Unknown home "${name}" in NAT lab "${this.prefix}" (homes: ${
          [...this.#homes.keys()].join(", ")
        })`,
      );
    }
    return home;
  }

  #ns(target: string | { ns: string }): string {
    const ns = typeof target === "string" ? target : target?.ns;
    if (typeof ns !== "string" || !this.namespaces.includes(ns)) {
      throw new TypeError(
        `Unknown namespace "${ns}": not part of NAT lab "${this.prefix}" (use lab.hosts.<name>.ns or a host object)`,
      );
    }
    return ns;
  }

  #assertOpen(): void {
    if (this.#closing) throw new NatLabError(`NAT lab "${this.prefix}" is closed`);
  }
}

// ------------------------------------------------------------------ iptables

function _rules(router: LabRouter, firstHost: LabHost, family: "ipv4" | "ipv6"): string {
  const v6 = family === "ipv6";
  const subnet = v6 ? router.subnet6 : router.subnet;
  const icmp = v6 ? "-p ipv6-icmp" : "-p icmp --icmp-type echo-request";
  const masquerade = `-A POSTROUTING -o wan0 -s ${subnet} -j MASQUERADE${
    router.nat === "symmetric" ? " --random-fully" : ""
  }`;
  const target = v6 ? firstHost.ip6 : firstHost.ip;
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    `:${LINK_CHAIN} - [0:0]`,
    // Like a consumer router, drop unsolicited packets to the WAN address. Accepting them
    // would confirm conntrack entries that later steal the port a hole punch needs.
    "-A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    `-A INPUT -i wan0 ${icmp} -j ACCEPT`, // IPv6: neighbour discovery lives in ICMPv6
    "-A INPUT -i wan0 -j DROP",
    "-A FORWARD -i lan0 -o lan0 -j ACCEPT", // bridged LAN traffic, should br_netfilter see it
    `-A FORWARD -j ${LINK_CHAIN}`,
    `-A FORWARD -i lan0 -o wan0 -s ${subnet} -j ACCEPT`,
    "-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    ...(router.nat === "fullcone"
      ? ["-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate DNAT -j ACCEPT"]
      : []),
    "COMMIT",
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    masquerade,
    ...(router.nat === "fullcone"
      ? [`-A PREROUTING -i wan0 -p udp -j DNAT --to-destination ${target}`]
      : []),
    "COMMIT",
    "",
  ].join("\n");
}

function _parseConntrack(
  text: string,
  protocol: "udp" | "tcp",
  family: "ipv4" | "ipv6",
  router: LabRouter,
): WanMapping[] {
  const wan = family === "ipv6" ? router.wanIp6 : router.wanIp;
  const out: WanMapping[] = [];
  for (const line of text.split("\n")) {
    const fields = [...line.matchAll(/\b(src|dst|sport|dport)=(\S+)/g)];
    if (fields.length < 8) continue;
    const [o, r] = [fields.slice(0, 4), fields.slice(4, 8)].map((part) =>
      Object.fromEntries(part.map((m) => [m[1], m[2]])) as Record<
        "src" | "dst" | "sport" | "dport",
        string
      >
    );
    const replied = !line.includes("[UNREPLIED]");
    if (o.dst === wan && r.src !== wan) {
      // inbound, DNAT'ed to a LAN host (full cone)
      out.push({
        protocol,
        family,
        internal: { ip: r.src, port: Number(r.sport) },
        external: { ip: o.dst, port: Number(o.dport) },
        remote: { ip: o.src, port: Number(o.sport) },
        direction: "inbound",
        replied,
      });
    } else if (r.dst === wan && o.src !== wan) {
      out.push({
        protocol,
        family,
        internal: { ip: o.src, port: Number(o.sport) },
        external: { ip: r.dst, port: Number(r.dport) },
        remote: { ip: o.dst, port: Number(o.dport) },
        direction: "outbound",
        replied,
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ processes

interface _RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Runs a command to completion. On abort it is killed with SIGKILL, and its output pipes
 * are abandoned shortly after it exits, even if a background process it left still holds
 * them: an aborted command always settles.
 */
async function _exec(cmd: string[], options: _RunOptions = {}): Promise<ExecResult> {
  options.signal?.throwIfAborted();
  const [program, ...args] = cmd;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(_which(program) ?? program, {
      args,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new NatLabError(`Cannot run "${cmd.join(" ")}": ${_message(error)}`, { cause: error });
  }
  const aborted = Promise.withResolvers<void>();
  const onAbort = () => {
    _kill(child.pid, "SIGKILL");
    child.status.then(() => _sleep(200)).then(() => aborted.resolve());
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const stdout = _collect(child.stdout, aborted.promise);
    const stderr = _collect(child.stderr, aborted.promise);
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(encoder.encode(options.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const [status, out, err] = await Promise.all([child.status, stdout, stderr]);
    return { code: status.code, stdout: out, stderr: err };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Reads a stream to its end, or until `stop` resolves. */
async function _collect(stream: ReadableStream<Uint8Array>, stop: Promise<void>): Promise<string> {
  const reader = stream.getReader();
  let stopped = false;
  stop.then(() => {
    stopped = true;
    reader.cancel().catch(() => {});
  });
  const chunks: Uint8Array[] = [];
  try {
    while (!stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  } catch {
    // cancelled
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return decoder.decode(bytes);
}

/** Runs a command and rejects when it fails. */
async function _run(cmd: string[], options: _RunOptions = {}): Promise<ExecResult> {
  const result = await _exec(cmd, options);
  if (options.signal?.aborted) throw options.signal.reason;
  if (result.code !== 0) {
    throw new NatLabError(
      `Command "${cmd.join(" ")}" failed with exit code ${result.code}: ${
        result.stderr.trim() || result.stdout.trim()
      }`,
    );
  }
  return result;
}

/** Runs `ip` commands in one batch, optionally inside a namespace (`ip -n`). */
function _ip(
  lines: string[],
  options: { ns?: string; signal?: AbortSignal; force?: boolean } = {},
): Promise<ExecResult> {
  const args = ["ip"];
  if (options.ns) args.push("-n", options.ns);
  if (options.force) args.push("-force");
  args.push("-batch", "-");
  return _run(args, { stdin: lines.join("\n") + "\n", signal: options.signal });
}

async function _terminate(t: _Tracked): Promise<void> {
  const exited = await _within(t.status, 0);
  if (!exited) {
    _kill(t.child.pid, "SIGTERM");
    if (!await _within(t.status, KILL_GRACE_MS)) {
      _kill(t.child.pid, "SIGKILL");
      await _within(t.status, KILL_GRACE_MS);
    }
  }
}

/** Resolves to true when `promise` settles within `ms`. */
async function _within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function _kill(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Whether a process exists and is not a zombie. */
function _alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ namespaces

async function _listNamespaces(): Promise<string[]> {
  const { stdout } = await _run(["ip", "netns", "list"]);
  return stdout.split("\n").map((line) => line.split(" ")[0]).filter(Boolean);
}

/** Kills every process inside the namespaces, then deletes them. */
async function _destroyNamespaces(namespaces: string[]): Promise<void> {
  if (namespaces.length === 0) return;
  const { stdout } = await _exec(["ip", "-force", "-batch", "-"], {
    stdin: namespaces.map((ns) => `netns pids ${ns}`).join("\n") + "\n",
  });
  const pids = [...new Set(stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number))]
    .filter((pid) => pid !== Deno.pid);
  for (const pid of pids) _kill(pid, "SIGTERM");
  const deadline = Date.now() + KILL_GRACE_MS;
  while (pids.some(_alive) && Date.now() < deadline) await _sleep(20);
  for (const pid of pids.filter(_alive)) _kill(pid, "SIGKILL");
  await _exec(["ip", "-force", "-batch", "-"], {
    stdin: namespaces.map((ns) => `netns del ${ns}`).join("\n") + "\n",
  });
}

interface _Registration {
  pid: number;
  /** The owner's start time (field 22 of /proc/<pid>/stat), to tell a reused pid apart. */
  start?: string;
  dir?: string;
  namespaces?: string[];
}

function _startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function _ownerAlive(owner: _Registration): boolean {
  return _alive(owner.pid) && (owner.start === undefined || owner.start === _startTime(owner.pid));
}

async function _readRegistration(
  prefix: string,
): Promise<_Registration | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${STATE_DIR}/${prefix}.json`));
  } catch {
    return undefined;
  }
}

/** Removes labs whose owning process is gone (a crashed test run). */
async function _reapStaleLabs(): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(STATE_DIR));
  } catch {
    return;
  }
  const existing = await _listNamespaces();
  for (const entry of entries) {
    if (!entry.name.endsWith(".json")) continue;
    const prefix = entry.name.slice(0, -5);
    const owner = await _readRegistration(prefix);
    // A live owner (this process included: another test worker may hold the lab) keeps it.
    if (owner && _ownerAlive(owner)) continue;
    await _destroyNamespaces(existing.filter((ns) => ns.startsWith(`${prefix}-`)));
    if (owner?.dir?.includes("meshmeet-natlab-")) {
      await Deno.remove(owner.dir, { recursive: true }).catch(() => {});
    }
    await Deno.remove(`${STATE_DIR}/${entry.name}`).catch(() => {});
  }
}

// ------------------------------------------------------------------ small helpers

const whichCache = new Map<string, string | undefined>();

/** Absolute path of a program on the PATH (plus the sbin directories root uses). */
function _which(name: string): string | undefined {
  if (name.includes("/")) return name;
  if (whichCache.has(name)) return whichCache.get(name);
  const path = (Deno.env.get("PATH") ?? "").split(":");
  let found: string | undefined;
  for (const dir of [...path, "/usr/local/sbin", "/usr/sbin", "/sbin"]) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) {
        found = `${dir}/${name}`;
        break;
      }
    } catch {
      // not here
    }
  }
  whichCache.set(name, found);
  return found;
}

/** An address as it appears in /proc/net/udp: little-endian hex IPv4, then the port. */
function _procAddress(ip: string, port: number): string {
  const hex = ip.split(".").reverse().map((o) => Number(o).toString(16).padStart(2, "0")).join("")
    .toUpperCase();
  return `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

function _randomPrefix(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(2));
    const prefix = `mm${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    if (activePrefixes.has(prefix)) continue;
    try {
      Deno.statSync(`${STATE_DIR}/${prefix}.json`);
    } catch {
      return prefix;
    }
  }
}

function _isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
