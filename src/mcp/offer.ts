/**
 * Offering MCP tools to a meeting: one SDK server (`McpServer` or `Server`) answers every
 * member's sessions through one multiplexing transport, and its tool list is announced to
 * each member (the tool part of the member's roster entry).
 *
 * Why one transport for all sessions: the SDK binds a server to one transport
 * (`Protocol.connect()` throws "Already connected to a transport"), and the API takes
 * one server instance. So the transport gives each incoming request a fresh id, remembers
 * which member and session it came from, and routes the response back with the original id.
 * The owner's allow list is enforced here, below the server, so no tool handler can forget it.
 *
 * @module
 */
import type { Transport, TransportSendOptions } from "./_sdk.ts";
import type { JSONRPCMessage, MessageExtraInfo, RequestId, Tool } from "./_sdk.ts";
import type { Meeting } from "../meeting.ts";
import { FrameTooLargeError, MeetingClosedError } from "../errors.ts";
import { hubFor, type McpHub } from "./_hub.ts";
import {
  type AnnouncedTool,
  type Envelope,
  MAX_ANNOUNCED_DESCRIPTION,
  MAX_ANNOUNCED_TOOLS,
  schemaDigest,
} from "./wire.ts";

/**
 * Who may call which tool: tool name → peer ids allowed (tools not named are open to every
 * member), or a function deciding per tool and peer.
 */
export type ToolAllowList =
  | Readonly<Record<string, readonly string[]>>
  | ((tool: string, peerId: string) => boolean);

/** Options of {@linkcode offerTools}. */
export interface OfferToolsOptions {
  /**
   * Restrict tools to some members (by peer id). A member not allowed a tool does not see it
   * in its roster entry or in `tools/list`, and calling it gets an MCP error.
   * @default {undefined} (every member may call every tool)
   */
  allow?: ToolAllowList;
  /**
   * Most requests one member may have in progress at once; more get an MCP error.
   * @default {16}
   */
  maxConcurrentPerPeer?: number;
}

/** A server the SDK can connect to a transport (`McpServer` or the low-level `Server`). */
export interface ConnectableServer {
  /** Connect to a transport. */
  connect(transport: Transport): Promise<void>;
  /** Close the connection. */
  close(): Promise<void>;
}

/** A running offer (see {@linkcode offerTools}). */
export interface ToolOffer extends AsyncDisposable {
  /** The tools announced (before per-member filtering). */
  readonly tools: readonly AnnouncedTool[];
  /** Read the tool list again and announce it (done by itself when the server's list changes). */
  refresh(): Promise<void>;
  /** Withdraw the offer: members are told, sessions end, the server is closed. Idempotent. */
  close(): Promise<void>;
}

/** JSON-RPC error codes used here (MCP's and JSON-RPC's own). */
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;
// Not -32000 or -32001: the SDK uses those for "connection closed" and "request timeout".
const TOO_BUSY = -32005;

interface Session {
  peerId: string;
  sessionId: string;
  name: string;
  inflight: number;
}

type Route =
  | { kind: "remote"; session: Session; id: RequestId; list: boolean }
  | { kind: "local"; resolve: (result: unknown) => void; reject: (err: Error) => void };

function _allowed(allow: ToolAllowList | undefined, tool: string, peerId: string): boolean {
  if (!allow) return true;
  if (typeof allow === "function") return allow(tool, peerId);
  const list = Object.hasOwn(allow, tool) ? allow[tool] : undefined;
  return list === undefined || list.includes(peerId);
}

/**
 * The server side of MCP over a meeting: one SDK transport carrying every member's sessions
 * (see the module doc). Made and connected by {@linkcode offerTools}.
 */
