/**
 * What the home routers do: their iptables rules (NAT kind, WAN filtering), cutting and
 * restoring a home's link, and reading NAT mappings from their conntrack tables.
 *
 * @module
 */
import type { HomePlan, LabPlan } from "./plan.ts";
import { runCommand } from "./processes.ts";
import type { LabHost, LabRouter, WanMapping } from "./types.ts";

/** The chain that `cutLink()` fills with a DROP rule; FORWARD jumps to it first. */
const LINK_CHAIN = "MESHMEET_LINK";

/** The router's `iptables-restore` input for one address family. */
export function routerRules(
  router: LabRouter,
  firstHost: LabHost,
  family: "ipv4" | "ipv6",
): string {
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

/**
 * Cuts (`up` false) or restores a home's link: the router's link chain drops every
 * forwarded packet, or for a nat "none" home its hosts' internet bridge ports stop
 * forwarding. NAT mappings are kept.
 */
export async function setLink(plan: LabPlan, home: HomePlan, up: boolean): Promise<void> {
  if (home.router) {
    const rules = up
      ? `*filter\n-F ${LINK_CHAIN}\nCOMMIT\n`
      : `*filter\n-F ${LINK_CHAIN}\n-A ${LINK_CHAIN} -j DROP\nCOMMIT\n`;
    const ns = home.router.ns;
    await Promise.all([
      runCommand(["ip", "netns", "exec", ns, "iptables-restore", "-w", "--noflush"], {
        stdin: rules,
      }),
      plan.ipv6
        ? runCommand(["ip", "netns", "exec", ns, "ip6tables-restore", "-w", "--noflush"], {
          stdin: rules,
        })
        : undefined,
    ]);
  } else {
    // No router: stop the hosts' ports on the internet bridge (3 = forwarding,
    // 0 = disabled; `ip link ... bridge_slave state` silently ignores this, `bridge` works).
    const state = up ? 3 : 0;
    const ns = plan.backbone.ns;
    await runCommand(["bridge", "-n", ns, "-batch", "-"], {
      stdin: home.ports.map((port) => `link set dev ${port} state ${state}`).join("\n") + "\n",
    });
  }
}

/** Reads a router's NAT mappings for one protocol, IPv4 and (with `ipv6`) IPv6. */
export async function readWanMappings(
  router: LabRouter,
  protocol: "udp" | "tcp",
  ipv6: boolean,
): Promise<WanMapping[]> {
  const families: ("ipv4" | "ipv6")[] = ipv6 ? ["ipv4", "ipv6"] : ["ipv4"];
  const lists = await Promise.all(families.map(async (family) => {
    const { stdout } = await runCommand([
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
    return parseConntrack(stdout, protocol, family, router);
  }));
  return lists.flat();
}

function parseConntrack(
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
