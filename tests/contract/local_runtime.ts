/**
 * Contract runtimes: {@linkcode createLocalRuntime} runs participants in this process with
 * whatever build of meshmeet it is given (Deno sources, the npm package on Node, the
 * browser bundle in Chromium); {@linkcode PeerHost} exposes such a runtime to commands
 * (JSON-able in and out), and {@linkcode RemoteRuntime} drives a host in another process
 * or page through a `call` function. No runtime API is used here.
 *
 * @module
 */
import type { JoinMeetingOptions, Meeting } from "../../mod.ts";
import type {
  ContractPeer,
  ContractRuntime,
  LeaveRecord,
  PeerView,
  ReceivedMessage,
} from "./scenarios.ts";

/** The part of meshmeet's API that the contract needs. */
export interface MeshmeetApi {
  /** `joinMeeting()`. */
  joinMeeting(code: string, options?: JoinMeetingOptions): Promise<Meeting>;
  /** `generateInvitationCode()`. */
  generateInvitationCode(): string;
}

/** Settings of a local runtime. */
export interface LocalRuntimeInit {
  /** Bootstrap multiaddrs. */
  bootstrap: string[];
  /** WebRTC configuration (loopback: `{ iceServers: [], bindAddress: "127.0.0.1" }`). */
  rtcConfiguration?: JoinMeetingOptions["rtcConfiguration"];
}

class LocalPeer implements ContractPeer {
  readonly runtime: string;
  readonly name: string;
  readonly peerId: string;
  #meeting: Meeting;
  #messages: ReceivedMessage[] = [];
  #leaves: LeaveRecord[] = [];

  constructor(runtime: string, name: string, meeting: Meeting) {
    this.runtime = runtime;
    this.name = name;
    this.peerId = meeting.self.peerId;
    this.#meeting = meeting;
    meeting.addEventListener("message", (e) => {
      this.#messages.push({ from: e.detail.from, name: e.detail.name, text: e.detail.text ?? "" });
    });
    meeting.addEventListener("peer:leave", (e) => {
      this.#leaves.push({ peerId: e.detail.peerId, name: e.detail.name, reason: e.detail.reason });
    });
  }

