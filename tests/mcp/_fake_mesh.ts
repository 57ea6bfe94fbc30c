/**
 * Stand-ins for meetings with just what the MCP layer uses (send, broadcast, participants,
 * self, events), wired to each other in memory: fast tests of offers, routing, limits and
 * failover without a network. Behaviour a test needs (a member going quiet, a size limit) is
 * scripted.
 */
import { FrameTooLargeError, PeerNotFoundError } from "../../src/errors.ts";
import type { Meeting, Participant } from "../../src/meeting.ts";
import type { MessageData } from "../../src/message_codec.ts";

/** One member of a {@linkcode FakeMesh}. */
export class FakeMember extends EventTarget {
  readonly self: { peerId: string; name: string };
  left = false;
  /** Messages over this many bytes (JSON) are refused with FrameTooLargeError. */
  maxMessageBytes = 1 << 20;
  /** When set, this member neither receives nor acknowledges (a hung process). */
  dead = false;
  readonly links = new Map<
    string,
    { member: FakeMember; state: Participant["state"]; lastSeen: number }
  >();

  constructor(name: string) {
    super();
    this.self = { peerId: `12D3KooW${name.padEnd(44, name[0])}`, name };
  }

  get participants(): Participant[] {
    return [...this.links.values()].map(({ member, state, lastSeen }) => ({
      peerId: member.self.peerId,
      name: member.self.name,
      joinedAt: 0,
      state,
      path: "direct",
      selectedCandidatePair: undefined,
      direction: "outbound",
      rtt: 1,
      lastSeen,
      discoveredAt: 0,
      connectedAt: 0,
      unacknowledged: 0,
      linked: true,
    }));
  }

  async send(peerId: string, data: MessageData, options: { channel?: number } = {}) {
    const link = this.links.get(peerId);
    if (!link) throw new PeerNotFoundError(`${peerId} is not a participant`);
    const size = JSON.stringify(data).length;
    if (size > this.maxMessageBytes) {
      throw new FrameTooLargeError(`${size} bytes is over the limit of ${this.maxMessageBytes}`);
    }
    const target = link.member;
    if (target.dead) return await new Promise<void>(() => {}); // never acknowledged
    await Promise.resolve();
    const detail = {
      from: this.self.peerId,
      name: this.self.name,
      data: structuredClone(data),
      text: typeof data === "string" ? data : undefined,
      channel: options.channel ?? 0,
    };
    target.dispatchEvent(new CustomEvent("message", { detail }));
  }

  async broadcast(data: MessageData, options: { channel?: number } = {}) {
    await Promise.allSettled([...this.links.keys()].map((id) => this.send(id, data, options)));
    return { delivered: [...this.links.keys()], failed: [] };
  }

  asMeeting(): Meeting {
    return this as unknown as Meeting;
  }
}

/** Connect members pairwise (a full mesh), firing `peer:join` on both sides. */
export function mesh(...members: FakeMember[]): void {
  for (const a of members) {
    for (const b of members) {
      if (a === b || a.links.has(b.self.peerId)) continue;
      a.links.set(b.self.peerId, { member: b, state: "connected", lastSeen: Date.now() });
      a.dispatchEvent(new CustomEvent("peer:join", { detail: a.participants.at(-1) }));
    }
  }
}

/** Keep every link's `lastSeen` fresh (heartbeats) until the returned function is called. */
export function heartbeats(...members: FakeMember[]): () => void {
  const timer = setInterval(() => {
    for (const m of members) {
      for (const link of m.links.values()) if (!link.member.dead) link.lastSeen = Date.now();
    }
  }, 100);
  return () => clearInterval(timer);
}