export class MeetingServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** Called when the server says its tool list changed. */
  onToolsChanged?: () => void;
  #hub: McpHub;
  #options: OfferToolsOptions;
  #sessions = new Map<string, Session>();
  #routes = new Map<number, Route>();
  #origins = new Map<string, number>();
  #nextId = 0;
  #closed = false;

  /**
   * Made by {@linkcode offerTools}.
   * @ignore
   */
  constructor(hub: McpHub, options: OfferToolsOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Ask our own server something (to read its tool list for the announcement). */
  localRequest(method: string, params?: Record<string, unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new MeetingClosedError("The tool offer is closed"));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#routes.set(id, { kind: "local", resolve, reject });
      this.onmessage?.({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) });
    });
  }

  /** @ignore */
  _receive(from: string, name: string, envelope: Envelope): void {
    if (this.#closed || (envelope.t !== "rpc" && envelope.t !== "close")) return;
    const key = `${from}\n${envelope.s}`;
    if (envelope.t === "close") {
      const session = this.#sessions.get(key);
      if (session) this.#endSession(session, "the caller closed the session");
      return;
    }
    let session = this.#sessions.get(key);
    if (!session) {
      session = { peerId: from, sessionId: envelope.s, name, inflight: 0 };
      this.#sessions.set(key, session);
    }
    const message = envelope.m as Record<string, unknown>;
    const extra: MessageExtraInfo = {
      // Tool handlers see who calls: `extra.authInfo.clientId` is the caller's peer id,
      // authenticated by the meeting link (membership proof + libp2p peer id).
      authInfo: { token: "", clientId: from, scopes: [], extra: { peerId: from, name } },
    };
    const hasId = "id" in message &&
      (typeof message.id === "string" || typeof message.id === "number");
    if (typeof message.method === "string" && hasId) {
      this.#onRequest(
        session,
        message as { id: RequestId; method: string; params?: unknown },
        extra,
      );
    } else if (typeof message.method === "string") {
      if (message.method === "notifications/cancelled") {
        const params = message.params as { requestId?: RequestId; reason?: string } | undefined;
        const id = this.#origins.get(`${key}\n${JSON.stringify(params?.requestId)}`);
        if (id === undefined) return;
        this.#deliver({ ...message, params: { ...params, requestId: id } }, extra);
      } else this.#deliver(message, extra);
    } else if (hasId) {
      // A response to a request our server sent (ids it chose, unique across sessions).
      this.#deliver(message, extra);
    }
  }

  #onRequest(
    session: Session,
    message: { id: RequestId; method: string; params?: unknown },
    extra: MessageExtraInfo,
  ): void {
    if (message.method === "tools/call") {
      const tool = (message.params as { name?: unknown } | undefined)?.name;
      if (typeof tool !== "string" || !_allowed(this.#options.allow, tool, session.peerId)) {
        this.#reply(session, message.id, {
          code: INVALID_PARAMS,
          message: `Tool ${JSON.stringify(tool)} is not offered to ${session.peerId} ` +
            "(its owner restricts it to other members)",
        });
        return;
      }
    }
    const max = this.#options.maxConcurrentPerPeer ?? 16;
    if (session.inflight >= max) {
      this.#reply(session, message.id, {
        code: TOO_BUSY,
        message: `Too many requests in progress from ${session.peerId} (limit ${max}); ` +
          "wait for answers before sending more",
      });
      return;
    }
    const id = ++this.#nextId;
    session.inflight++;
    this.#routes.set(id, {
      kind: "remote",
      session,
      id: message.id,
      list: message.method === "tools/list",
    });
    this.#origins.set(`${session.peerId}\n${session.sessionId}\n${JSON.stringify(message.id)}`, id);
    this.#deliver({ ...message, id }, extra);
  }

  #deliver(message: Record<string, unknown>, extra: MessageExtraInfo): void {
    try {
      this.onmessage?.(message as JSONRPCMessage, extra);
    } catch (err) {
      this.onerror?.(err as Error);
    }
  }

  #reply(session: Session, id: RequestId, error: { code: number; message: string }): void {
    this.#sendTo(session, { jsonrpc: "2.0", id, error });
  }

  #sendTo(session: Session, message: JSONRPCMessage): Promise<void> {
    return this.#hub.send(session.peerId, { t: "rpc", s: session.sessionId, d: "s2c", m: message })
      .catch((err) => {
        if (err instanceof FrameTooLargeError && "id" in message && !("method" in message)) {
          // A result over the meeting's message limit: the caller gets an MCP error instead.
          return this.#reply(session, message.id as RequestId, {
            code: INTERNAL_ERROR,
            message: `The result is too large for a meeting message: ${err.message}`,
          });
        }
        // The member left or its link failed: its calls fail over on its side.
        this.onerror?.(err as Error);
      });
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new MeetingClosedError("The tool offer is closed"));
    const m = message as Record<string, unknown>;
    if (typeof m.method !== "string") {
      const route = this.#routes.get(m.id as number);
      if (!route) return Promise.resolve(); // the caller is gone
      this.#routes.delete(m.id as number);
      if (route.kind === "local") {
        if ("error" in m) route.reject(new Error((m.error as { message: string }).message));
        else route.resolve(m.result);
        return Promise.resolve();
      }
      const { session } = route;
      session.inflight--;
      this.#origins.delete(`${session.peerId}\n${session.sessionId}\n${JSON.stringify(route.id)}`);
      let out = { ...m, id: route.id } as Record<string, unknown>;
      if (route.list && "result" in out) out = this.#filterList(session, out);
      return this.#sendTo(session, out as JSONRPCMessage);
    }
    const related = options?.relatedRequestId;
    const route = related === undefined ? undefined : this.#routes.get(related as number);
    if (route?.kind === "remote") return this.#sendTo(route.session, message);
    if (m.method === "notifications/tools/list_changed") this.onToolsChanged?.();
    if (!("id" in m)) {
      // An unrelated notification (list changed, logging): every session hears it.
      return Promise.all([...this.#sessions.values()].map((s) => this.#sendTo(s, message)))
        .then(() => {});
    }
    return Promise.reject(
      new Error(`Cannot route server request "${m.method}": it belongs to no member's request`),
    );
  }

  #filterList(session: Session, response: Record<string, unknown>): Record<string, unknown> {
    const result = response.result as { tools?: Tool[] };
    if (!Array.isArray(result?.tools)) return response;
    const tools = result.tools.filter((t) => _allowed(this.#options.allow, t.name, session.peerId));
    return { ...response, result: { ...result, tools } };
  }

  /** Whether a member may call a tool. */
  allowed(tool: string, peerId: string): boolean {
    return _allowed(this.#options.allow, tool, peerId);
  }

  #endSession(session: Session, reason: string): void {
    this.#sessions.delete(`${session.peerId}\n${session.sessionId}`);
    for (const [id, route] of this.#routes) {
      if (route.kind !== "remote" || route.session !== session) continue;
      // Tell the server, so the tool's `extra.signal` aborts and it can stop working.
      this.#deliver({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id, reason },
      }, {});
      this.#routes.delete(id);
    }
  }

  /** @ignore */
  _peerJoined(_peerId: string): void {
    // Handled by the offer (it announces to the newcomer).
  }

  /** @ignore */
  _peerGone(peerId: string): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.peerId === peerId) this.#endSession(session, "the caller left the meeting");
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    for (const session of [...this.#sessions.values()]) {
      this.#hub.send(session.peerId, { t: "close", s: session.sessionId, d: "s2c" }).catch(
        () => {},
      );
      this.#endSession(session, "the offer was withdrawn");
    }
    for (const route of this.#routes.values()) {
      if (route.kind === "local") route.reject(new MeetingClosedError("The tool offer is closed"));
    }
    this.#routes.clear();
    this.#closed = true;
    this.onclose?.();
    return Promise.resolve();
  }
}

