/**
 * A paced random walk for libp2p's relay discovery.
 *
 * A participant holds relay reservations on up to two bootstrap nodes
 * (`relay_reservations.ts`). While it holds fewer than it asked for, the circuit-relay
 * transport (`@libp2p/circuit-relay-v2` 4.2.13, `transport/discovery.js`) searches the peer
 * store for relays and then consumes libp2p's random walk (`libp2p` 3.3.11,
 * `src/random-walk.ts`), which runs DHT queries for random keys in a `while` loop with no
 * pause for as long as a consumer listens. When the peers it finds are no relays, or relays
 * it already has, discovery keeps listening, so the loop never rests. Measured on the
 * development VM: with three bootstrap nodes and the two a member had reserved on killed,
 * the member and the last server (one process) spent 10.7 s of CPU in 10 s, the server
 * answering 2,188 `FIND_NODE` requests, until the member left. Upstream: relay discovery
 * that never ends when too few relays are found is libp2p/js-libp2p#2676; the unpaced walk
 * loop itself is not reported.
 *
 * So the relay transport gets its own walk ({@linkcode withPacedRelayWalk}): the first
 * query waits {@linkcode RELAY_WALK_TIMERS}`.firstMs` (a join's reservation comes from the
 * bootstrap connection within ~100 ms, so a join never walks), each peer is handed out once
 * per walk, and after a query that found nobody new the pause doubles, up to
 * `maxMs`. {@linkcode nextWalkDelay} decides; the walk only sleeps and queries.
 *
 * @module
 */
import {
  circuitRelayTransport,
  type CircuitRelayTransportComponents,
  type CircuitRelayTransportInit,
} from "@libp2p/circuit-relay-v2";
import type { AbortOptions, PeerInfo, PeerRouting, Transport } from "@libp2p/interface";
import { sleep } from "./_async.ts";
import { withComponents } from "./_components.ts";

/** The pauses of a paced walk. */
export interface RelayWalkTimers {
  /** Before the first query, and after one that found someone new. */
  readonly firstMs: number;
  /** The longest pause (after queries that found nobody new, the pause doubles up to it). */
  readonly maxMs: number;
}

/** Default pauses: 2 s first, doubling to 5 minutes. */
export const RELAY_WALK_TIMERS: RelayWalkTimers = { firstMs: 2_000, maxMs: 300_000 };

/** Peers remembered per walk (so none is handed out twice); beyond it the memory restarts. */
const SEEN_LIMIT = 1_024;

/**
 * The pause before the next query of a walk.
 *
 * @param previousMs The pause before the query that just ended.
 * @param foundNew Whether that query found a peer not handed out before.
 * @param timers The walk's pauses.
 * @returns `firstMs` after a fruitful query, else twice the previous pause, at most `maxMs`.
 *
 * @example
 * ```ts
 * import { nextWalkDelay, RELAY_WALK_TIMERS } from "./relay_walk.ts";
 * nextWalkDelay(2_000, false, RELAY_WALK_TIMERS); // 4000
 * ```
 */
export function nextWalkDelay(
  previousMs: number,
  foundNew: boolean,
  timers: RelayWalkTimers,
): number {
  if (foundNew) return timers.firstMs;
  return Math.min(Math.max(previousMs, timers.firstMs) * 2, timers.maxMs);
}

/** What a paced walk needs. */
export interface PacedRandomWalkInit {
  /** The node's peer routing (asked at each query: libp2p fills it in after construction). */
  routing: () => Pick<PeerRouting, "getClosestPeers">;
  /** Pauses. @default {RELAY_WALK_TIMERS} */
  timers?: RelayWalkTimers;
  /** Sleep that rejects with the signal's reason when it aborts (tests pass a fake clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** libp2p's `RandomWalk` shape, paced (see the module documentation). */
export class PacedRandomWalk {
  readonly #init: PacedRandomWalkInit;
  readonly #timers: RelayWalkTimers;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Queries run so far, by every walk (for tests and figures). */
  queries = 0;

  /** @param init Routing, pauses, clock. */
  constructor(init: PacedRandomWalkInit) {
    this.#init = init;
    this.#timers = init.timers ?? RELAY_WALK_TIMERS;
    this.#sleep = init.sleep ?? sleep;
  }

  /**
   * Peers near random keys, each once, with pauses between queries; ends only when the
   * signal aborts (rejecting with its reason), as libp2p's walk does.
   *
   * @param options The consumer's signal.
   * @returns The peers found.
   */
  async *walk(options: AbortOptions = {}): AsyncGenerator<PeerInfo> {
    // libp2p's relay discovery always passes its signal; without one the walk never ends.
    const signal = options.signal ?? new AbortController().signal;
    const seen = new Set<string>();
    let delay = this.#timers.firstMs;
    while (true) {
      await this.#sleep(delay, signal);
      signal.throwIfAborted();
      let foundNew = false;
      this.queries++;
      try {
        const key = crypto.getRandomValues(new Uint8Array(32));
        for await (const peer of this.#init.routing().getClosestPeers(key, { signal })) {
          const id = peer.id.toString();
          if (seen.has(id)) continue;
          if (seen.size >= SEEN_LIMIT) seen.clear();
          seen.add(id);
          foundNew = true;
          yield peer;
        }
      } catch (err) {
        signal.throwIfAborted();
        // A failed query (no DHT peers yet, a server gone) counts as finding nobody.
        void err;
      }
      delay = nextWalkDelay(delay, foundNew, this.#timers);
    }
  }
}

/**
 * libp2p's circuit-relay transport, whose relay discovery walks with
 * {@linkcode PacedRandomWalk}.
 *
 * @param init The transport's options.
 * @param timers Pauses of the walk.
 * @returns The transport factory for `createLibp2p({ transports })`.
 */
export function pacedRelayTransport(
  init: CircuitRelayTransportInit = {},
  timers: RelayWalkTimers = RELAY_WALK_TIMERS,
): (components: CircuitRelayTransportComponents) => Transport {
  const relay = circuitRelayTransport(init);
  return (components) => relay(withPacedRelayWalk(components, timers));
}

/**
 * The components of libp2p's circuit-relay transport with {@linkcode PacedRandomWalk} in
 * place of libp2p's random walk (every other component passes through).
 *
 * @param components What libp2p hands the transport.
 * @param timers Pauses of the walk.
 * @returns The same components, but for `randomWalk`.
 */
export function withPacedRelayWalk(
  components: CircuitRelayTransportComponents,
  timers: RelayWalkTimers = RELAY_WALK_TIMERS,
): CircuitRelayTransportComponents {
  const walk = new PacedRandomWalk({
    timers,
    routing: () => (components as unknown as { peerRouting: PeerRouting }).peerRouting,
  });
  return withComponents(components, { randomWalk: walk });
}
