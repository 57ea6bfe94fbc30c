/**
 * Multicast DNS for local discovery, on Deno and Node: `@libp2p/mdns` (DNS-SD over
 * `node:dgram` multicast, through the `multicast-dns` package).
 *
 * Why this one and not our own: it works unchanged on Deno 2.9 (`node:dgram` joins the
 * multicast group; two hosts on a lab bridge saw each other within ~100 ms) and on Node,
 * and its records are the libp2p mDNS spec's (PTR + TXT `dnsaddr=<multiaddr>`), which
 * carry nothing but a random instance name, the peer id and private addresses. What a
 * meeting is and who belongs to it is settled afterwards over an encrypted libp2p stream
 * (`src/discovery/local.ts`), so the multicast payload needs no secrets of ours.
 *
 * The browser variant (`mdns.browser.ts`) has no multicast: browsers cannot send UDP.
 *
 * @module
 */
import { mdns } from "@libp2p/mdns";
import type { ComponentLogger, PeerInfo } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";

/** Whether this runtime can do multicast DNS. */
export const mdnsAvailable = true;

/** Init of {@linkcode startMdns}. */
export interface MdnsInit {
  /** DNS-SD service name, e.g. `_meshmeet._udp.local`. */
  serviceTag: string;
  /** Query interval (ms); every node also answers the others' queries at once. */
  intervalMs: number;
  /** The addresses to advertise (with `/p2p/<peer id>`); only private ones are sent. */
  addresses: () => Multiaddr[];
  /** libp2p's logger (`libp2p:mdns`). */
  logger: ComponentLogger;
  /** A neighbour answered. */
  onPeer: (peer: PeerInfo) => void;
}

/** A running mDNS responder and querier. */
export interface MdnsHandle {
  /** Stop querying and answering, close the socket. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start advertising and querying on the LAN.
 *
 * @param init Service name, interval, addresses, callback.
 * @returns A handle to stop it.
 *
 * @example
 * ```ts ignore
 * const handle = await startMdns({ serviceTag, intervalMs: 5000, addresses, logger, onPeer });
 * await handle.stop();
 * ```
 */
export async function startMdns(init: MdnsInit): Promise<MdnsHandle> {
  type Components = Parameters<ReturnType<typeof mdns>>[0];
  // @libp2p/mdns reads only `getAddresses()` of the address manager (query.js `gotQuery`).
  const components = {
    addressManager: { getAddresses: init.addresses },
    logger: init.logger,
  } as unknown as Components;
  const service = mdns({ serviceTag: init.serviceTag, interval: init.intervalMs })(components);
  const onPeer = (event: CustomEvent<PeerInfo>) => init.onPeer(event.detail);
  service.addEventListener("peer", onPeer);
  const startable = service as unknown as { start(): Promise<void>; stop(): Promise<void> };
  await startable.start();
  let stopped: Promise<void> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        service.removeEventListener("peer", onPeer);
        await startable.stop();
      })();
      return stopped;
    },
  };
}
