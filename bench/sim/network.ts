/**
 * The simulated network: a discrete-event loop in virtual time that drives sans-I/O overlay
 * nodes (the real `OverlayNode` of `src/overlay/node.ts`, or a fake in unit tests) the way
 * a real driver does: it delivers their `send`s after a link's latency, opens the links
 * they `connect`, closes the ones they `disconnect`, runs their timers at `nextDeadline()`,
 * and crashes or stops them on a script.
 *
 * The model, and why:
 * - One-way latency per pair, uniform in `latencyMs` (20–150 ms by default), fixed for the
 *   run and computed from a hash of the pair, so 10,000 members need no latency table.
 * - Links are reliable and ordered; loss delays messages (per-packet retransmission) and
 *   each member's uplink sends one message after the other: see `links.ts`; the link
 *   layer (sends, connects, closes, leases) is `link_layer.ts`.
 * - `connect` takes `connectRtts` round trips (signaling, ICE, DTLS) when the target is
 *   running; otherwise the connecting side hears `connectFailed` after `connectTimeoutMs`.
 *   A connect to a peer that is linked or being connected is a no-op, as in real drivers.
 * - `disconnect`: both sides get `linkDown(failed: false)` once what was already sent on
 *   the link has arrived.
 * - A crash stops the member at once; each neighbour gets `linkDown(failed: true)` after a
 *   lease drawn from `leaseMs` (the real links send a heartbeat every 2 s and give up after
 *   a lease of missed heartbeats). Messages to a crashed member are lost.
 * - A leave calls `leave()`, lets the member run for `leaveGraceMs` (to send its goodbye),
 *   then closes its remaining links cleanly.
 *
 * @module
 */
import type { OverlayAction, PeerId, RosterItem } from "../../src/overlay/types.ts";
import { EventQueue } from "./heap.ts";
import { LinkLayer } from "./link_layer.ts";
import { SCRIPT, SimEvent, TICK } from "./links.ts";
import {
  Member,
  type NetworkCounters,
  type NetworkObserver,
  type NetworkOptions,
  type NodeFactory,
  simContact,
  simPeerId,
  zeroCounters,
} from "./model.ts";
import { type Random, seededRandom } from "./random.ts";

export * from "./model.ts";

/** The simulated network and its members. */
export class Network {
  readonly options: NetworkOptions;
  readonly random: Random;
  readonly counters: NetworkCounters = zeroCounters();

  /** Every member ever created, by slot. */
  readonly members: Member[] = [];
  /** Members in state "live", in no particular order (O(1) removal). */
  readonly live: Member[] = [];
  #livePos: number[] = [];
  readonly #bySlot = new Map<PeerId, number>();
  readonly #links: LinkLayer;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #factory: NodeFactory;
  #observer: NetworkObserver;
  #now = 0;
  /** During a warm start: the stand-in peer that hands out the snapshot. */
  #virtual: PeerId | null = null;

