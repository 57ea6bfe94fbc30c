/**
 * Drives an {@linkcode OverlayNode} over real links: the wall clock and one timer, Ed25519
 * signatures with the member's libp2p key, the wire codec, and callbacks for what the node
 * asks (send, connect, disconnect) and reports (roster changes, broadcasts). The meeting
 * owns the links; this module owns nothing but the node and its timer.
 *
 * @module
 */
import { peerIdFromString } from "@libp2p/peer-id";
import type { PrivateKey } from "@libp2p/interface";
import type { Logger } from "../logger.ts";
import { ed25519Signer, ed25519Verifier } from "../runtime/ed25519.ts";
import { decodeOverlayMessage, encodeOverlayMessage } from "./codec.ts";
import { OverlayNode } from "./node.ts";
import type { MemberEntry, OverlayCrypto, OverlayOptions, PeerId } from "./types.ts";

type Verify = (message: Uint8Array, signature: Uint8Array) => boolean;

/**
 * Ed25519 with the member's libp2p key, synchronous in every runtime (the overlay's
 * decisions are synchronous; `@libp2p/crypto` goes through WebCrypto, asynchronous, in
 * browsers). See `src/runtime/ed25519.ts`.
 *
 * @param privateKey The member's Ed25519 libp2p key.
 * @returns Signer and verifier.
 */
export function ed25519Crypto(privateKey: PrivateKey): OverlayCrypto {
  if (privateKey.type !== "Ed25519") {
    throw new TypeError(`The overlay needs an Ed25519 key, got ${privateKey.type}`);
  }
  const sign = ed25519Signer(privateKey.raw.subarray(0, 32));
  const verifiers = new Map<PeerId, Verify | null>();
  const verifierOf = (peer: PeerId): Verify | null => {
    let v = verifiers.get(peer);
    if (v === undefined) {
      try {
        const id = peerIdFromString(peer);
        v = id.type === "Ed25519" ? ed25519Verifier(id.publicKey.raw) : null;
      } catch {
        v = null;
      }
      if (verifiers.size > 50_000) verifiers.clear();
      verifiers.set(peer, v);
    }
    return v;
  };
  return {
    sign,
    verify: (peer, bytes, sig) => sig.length === 64 && (verifierOf(peer)?.(bytes, sig) ?? false),
  };
}

/** What the driver needs from its meeting. */
export interface OverlayDriverInit {
  /** Ourselves. */
  self: { peerId: PeerId; name: string; joinedAt: number; contact: string[] };
  /** The meeting's topic id (signing domain). */
  topic: string;
  /** Our libp2p key. */
  privateKey: PrivateKey;
  /** Overlay limits and timers. */
  options?: OverlayOptions;
  /** Logger. */
  log: Logger;
  /** Send encoded overlay bytes to a linked neighbour. */
  send(peer: PeerId, bytes: Uint8Array): void;
  /** Open a link to a member. */
  connect(peer: PeerId, contact: string[]): void;
  /** Close the link to a neighbour (the overlay no longer wants it). */
  disconnect(peer: PeerId): void;
  /** A member entered the roster. */
  onJoin(entry: MemberEntry): void;
  /** A member left the roster. */
  onLeave(peerId: PeerId, name: string, reason: "left" | "failed"): void;
  /** A broadcast relayed through the mesh arrived. */
  onDeliver(origin: PeerId, channel: number, payload: Uint8Array): void;
}

/** One overlay node on the wall clock. */
export class OverlayDriver {
  readonly node: OverlayNode;
  readonly #init: OverlayDriverInit;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #stopped = false;
  /** Neighbours that pruned us: their link closing is not a failure. */
  readonly #prunedBy = new Set<PeerId>();

  /** @param init Who we are, our key and the meeting's callbacks. */
  constructor(init: OverlayDriverInit) {
    this.#init = init;
    this.node = new OverlayNode({
      self: init.self,
      topic: init.topic,
      crypto: ed25519Crypto(init.privateKey),
      options: init.options,
      now: Date.now(),
    });
    this.#schedule();
  }