  participants(): Promise<PeerView[]> {
    const fmt = (c?: { type: string; address: string; port: number }) =>
      c ? `${c.type} ${c.address}:${c.port}` : undefined;
    return Promise.resolve(this.#meeting.participants.map((p) => ({
      peerId: p.peerId,
      name: p.name,
      state: p.state,
      path: p.path,
      local: fmt(p.selectedCandidatePair?.local),
      remote: fmt(p.selectedCandidatePair?.remote),
      connectMs: p.connectedAt - p.discoveredAt,
    })));
  }

  async send(peerId: string, text: string): Promise<number> {
    const started = performance.now();
    await this.#meeting.send(peerId, text);
    return performance.now() - started;
  }

  messages(): Promise<ReceivedMessage[]> {
    return Promise.resolve([...this.#messages]);
  }

  leaves(): Promise<LeaveRecord[]> {
    return Promise.resolve([...this.#leaves]);
  }

  handshakeFailures(): Promise<number> {
    return Promise.resolve(this.#meeting.stats.handshakeFailures);
  }

  relayAddress(): Promise<string> {
    const address = this.#meeting.self.addresses.find((a) => a.includes("/p2p-circuit"));
    if (address === undefined) return Promise.reject(new Error("no /p2p-circuit address"));
    return Promise.resolve(address);
  }

  async connect(address: string): Promise<{ ok: boolean; errorName?: string; message?: string }> {
    try {
      await this.#meeting.connect(address);
      return { ok: true };
    } catch (err) {
      return { ok: false, errorName: (err as Error).name, message: (err as Error).message };
    }
  }

  libp2pPeers(): Promise<string[]> {
    return Promise.resolve(
      this.#meeting.libp2p.getConnections().map((c) => c.remotePeer.toString()),
    );
  }

  leave(): Promise<void> {
    return this.#meeting.leave();
  }
}

/**
 * A runtime whose participants live in this process.
 *
 * @param name Runtime name (`deno`, `node22`, `chromium`, …).
 * @param api meshmeet as this runtime loads it.
 * @param init Bootstrap list and WebRTC configuration.
 * @returns The runtime.
 */
export function createLocalRuntime(
  name: string,
  api: MeshmeetApi,
  init: LocalRuntimeInit,
): ContractRuntime {
  return {
    name,
    generateCode: () => Promise.resolve(api.generateInvitationCode()),
    async join(code, peerName) {
      const meeting = await api.joinMeeting(code, {
        name: peerName,
        bootstrap: init.bootstrap,
        rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] },
      });
      return new LocalPeer(name, peerName, meeting);
    },
  };
}

/** A command for a {@linkcode PeerHost}. */
export interface HostCommand {
  /** `code`, `join`, or a {@linkcode ContractPeer} method name. */
  op: string;
  /** Which peer (from `join`'s answer), for peer methods. */
  peer?: string;
  /** Arguments. */
  args?: unknown[];
}

const PEER_METHODS = new Set([
  "participants",
  "send",
  "messages",
  "leaves",
  "handshakeFailures",
  "relayAddress",
  "connect",
  "libp2pPeers",
  "leave",
]);

/** Runs commands against a local runtime (in a page, or a process behind stdin/stdout). */
export class PeerHost {
  #runtime: ContractRuntime;
  #peers = new Map<string, ContractPeer>();

  /**
   * @param runtime The local runtime to drive.
   */
  constructor(runtime: ContractRuntime) {
    this.#runtime = runtime;
  }

  /**
   * Run one command.
   *
   * @param command What to do.
   * @returns Its JSON-able result.
   */
  async call(command: HostCommand): Promise<unknown> {
    const args = command.args ?? [];
    if (command.op === "code") return await this.#runtime.generateCode();
    if (command.op === "join") {
      const peer = await this.#runtime.join(String(args[0]), String(args[1]));
      this.#peers.set(peer.peerId, peer);
      return { peerId: peer.peerId, name: peer.name, runtime: peer.runtime };
    }
    if (command.op === "leaveAll") {
      await Promise.allSettled([...this.#peers.values()].map((p) => p.leave()));
      return null;
    }
    const peer = this.#peers.get(command.peer ?? "");
    if (!peer) throw new Error(`no such peer: ${command.peer}`);
    if (!PEER_METHODS.has(command.op)) throw new Error(`unknown op: ${command.op}`);
    const method = (peer as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
      command.op
    ];
    return (await method.apply(peer, args)) ?? null;
  }
}

/** A runtime in another process or page, driven through a {@linkcode PeerHost} there. */
export class RemoteRuntime implements ContractRuntime {
  /** Runtime name. */
  readonly name: string;
  #call: (command: HostCommand) => Promise<unknown>;

  /**
   * @param name Runtime name.
   * @param call Sends a command to the host and resolves with its result.
   */
  constructor(name: string, call: (command: HostCommand) => Promise<unknown>) {
    this.name = name;
    this.#call = call;
  }

  /** A new invitation code from the remote runtime. */
  async generateCode(): Promise<string> {
    return String(await this.#call({ op: "code" }));
  }

  /**
   * Join a meeting in the remote runtime.
   *
   * @param code Invitation code.
   * @param name Display name.
   * @returns A proxy of the remote participant.
   */
  async join(code: string, name: string): Promise<ContractPeer> {
    const info = await this.#call({ op: "join", args: [code, name] }) as {
      peerId: string;
      name: string;
      runtime: string;
    };
    const call = this.#call;
    const op = <T>(method: string, ...args: unknown[]) =>
      call({ op: method, peer: info.peerId, args }) as Promise<T>;
    return {
      runtime: info.runtime,
      name: info.name,
      peerId: info.peerId,
      participants: () => op("participants"),
      send: (peerId, text) => op("send", peerId, text),
      messages: () => op("messages"),
      leaves: () => op("leaves"),
      handshakeFailures: () => op("handshakeFailures"),
      relayAddress: () => op("relayAddress"),
      connect: (address) => op("connect", address),
      libp2pPeers: () => op("libp2pPeers"),
      leave: () => op("leave"),
    };
  }
}
