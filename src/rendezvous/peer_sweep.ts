/**
 * Forgetting the participants a bootstrap node no longer needs to know.
 *
 * Why: libp2p's peer store (`@libp2p/peer-store` 12.0.28) deletes an entry older than its
 * `maxPeerAge` (6 h) only when something reads that entry, and nothing reads a departed
 * member's; every join is a new peer id, so a bootstrap node kept one entry per member that
 * ever connected or announced (`bench/probes/peer_store_growth.ts`: 41 entries after 40
 * participants came and went, none connected). An entry cannot go when its peer disconnects:
 * a DHT server hands out a provider's addresses from its peer store (kad-dht's `ADD_PROVIDER`
 * handler stores them there), and a member announces to servers it is not connected to. So
 * an entry goes once its peer has been neither connected nor updated (a provider announcement
 * updates it) for {@linkcode PeerRetention}'s retention, longer than a provider record lives;
 * other DHT servers (those in this node's routing table) are kept. No upstream issue was found
 * (UPSTREAM.md #19).
 *
 * {@linkcode PeerRetention} decides (events and a clock in, peers to forget out);
 * {@linkcode sweepPeerStore} runs it on a libp2p node.
 *
 * @module
 */
import type { Libp2p, PeerId } from "@libp2p/interface";
import type { KadDHT, SingleKadDHT } from "@libp2p/kad-dht";

/** Which peers have been idle for longer than the retention. */
export class PeerRetention {
  readonly #lastActive = new Map<string, number>();
  readonly #retentionMs: number;

  /** @param retentionMs How long a peer that is not connected is remembered after its last activity. */
  constructor(retentionMs: number) {
    this.#retentionMs = retentionMs;
  }

  /**
   * The peer connected, disconnected or was updated (e.g. announced itself).
   * @param peer The peer id.
   * @param now The clock.
   */
  active(peer: string, now: number): void {
    this.#lastActive.set(peer, now);
  }

  /**
   * The peers to forget now: idle for longer than the retention and not connected. They are
   * no longer tracked afterwards (a peer kept by the caller is reported `active` again).
   * @param now The clock.
   * @param connected Whether a peer is connected now.
   * @returns Their ids.
   */
  due(now: number, connected: (peer: string) => boolean): string[] {
    const out: string[] = [];
    for (const [peer, at] of this.#lastActive) {
      if (now - at <= this.#retentionMs) continue;
      if (connected(peer)) {
        this.#lastActive.set(peer, now);
        continue;
      }
      this.#lastActive.delete(peer);
      out.push(peer);
    }
    return out;
  }

  /** Peers tracked. */
  get size(): number {
    return this.#lastActive.size;
  }
}

/** What {@linkcode sweepPeerStore} returns. */
export interface PeerSweep {
  /** Forget the peers due now (a call while one runs does nothing). */
  sweep(): Promise<void>;
  /** Stop listening to the node's events. */
  stop(): void;
}

/**
 * Watch `libp2p`'s peers; each {@linkcode PeerSweep.sweep} then forgets those of its peer
 * store that have been neither connected nor updated for `retentionMs`, except other DHT
 * servers (in its routing table). The caller runs it on its own clock.
 *
 * @param libp2p The bootstrap node's libp2p node.
 * @param retentionMs How long an idle peer is remembered.
 * @returns The sweep, to stop with the node.
 */
export function sweepPeerStore(
  libp2p: Libp2p<{ dht: KadDHT }>,
  retentionMs: number,
): PeerSweep {
  const retention = new PeerRetention(retentionMs);
  // The DHT servers this one knows (participants run the DHT as clients and are never in
  // it). Its `find()` is in kad-dht 16.4.5's routing table, not in its published type.
  const routingTable = (libp2p.services.dht as Partial<SingleKadDHT>).routingTable as
    | { find?(peer: PeerId): Promise<unknown> }
    | undefined;
  const ids = new Map<string, PeerId>();
  const active = (peer: PeerId) => {
    const id = peer.toString();
    ids.set(id, peer);
    retention.active(id, Date.now());
  };
  const onPeer = (evt: CustomEvent<PeerId>) => active(evt.detail);
  const onUpdate = (evt: CustomEvent<{ peer: { id: PeerId } }>) => active(evt.detail.peer.id);
  libp2p.addEventListener("peer:connect", onPeer);
  libp2p.addEventListener("peer:disconnect", onPeer);
  libp2p.addEventListener("peer:update", onUpdate);
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const due = retention.due(Date.now(), (id) => {
        const peer = ids.get(id);
        return peer !== undefined && libp2p.getConnections(peer).length > 0;
      });
      for (const id of due) {
        const peer = ids.get(id)!;
        ids.delete(id);
        if (!await libp2p.peerStore.has(peer).catch(() => false)) continue;
        if (await routingTable?.find?.(peer).catch(() => undefined) !== undefined) {
          active(peer); // another DHT server: its addresses stay
          continue;
        }
        await libp2p.peerStore.delete(peer).catch(() => {});
      }
    } finally {
      sweeping = false;
    }
  };
  return {
    sweep,
    stop() {
      libp2p.removeEventListener("peer:connect", onPeer);
      libp2p.removeEventListener("peer:disconnect", onPeer);
      libp2p.removeEventListener("peer:update", onUpdate);
    },
  };
}
