/**
 * Keeping a participant connected to its bootstrap nodes for the whole meeting.
 *
 * A participant needs a bootstrap connection for everything the DHT does (announcing its
 * presence record every 20 s, lookups) and for its relay reservations (the addresses others
 * dial it by). libp2p redials a lost peer that it keeps alive (relays are) five times, one
 * second doubling (`libp2p` 3.3.11 `connection-manager/reconnect-queue`), about 31 s in all,
 * and then never again; meshmeet dialed its bootstrap list only once, at the join. So a
 * bootstrap node that came back after a longer outage (a reboot, a deploy) was never dialed
 * again: the members could not announce any more, and newcomers could not find them.
 *
 * {@linkcode BootstrapRedial} decides (events and a clock in, dials out): while fewer
 * bootstrap nodes are connected than wanted, each one that is not gets dialed, the first time
 * `firstMs` after it was lost, then after pauses doubling up to `maxMs` (each stretched by a
 * random 75–125 %); a connection resets its pause. {@linkcode BootstrapKeeper} runs it on a libp2p node.
 *
 * @module
 */
import type { Multiaddr } from "@multiformats/multiaddr";

/** The pauses between dials of a bootstrap node that is not connected. */
export interface BootstrapRedialTimers {
  /** After a connection is lost, and the first pause after a failed dial. */
  readonly firstMs: number;
  /** The longest pause. */
  readonly maxMs: number;
}

/**
 * Default pauses: 2 s, doubling to 10 s (a refused dial to a node that is down costs one
 * TCP attempt), each stretched by a random 75–125 % so that the members of a meeting do not
 * all come back to a restarted node at the same moment.
 */
export const BOOTSTRAP_REDIAL_TIMERS: BootstrapRedialTimers = { firstMs: 2_000, maxMs: 10_000 };

interface NodeState {
  connected: boolean;
  dialing: boolean;
  /** When the next dial may start (ms on the caller's clock). */
  next: number;
  /** The pause that set `next`. */
  pause: number;
}

/** Decides when to dial which bootstrap node (indices into the caller's list). */
export class BootstrapRedial {
  readonly #nodes: NodeState[];
  readonly #wanted: number;
  readonly #timers: BootstrapRedialTimers;
  readonly #random: () => number;

