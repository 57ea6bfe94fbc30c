/**
 * Builds the lab's network: namespaces, sysctls, veths and bridges (created directly inside
 * their namespaces, never on the host), addresses, routes, and the routers' NAT rules.
 *
 * @module
 */
import { INET6_NET, INET_NET, type LabPlan } from "./plan.ts";
import { ipBatch, runCommand } from "./processes.ts";
import { routerRules } from "./router.ts";
import type { LabHost } from "./types.ts";

/**
 * Creates every namespace of the plan and wires it up; the batches of one step run in
 * parallel, one per namespace.
 */
export async function createTopology(
  plan: LabPlan,
  namespaces: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const { backbone, internet, homes, ipv6 } = plan;
  const b = backbone.ns;
  // 1. namespaces
  await ipBatch(namespaces.map((ns) => `netns add ${ns}`), { signal });
  // 2. sysctls that must be set before interfaces appear (IPv6 DAD would delay addresses)
  const sysctls: Promise<unknown>[] = [];
  for (const ns of namespaces) {
    const keys: string[] = [];
    const router = ns.startsWith(`${plan.prefix}-rtr-`);
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
        runCommand(["ip", "netns", "exec", ns, "sysctl", "-q", "-e", "-w", ...keys], { signal }),
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
  await ipBatch(links, { signal });
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
  jobs.push(ipBatch(bb, { ns: b, signal }));
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
    return ipBatch(cmds, { ns: host.ns, signal });
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
    const routerJob = ipBatch(rc, { ns: router.ns, signal }).then(() =>
      Promise.all([
        runCommand(["ip", "netns", "exec", router.ns, "iptables-restore", "-w"], {
          stdin: routerRules(router, home.hosts[0], "ipv4"),
          signal,
        }),
        ipv6
          ? runCommand(["ip", "netns", "exec", router.ns, "ip6tables-restore", "-w"], {
            stdin: routerRules(router, home.hosts[0], "ipv6"),
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
      jobs.push(ipBatch(hc, { ns: host.ns, signal }));
    }
  }
  await Promise.all(jobs);
}