async function _announce(tools: Tool[]): Promise<AnnouncedTool[]> {
  return await Promise.all(
    tools.slice(0, MAX_ANNOUNCED_TOOLS).map(async (t) => {
      const props = (t.inputSchema as { properties?: Record<string, unknown> })?.properties;
      const tool: AnnouncedTool = {
        name: t.name,
        digest: await schemaDigest(t),
        params: props ? Object.keys(props).slice(0, 64) : [],
      };
      if (t.description) tool.description = t.description.slice(0, MAX_ANNOUNCED_DESCRIPTION);
      return tool;
    }),
  );
}

/**
 * Offer an MCP server's tools to the members of a meeting. Members see the tools in the
 * roster (see `meetingTools()`), and call them over their meeting links; nobody else can,
 * since meeting links exist only between members. Bad input to a tool gets an MCP error
 * from the server, never a crash.
 *
 * @param meeting The meeting to offer the tools to.
 * @param server An `McpServer` (or low-level `Server`) not connected to anything else.
 * @param options `allow` (per-tool peer id lists) and `maxConcurrentPerPeer`.
 * @returns The running offer; `close()` withdraws it.
 * @throws {MeetingClosedError} When the meeting has been left.
 * @throws {Error} When this meeting already has an offer (close it first).
 *
 * @example Offer a tool
 * ```ts ignore
 * import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
 * import { z } from "zod";
 * const server = new McpServer({ name: "translator", version: "1.0.0" });
 * server.registerTool("translate", { inputSchema: { text: z.string(), to: z.string() } },
 *   ({ text, to }) => ({ content: [{ type: "text", text: `${text} (${to})` }] }));
 * await using offer = await offerTools(meeting, server);
 * ```
 */
export async function offerTools(
  meeting: Meeting,
  server: ConnectableServer,
  options: OfferToolsOptions = {},
): Promise<ToolOffer> {
  if (meeting.left) throw new MeetingClosedError("Cannot offer tools: the meeting has been left");
  const hub = hubFor(meeting);
  if (hub.server) {
    throw new Error(
      "Cannot offer tools: this meeting already offers a server; close() that offer first " +
        "(one McpServer can hold any number of tools)",
    );
  }
  const transport = new MeetingServerTransport(hub, options);
  let tools: AnnouncedTool[] = [];
  let seq = Date.now() * 1000;
  let closed = false;
  const announceTo = (peerId: string) =>
    hub.send(peerId, {
      t: "offer",
      seq,
      tools: tools.filter((t) => transport.allowed(t.name, peerId)),
    }).catch(() => {});
  const announceAll = () => {
    for (const p of meeting.participants) announceTo(p.peerId);
  };
  const refresh = async () => {
    const listed: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await transport.localRequest("tools/list", cursor ? { cursor } : undefined) as {
        tools: Tool[];
        nextCursor?: string;
      };
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && listed.length < MAX_ANNOUNCED_TOOLS);
    tools = await _announce(listed);
    seq++;
    if (!closed) announceAll();
  };
  transport.onToolsChanged = () => void refresh().catch(() => {});
  hub.setServer({
    _receive: (from, name, envelope) => transport._receive(from, name, envelope),
    _peerJoined: (peerId) => void announceTo(peerId),
    _peerGone: (peerId) => transport._peerGone(peerId),
  });
  try {
    await server.connect(transport);
    await refresh();
  } catch (err) {
    hub.setServer(undefined);
    await transport.close();
    throw err;
  }
  const close = async () => {
    if (closed) return;
    closed = true;
    tools = [];
    seq++;
    await Promise.all(meeting.participants.map((p) => announceTo(p.peerId)));
    hub.setServer(undefined);
    await server.close();
    await transport.close();
  };
  return {
    get tools() {
      return tools;
    },
    refresh,
    close,
    [Symbol.asyncDispose]: close,
  };
}