  /**
   * Members found by the DHT, the LAN or a knock.
   * @param points Peer ids and contacts.
   */
  addEntryPoints(points: { peerId: PeerId; contact: string[] }[]): void {
    this.#run((n, now) => n.addEntryPoints(points, now));
  }

  /**
   * A meeting link is up.
   * @param peer The member.
   * @param inbound Whether it dialed us.
   * @param extra Whether we opened it on demand (a direct message), outside the mesh.
   */
  linkUp(peer: PeerId, inbound: boolean, extra = false): void {
    this.#prunedBy.delete(peer);
    this.#run((n, now) => n.linkUp(peer, now, { inbound, extra }));
  }

  /**
   * A meeting link is gone.
   * @param peer The member.
   * @param failed Whether it broke (lease expired, stream lost) rather than closed on purpose.
   */
  linkDown(peer: PeerId, failed: boolean): void {
    const pruned = this.#prunedBy.delete(peer);
    this.#run((n, now) => n.linkDown(peer, now, { failed: failed && !pruned }));
  }

  /**
   * Whether a neighbour pruned us (its link closing is then on purpose).
   * @param peer The neighbour.
   * @returns True after a `prune` from it.
   */
  wasPruned(peer: PeerId): boolean {
    return this.#prunedBy.has(peer);
  }

  /**
   * A connect asked for by the overlay failed.
   * @param peer The member.
   */
  connectFailed(peer: PeerId): void {
    this.#run((n, now) => n.connectFailed(peer, now));
  }

  /**
   * Overlay bytes from a neighbour.
   * @param from The neighbour.
   * @param bytes The frame's payload.
   */
  receive(from: PeerId, bytes: Uint8Array): void {
    let msg;
    try {
      msg = decodeOverlayMessage(bytes);
    } catch (err) {
      this.#init.log(`dropped overlay message from ${from}: ${(err as Error).message}`);
      return;
    }
    if (msg.t === "prune") this.#prunedBy.add(from);
    this.#run((n, now) => n.receive(from, msg, now));
  }

  /**
   * A round-trip time measured on a link.
   * @param peer The neighbour.
   * @param rttMs The round-trip time.
   */
  setRtt(peer: PeerId, rttMs: number): void {
    this.node.setRtt(peer, rttMs);
  }

  /**
   * Broadcast through the mesh.
   * @param channel The application channel.
   * @param payload The encoded message.
   * @returns The broadcast's id.
   */
  broadcast(channel: number, payload: Uint8Array): string {
    let id = "";
    this.#run((n, now) => id = n.broadcast(channel, payload, now));
    return id;
  }

  /**
   * Our contact changed (new relay addresses).
   * @param contact The new contact.
   */
  updateContact(contact: string[]): void {
    this.#run((n, now) => n.updateContact(contact, now));
  }

  /** Say goodbye (signed `left` to every neighbour) and stop the timer. */
  leave(): void {
    this.#run((n, now) => n.leave(now));
    this.stop();
  }

  /** Stop the timer (idempotent). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #run(fn: (node: OverlayNode, now: number) => void): void {
    if (this.#stopped) return;
    fn(this.node, Date.now());
    for (const a of this.node.takeActions()) {
      try {
        switch (a.type) {
          case "send":
            this.#init.send(a.to, encodeOverlayMessage(a.msg));
            break;
          case "connect":
            this.#init.connect(a.peer, a.contact);
            break;
          case "disconnect":
            this.#init.disconnect(a.peer);
            break;
          case "member:join":
            this.#init.onJoin(a.entry);
            break;
          case "member:update":
            break;
          case "member:leave":
            this.#init.onLeave(a.peerId, a.name, a.reason);
            break;
          case "deliver":
            this.#init.onDeliver(a.origin, a.channel, a.payload);
            break;
        }
      } catch (err) {
        this.#init.log.error(`overlay action ${a.type} failed`, err);
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const at = this.node.nextDeadline();
    if (!Number.isFinite(at) || (this.#timer !== undefined && at >= this.#timerAt)) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run((n, now) => n.tick(now));
    }, Math.max(0, at - Date.now()));
  }
}
