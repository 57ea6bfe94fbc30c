/**
 * The lab's addressing plan: validates {@linkcode NatLabOptions} and names every namespace,
 * address, subnet and bridge port before anything is built.
 *
 * @module
 */
import { randomPrefix } from "./registry.ts";
import type { LabHost, LabRouter, NatKind, NatLabOptions, TurnCredentials } from "./types.ts";

/** The internet's IPv4 /24 (a documentation range: never routed off the machine). */
export const INET_NET = "198.51.100";
/**
 * The internet's IPv6 prefix (2001:db8::/32, a documentation range); home N's LAN is
 * `2001:db8:N::/64`.
 */
export const INET6_NET = "2001:db8:";

/** One home as planned: its router (unless nat "none"), hosts and bridge ports. */
export interface HomePlan {
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

/** The whole lab as planned. */
export interface LabPlan {
  prefix: string;
  ipv6: boolean;
  verbose: boolean;
  turn: TurnCredentials | false;
  backbone: LabHost;
  internet: LabHost;
  homes: HomePlan[];
}

/**
 * Validates the options and plans the lab.
 * @throws {TypeError} For an invalid prefix, home name, NAT kind, subnet or TURN credentials.
 * @throws {RangeError} For too many or too few homes or hosts.
 */
export function planLab(options: NatLabOptions): LabPlan {
  const prefix = options.prefix ?? randomPrefix();
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
  const homes = homesIn.map((home, i): HomePlan => {
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
    const plan: HomePlan = {
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