  /**
   * @param factory Builds each member's node.
   * @param options Network model.
   * @param observer Metric callbacks.
   */
  constructor(factory: NodeFactory, options: NetworkOptions, observer: NetworkObserver = {}) {
    this.#factory = factory;
    this.options = options;
    this.#observer = observer;
    this.random = seededRandom(options.seed);
    this.#links = new LinkLayer({
      options,
      random: this.random,
      counters: this.counters,
      members: this.members,
      queue: this.#queue,
      now: () => this.#now,
      abs: () => this.#abs(),
      after: (m: Member) => this.#after(m),
      at: (at: number, fn: () => void) => this.at(at, fn),
      slotOf: (peerId: PeerId) => this.#bySlot.get(peerId),
      observer: () => this.#observer,
      virtual: () => this.#virtual,
    });
  }

  /** Virtual time now (ms since the start of the run). */
  get now(): number {
    return this.#now;
  }

  /** Events waiting. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Replace the observer.
   * @param observer Callbacks.
   */
  observe(observer: NetworkObserver): void {
    this.#observer = observer;
  }

  /**
   * A member by peer id.
   * @param peerId The peer id.
   * @returns The member or undefined.
   */
  member(peerId: PeerId): Member | undefined {
    const s = this.#bySlot.get(peerId);
    return s === undefined ? undefined : this.members[s];
  }

  /**
   * Run `fn` at virtual time `at` (ms).
   * @param at When.
   * @param fn What.
   */
  at(at: number, fn: () => void): void {
    this.#queue.push(new SimEvent(Math.max(at, this.#now), SCRIPT, -1, -1, null, 0, null, fn));
  }

  /**
   * Process events until virtual time `until` (inclusive) or until nothing is left.
   * @param until Virtual ms.
   * @param budget Optional wall-clock guard: called every 100,000 events; return false to stop.
   * @returns False when stopped by the guard.
   */
  run(until: number, budget?: () => boolean): boolean {
    const q = this.#queue;
    let n = 0;
    for (;;) {
      const ev = q.peek();
      if (!ev || ev.at > until) break;
      q.pop();
      this.#now = ev.at;
      this.counters.events++;
      this.#handle(ev);
      if (budget && ++n % 100_000 === 0 && !budget()) return false;
    }
    this.#now = Math.max(this.#now, until);
    return true;
  }

  /**
   * Create a member now and give it its entry points.
   * @param entryPoints Members it found in the DHT (peer ids of members, live or not).
   * @param name Its display name.
   * @returns The member.
   */
  spawn(entryPoints: PeerId[], name?: string): Member {
    const m = this.#create(name);
    if (entryPoints.length > 0) {
      m.node.addEntryPoints(
        entryPoints.map((p) => ({ peerId: p, contact: simContact(p) })),
        this.#abs(),
      );
    }
    this.#after(m);
    return m;
  }

  /** A new live member, its node built by the factory (actions not drained yet). */
  #create(name?: string): Member {
    const slot = this.members.length;
    const peerId = simPeerId(slot);
    const abs = this.#abs();
    const node = this.#factory({
      peerId,
      name: name ?? `member ${slot}`,
      joinedAt: abs,
      contact: simContact(peerId),
      random: seededRandom((this.options.seed * 1_000_003) ^ (slot * 7919 + 17)),
      now: abs,
    });
    const m = new Member(slot, peerId, node, this.#now);
    this.members.push(m);
    this.#bySlot.set(peerId, slot);
    this.#livePos[slot] = this.live.length;
    this.live.push(m);
    return m;
  }

  /**
   * Broadcast from a member.
   * @param m The origin.
   * @param channel Channel number.
   * @param payload Bytes.
   * @returns The rumor id.
   */
  broadcast(m: Member, channel: number, payload: Uint8Array): string {
    const id = m.node.broadcast(channel, payload, this.#abs());
    this.#after(m);
    return id;
  }

  /**
   * Crash a member: it stops now; its neighbours notice after a lease.
   * @param m The member.
   */
  crash(m: Member): void {
    if (!m.running) return;
    this.#dropLive(m);
    m.state = "crashed";
    m.endedAt = this.#now;
    m.tickAt = Infinity;
    this.#links.breakAll(m);
  }

  /**
   * A member leaves: `leave()` now, stop after the grace period.
   * @param m The member.
   */
  leave(m: Member): void {
    if (m.state !== "live") return;
    this.#dropLive(m);
    m.state = "leaving";
    m.endedAt = this.#now;
    m.node.leave(this.#abs());
    this.#after(m);
    this.at(this.#now + this.options.leaveGraceMs, () => {
      m.state = "left";
      m.tickAt = Infinity;
      this.#links.closeAll(m);
    });
  }

  /**
   * Warm start: create `count` members now and hand each the roster of all of them, as if a
   * neighbour had sent the snapshot (a stand-in peer links up, sends the `roster` chunks and
   * closes; observations and what the nodes send it are not counted). Each node then builds
   * its links itself, through the real protocol. This skips the O(N²) join traffic of
   * building a large meeting; the members' rosters are the same as after a join wave.
   *
   * @param count Members to create.
   * @param chunk Entries per `roster` message.
   * @returns The members.
   */
  warmStart(count: number, chunk = 200): Member[] {
    const created: Member[] = [];
    for (let i = 0; i < count; i++) {
      const m = this.#create();
      m.node.takeActions();
      created.push(m);
    }
    const items: RosterItem[] = created.map((m) => ({ entry: m.node.entry, status: "alive" }));
    const chunks: RosterItem[][] = [];
    for (let i = 0; i < items.length; i += chunk) chunks.push(items.slice(i, i + chunk));
    const observer = this.#observer;
    this.#observer = {};
    this.#virtual = simPeerId(2_000_000);
    try {
      for (const m of created) {
        const abs = this.#abs();
        m.node.linkUp(this.#virtual, abs, { inbound: true });
        chunks.forEach((entries, i) =>
          m.node.receive(
            this.#virtual!,
            { t: "roster", entries, last: i === chunks.length - 1 },
            abs,
          )
        );
        m.node.linkDown(this.#virtual, abs, { failed: false });
        this.#after(m);
      }
    } finally {
      this.#virtual = null;
      this.#observer = observer;
    }
    return created;
  }

  /**
   * Members `m` has an up link with (the simulator's truth, not the node's view).
   * @param m The member.
   * @returns Slots of its linked members.
   */
  linksOf(m: Member): ReadonlySet<number> {
    return m.links;
  }

  #abs(): number {
    return this.options.epochMs + this.#now;
  }

  #dropLive(m: Member): void {
    const i = this.#livePos[m.slot];
    const last = this.live.pop()!;
    if (last !== m) {
      this.live[i] = last;
      this.#livePos[last.slot] = i;
    }
    this.#livePos[m.slot] = -1;
  }

  #handle(ev: SimEvent): void {
    switch (ev.kind) {
      case TICK: {
        const m = this.members[ev.to];
        if (!m.running || m.tickAt !== ev.at) return; // stale
        m.tickAt = Infinity;
        m.node.tick(this.#abs());
        this.#after(m, true);
        return;
      }
      case SCRIPT:
        ev.fn!();
        return;
      default:
        this.#links.handle(ev);
    }
  }

  /** Drain a member's actions and reschedule its timer. */
  #after(m: Member, ticked = false): void {
    const actions = m.node.takeActions();
    for (let i = 0; i < actions.length; i++) this.#act(m, actions[i]);
    if (!m.running) return;
    const deadline = m.node.nextDeadline() - this.options.epochMs;
    if (deadline < m.tickAt) {
      let at = deadline;
      if (at <= this.#now) {
        if (ticked) {
          this.counters.tightTicks++;
          at = this.#now + 1;
        } else at = this.#now;
      }
      if (at < m.tickAt) {
        m.tickAt = at;
        this.#queue.push(new SimEvent(at, TICK, m.slot, -1, null, 0, null, null));
      }
    }
  }

  #act(m: Member, action: OverlayAction): void {
    switch (action.type) {
      case "send":
        this.#links.send(m, action.to, action.msg);
        return;
      case "connect":
        this.#links.connect(m, action.peer);
        return;
      case "disconnect":
        this.#links.disconnect(m, action.peer);
        return;
      default:
        this.#observer.onObservation?.(m, action, this.#now);
    }
  }
}
