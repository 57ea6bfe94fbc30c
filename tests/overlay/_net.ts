/**
 * A small in-memory network for the overlay's unit tests: virtual time, a fixed latency
 * per message, links that come up after one round trip. (The simulator in bench/sim/ is the
 * big one; this keeps unit tests independent of it.)
 */
import { MemberIndex, OverlayNode } from "../../src/overlay/node.ts";
import type {
  OverlayAction,
  OverlayCrypto,
  OverlayOptions,
  PeerId,
} from "../../src/overlay/types.ts";
import { prng } from "../_prng.ts";
export { prng };

/** A stand-in signature: FNV-1a of signer and bytes (unit tests only). */
export function fakeCrypto(self: PeerId): OverlayCrypto {
  const h = (peer: string, bytes: Uint8Array) => {
    let x = 0x811c9dc5;
    for (let i = 0; i < peer.length; i++) x = Math.imul(x ^ peer.charCodeAt(i), 0x01000193);
    for (const b of bytes) x = Math.imul(x ^ b, 0x01000193);
    return new Uint8Array(new Uint32Array([x >>> 0]).buffer);
  };
  return {
    sign: (bytes) => h(self, bytes),
    verify: (peer, bytes, sig) => {
      const want = h(peer, bytes);
      return sig.length === 4 && sig.every((b, i) => b === want[i]);
    },
  };
}

interface Event {
  at: number;
  seq: number;
  run: () => void;
}

/** Observations the tests assert on. */
export interface Observed {
  joins: Map<PeerId, Set<PeerId>>;
  leaves: Map<PeerId, Map<PeerId, string>>;
  delivered: Map<PeerId, { origin: PeerId; seq: number; payload: Uint8Array }[]>;
}

/** Members, links and a clock. */
export class TestNet {
  now = 0;
  readonly nodes = new Map<PeerId, OverlayNode>();
  readonly links = new Set<string>();
  readonly dead = new Set<PeerId>();
  readonly observed: Observed = { joins: new Map(), leaves: new Map(), delivered: new Map() };
  #queue: Event[] = [];
  #seq = 0;
  #index = new MemberIndex();
  #random: () => number;
  #connecting = new Set<string>();

  constructor(readonly options: OverlayOptions = {}, seed = 1, readonly latencyMs = 20) {
    this.#random = prng(seed);
  }

  static key(a: PeerId, b: PeerId): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  /** Add a member; it knows the given entry points. */
  add(peerId: PeerId, entryPoints: PeerId[] = []): OverlayNode {
    const node = new OverlayNode({
      self: { peerId, name: `name-${peerId}`, joinedAt: 1_000_000 + this.now, contact: [] },
      topic: "test",
      crypto: fakeCrypto(peerId),
      options: this.options,
      random: this.#random,
      index: this.#index,
      now: this.now,
    });
    this.nodes.set(peerId, node);
    this.observed.joins.set(peerId, new Set());
    this.observed.leaves.set(peerId, new Map());
    this.observed.delivered.set(peerId, []);
    node.addEntryPoints(entryPoints.map((p) => ({ peerId: p, contact: [] })), this.now);
    this.#drain(peerId);
    this.#scheduleTick(peerId);
    return node;
  }

  /** Crash a member: it stops; its neighbours notice after `leaseMs`. */
  crash(peerId: PeerId, leaseMs = 3000): void {
    this.dead.add(peerId);
    for (const key of [...this.links]) {
      const [a, b] = key.split("|");
      if (a !== peerId && b !== peerId) continue;
      this.links.delete(key);
      const other = a === peerId ? b : a;
      this.#at(
        this.now + leaseMs,
        () => this.#call(other, (n) => n.linkDown(peerId, this.now, { failed: true })),
      );
    }
  }

  /** Call a member's input from a test, and carry out its actions. */
  do(peer: PeerId, fn: (n: OverlayNode) => void): void {
    this.#call(peer, fn);
  }

  /** Run until `until` (virtual ms). */
  run(until: number): void {
    while (this.#queue.length > 0) {
      const e = this.#queue[0];
      if (e.at > until) break;
      this.#queue.shift();
      this.now = e.at;
      e.run();
    }
    this.now = until;
  }

  /** Live members (not crashed, not left). */
  live(): PeerId[] {
    return [...this.nodes.keys()].filter((p) => !this.dead.has(p));
  }

  #at(at: number, run: () => void): void {
    // Sorted insert (binary search): events at the same time keep their order.
    let lo = 0, hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#queue[mid].at <= at) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, { at, seq: this.#seq++, run });
  }

  #call(peer: PeerId, fn: (n: OverlayNode) => void): void {
    if (this.dead.has(peer)) return;
    const node = this.nodes.get(peer)!;
    fn(node);
    this.#drain(peer);
  }

  #scheduleTick(peer: PeerId): void {
    const node = this.nodes.get(peer)!;
    const at = Math.max(node.nextDeadline(), this.now + 1);
    if (!Number.isFinite(at)) return;
    this.#at(at, () => {
      if (this.dead.has(peer)) return;
      this.#call(peer, (n) => n.tick(this.now));
      this.#scheduleTick(peer);
    });
  }

  #drain(peer: PeerId): void {
    const node = this.nodes.get(peer)!;
    for (const a of node.takeActions()) this.#act(peer, a);
  }

  #act(self: PeerId, a: OverlayAction): void {
    switch (a.type) {
      case "send": {
        if (!this.links.has(TestNet.key(self, a.to))) return;
        this.#at(this.now + this.latencyMs, () => {
          if (!this.links.has(TestNet.key(self, a.to))) return;
          this.#call(a.to, (n) => n.receive(self, a.msg, this.now));
        });
        return;
      }
      case "connect": {
        const key = TestNet.key(self, a.peer);
        if (this.links.has(key) || this.#connecting.has(key)) return;
        this.#connecting.add(key);
        this.#at(this.now + 2 * this.latencyMs, () => {
          this.#connecting.delete(key);
          if (this.dead.has(a.peer) || !this.nodes.has(a.peer)) {
            this.#call(self, (n) => n.connectFailed(a.peer, this.now));
            return;
          }
          if (this.dead.has(self) || this.links.has(key)) return;
          this.links.add(key);
          this.#call(
            self,
            (n) => n.linkUp(a.peer, this.now, { inbound: false, rttMs: 2 * this.latencyMs }),
          );
          this.#call(
            a.peer,
            (n) => n.linkUp(self, this.now, { inbound: true, rttMs: 2 * this.latencyMs }),
          );
        });
        return;
      }
      case "disconnect": {
        const key = TestNet.key(self, a.peer);
        // After what is in flight on the link (same latency, later sequence number).
        this.#at(this.now + this.latencyMs, () => {
          if (!this.links.delete(key)) return;
          this.#call(self, (n) => n.linkDown(a.peer, this.now, { failed: false }));
          this.#call(a.peer, (n) => n.linkDown(self, this.now, { failed: false }));
        });
        return;
      }
      case "member:join":
        this.observed.joins.get(self)!.add(a.entry.peerId);
        return;
      case "member:leave":
        this.observed.leaves.get(self)!.set(a.peerId, a.reason);
        return;
      case "deliver":
        this.observed.delivered.get(self)!.push({
          origin: a.origin,
          seq: a.seq,
          payload: a.payload,
        });
        return;
    }
  }
}
