/**
 * Shared set-up of the relay probes: participant libp2p nodes (as meetings make them), each
 * with a reservation on one relay.
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import { createParticipantLibp2p, type ParticipantLibp2p } from "../../src/node.ts";

/**
 * Make `count` participant nodes, let `setUp` register their protocols, dial the relay and
 * wait until every node holds a reservation on it (at most 30 s).
 *
 * @param relay The relay's multiaddr (with `/p2p/<id>`).
 * @param count How many nodes.
 * @param setUp Called for each node before it dials the relay.
 * @returns The nodes.
 */
export async function reservedNodes(
  relay: string,
  count: number,
  setUp: (node: ParticipantLibp2p) => Promise<void> | void = () => {},
): Promise<ParticipantLibp2p[]> {
  const nodes = await Promise.all(
    Array.from({ length: count }, () => createParticipantLibp2p({ rtcConfiguration: {} })),
  );
  for (const node of nodes) {
    await setUp(node);
    await node.dial(multiaddr(relay));
  }
  const reserved = (n: ParticipantLibp2p) =>
    n.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit"));
  for (let i = 0; !nodes.every(reserved); i++) {
    if (i === 300) throw new Error("no relay reservation after 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return nodes;
}

/**
 * The address that reaches `node` through `relay`.
 *
 * @param relay The relay's multiaddr.
 * @param node A node with a reservation on it.
 * @returns `<relay>/p2p-circuit/p2p/<node>`.
 */
export function circuitAddress(relay: string, node: ParticipantLibp2p): string {
  return `${relay}/p2p-circuit/p2p/${node.peerId}`;
}

/** The probes' echo protocol. */
export const ECHO = "/meshmeet-probe/echo/1.0.0";

/**
 * Answer {@linkcode ECHO} on `node`, relayed connections included: every message is sent
 * back, and the stream is closed when the other side closes its end.
 *
 * @param node The node.
 */
export async function serveEcho(node: ParticipantLibp2p): Promise<void> {
  await node.handle(ECHO, (stream) => {
    stream.addEventListener("message", (evt) => stream.send(evt.data));
    stream.addEventListener("remoteCloseWrite", () => void stream.close().catch(() => {}));
  }, { runOnLimitedConnection: true, maxInboundStreams: 64 });
}
