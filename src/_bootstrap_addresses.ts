/**
 * How a participant dials its bootstrap list.
 *
 * @module
 */
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";

/**
 * Groups bootstrap addresses by the peer they name, so that each bootstrap node is dialed
 * once with all its addresses. libp2p then tries them in its address order (plain TCP
 * before WebSockets, `reliableTransportsFirst` in @libp2p/utils), skipping those the
 * runtime cannot dial (TCP in browsers). Dialed one address at a time, the first dial
 * started wins, which was `/ws` for a `meshmeet serve` address list; on Deno that costs
 * about 44 ms per round trip, because Deno's WebSocket client leaves Nagle's algorithm on
 * (no TCP_NODELAY; the same gap in its fetch() is denoland/deno#35581), which made the
 * join about five times slower (BENCHMARKS.md, part 1). Addresses without a `/p2p/` peer
 * id stay on their own.
 */
export function groupBootstrapAddresses(bootstrap: readonly string[]): Multiaddr[][] {
  const byPeer = new Map<string, Multiaddr[]>();
  const groups: Multiaddr[][] = [];
  for (const address of bootstrap) {
    const ma = multiaddr(address);
    const peer = ma.getComponents().findLast((c) => c.name === "p2p")?.value;
    if (peer === undefined || ma.getComponents().some((c) => c.name === "p2p-circuit")) {
      groups.push([ma]);
      continue;
    }
    let group = byPeer.get(peer);
    if (group === undefined) {
      group = [];
      byPeer.set(peer, group);
      groups.push(group);
    }
    if (!group.some((m) => m.equals(ma))) group.push(ma);
  }
  return groups;
}
