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
 * The code lives in `lab/`, one job per module: `plan.ts` (options to names and
 * addresses), `topology.ts` (namespaces, links, addresses), `router.ts` (NAT rules, link
 * cuts, conntrack), `coturn.ts`, `processes.ts` (commands and children),
 * `registry.ts` (reaping what crashed runs left), `availability.ts`, and `nat_lab.ts` (the
 * running lab). This file only re-exports.
 *
 * @module
 */
export {
  type ExecOptions,
  type ExecResult,
  type HomeOptions,
  type IceServer,
  type LabHost,
  type LabRouter,
  type NatKind,
  type NatLab,
  NatLabError,
  type NatLabOptions,
  type SpawnOptions,
  type TurnCredentials,
  type WanMapping,
} from "./lab/types.ts";
export {
  ignoreNatLab,
  type NatLabAvailability,
  natLabAvailable,
  requireNatLab,
} from "./lab/availability.ts";
export { createNatLab } from "./lab/nat_lab.ts";