  /**
   * @param count Bootstrap nodes (all taken as connected: the join just dialed them).
   * @param wanted How many should be connected; dials stop while at least this many are.
   * @param timers Pauses.
   * @param random Jitter source in [0, 1) (tests pass a constant; 0.5 means none).
   */
  constructor(
    count: number,
    wanted: number,
    timers: BootstrapRedialTimers = BOOTSTRAP_REDIAL_TIMERS,
    random: () => number = Math.random,
  ) {
    this.#nodes = Array.from({ length: count }, () => ({
      connected: true,
      dialing: false,
      next: 0,
      pause: 0,
    }));
    this.#wanted = Math.max(1, Math.min(wanted, count));
    this.#timers = timers;
    this.#random = random;
  }

  #after(now: number, pause: number): number {
    return now + pause * (0.75 + 0.5 * this.#random());
  }

  /** Bootstrap nodes connected now. */
  get connectedCount(): number {
    return this.#nodes.filter((n) => n.connected).length;
  }

  /**
   * A bootstrap node is connected (a dial succeeded, or it dialed us).
   * @param index Which.
   */
  connected(index: number): void {
    const n = this.#nodes[index];
    n.connected = true;
    n.dialing = false;
    n.pause = 0;
  }

  /**
   * A bootstrap node's last connection closed.
   * @param index Which.
   * @param now The clock.
   */
  disconnected(index: number, now: number): void {
    const n = this.#nodes[index];
    if (!n.connected) return;
    n.connected = false;
    n.pause = this.#timers.firstMs;
    n.next = this.#after(now, n.pause);
  }

  /**
   * A dial started by {@linkcode due} failed.
   * @param index Which.
   * @param now The clock.
   */
  failed(index: number, now: number): void {
    const n = this.#nodes[index];
    n.dialing = false;
    if (n.connected) return;
    n.pause = Math.min(Math.max(n.pause, this.#timers.firstMs) * 2, this.#timers.maxMs);
    n.next = this.#after(now, n.pause);
  }

  /**
   * The bootstrap nodes to dial now (each is then marked as being dialed until
   * {@linkcode connected} or {@linkcode failed}).
   * @param now The clock.
   * @returns Their indices.
   */
  due(now: number): number[] {
    if (this.connectedCount >= this.#wanted) return [];
    const out: number[] = [];
    this.#nodes.forEach((n, i) => {
      if (!n.connected && !n.dialing && n.next <= now) {
        n.dialing = true;
        out.push(i);
      }
    });
    return out;
  }

  /**
   * When {@linkcode due} may next return something.
   * @param now The clock.
   * @returns A time on the clock, or undefined when nothing waits.
   */
  nextWake(now: number): number | undefined {
    if (this.connectedCount >= this.#wanted) return undefined;
    let wake: number | undefined;
    for (const n of this.#nodes) {
      if (n.connected || n.dialing) continue;
      wake = Math.min(wake ?? Infinity, Math.max(now, n.next));
    }
    return wake;
  }
}

/** The part of a libp2p node the keeper uses. */
export interface KeeperNode {
  dial(addresses: Multiaddr[], options?: { signal?: AbortSignal }): Promise<unknown>;
  getConnections(): { remotePeer: { toString(): string } }[];
  addEventListener(type: "connection:open" | "connection:close", listener: () => void): void;
  removeEventListener(type: "connection:open" | "connection:close", listener: () => void): void;
}

/** Runs {@linkcode BootstrapRedial} on a participant's libp2p node. */
export class BootstrapKeeper {
  readonly #node: KeeperNode;
  readonly #groups: { peer: string | undefined; addresses: Multiaddr[] }[];
  readonly #redial: BootstrapRedial;
  readonly #controller = new AbortController();
  readonly #onChange = () => this.#update();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Dials started so far (for tests and figures). */
  dials = 0;

  /**
   * @param node The participant's libp2p node.
   * @param groups Its bootstrap list, grouped by node (`groupBootstrapAddresses()`).
   * @param wanted How many to keep connected.
   * @param timers Pauses.
   */
  constructor(
    node: KeeperNode,
    groups: Multiaddr[][],
    wanted: number,
    timers: BootstrapRedialTimers = BOOTSTRAP_REDIAL_TIMERS,
  ) {
    this.#node = node;
    this.#groups = groups.map((addresses) => ({
      peer: addresses[0]?.getComponents().findLast((c) => c.name === "p2p")?.value,
      addresses,
    }));
    this.#redial = new BootstrapRedial(groups.length, wanted, timers);
  }

  /** Start watching (after the join's own bootstrap dial). */
  start(): void {
    this.#node.addEventListener("connection:open", this.#onChange);
    this.#node.addEventListener("connection:close", this.#onChange);
    this.#update();
  }

  /** Stop: no more dials; a dial in flight is aborted. */
  stop(): void {
    this.#controller.abort();
    clearTimeout(this.#timer);
    this.#node.removeEventListener("connection:open", this.#onChange);
    this.#node.removeEventListener("connection:close", this.#onChange);
  }

  #update(): void {
    if (this.#controller.signal.aborted) return;
    const now = performance.now();
    const peers = new Set(this.#node.getConnections().map((c) => c.remotePeer.toString()));
    this.#groups.forEach((g, i) => {
      // A group without a peer id cannot be told apart among connections: never redialed.
      if (g.peer === undefined || peers.has(g.peer)) this.#redial.connected(i);
      else this.#redial.disconnected(i, now);
    });
    for (const i of this.#redial.due(now)) this.#dial(i);
    clearTimeout(this.#timer);
    const wake = this.#redial.nextWake(now);
    if (wake !== undefined) this.#timer = setTimeout(() => this.#update(), wake - now);
  }

  #dial(index: number): void {
    this.dials++;
    this.#node.dial(this.#groups[index].addresses, { signal: this.#controller.signal }).then(
      () => {
        this.#redial.connected(index);
        this.#update();
      },
      () => {
        this.#redial.failed(index, performance.now());
        this.#update();
      },
    );
  }
}
