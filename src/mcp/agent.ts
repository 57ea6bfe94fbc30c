/**
 * An AI client in a meeting: an MCP server whose tools act for this participant —
 * `participants`, `send`, `broadcast`, `recent_messages`, `list_remote_tools` and
 * `call_remote_tool`. `meshmeet mcp` serves it on stdio; the control API serves it as
 * Streamable HTTP at `/mcp`.
 *
 * Messages that arrive between the agent's calls are kept in a bounded buffer per meeting
 * (oldest dropped first, and counted), which `recent_messages` pages through by sequence
 * number.
 *
 * @module
 */
import { z } from "zod";
import type { Meeting, MessageDetail } from "../meeting.ts";
import type { MessageData } from "../message_codec.ts";
import {
  dataFromBody,
  findParticipant,
  messageView,
  participantBrief,
  selfView,
} from "../service/views.ts";
import { McpServer } from "./_sdk.ts";
import { type MeetingTools, meetingTools } from "./tools.ts";
import { MCP_CHANNEL } from "./wire.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** A buffered message, JSON-ready. */
export interface BufferedMessage {
  /** Sequence number in this buffer (1, 2, …). */
  seq: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** Sender's peer id. */
  from: string;
  /** Sender's name. */
  name: string;
  /** Channel. */
  channel: number;
  /** The content, when it was text. */
  text?: string;
  /** The content, when it was a JSON value. */
  json?: unknown;
  /** The content, when it was bytes (base64). */
  base64?: string;
}

/** The last messages of a meeting (bounded; see the module doc). */
export class MessageBuffer {
  readonly #size: number;
  readonly #items: BufferedMessage[] = [];
  #seq = 0;
  #dropped = 0;
  readonly #meeting: Meeting;
  readonly #onMessage = (e: CustomEvent<MessageDetail>) => {
    if (e.detail.channel === MCP_CHANNEL) return;
    this.#items.push({ seq: ++this.#seq, at: Date.now(), ...messageView(e.detail) });
    if (this.#items.length > this.#size) {
      this.#items.shift();
      this.#dropped++;
    }
  };

  /**
   * Start keeping a meeting's messages.
   *
   * @param meeting The meeting.
   * @param size Most messages kept.
   */
  constructor(meeting: Meeting, size = 200) {
    this.#meeting = meeting;
    this.#size = size;
    meeting.addEventListener("message", this.#onMessage);
  }

  /**
   * Messages after `since` (a sequence number), oldest first.
   *
   * @param since Only messages with a higher sequence number.
   * @param limit Most messages returned.
   * @returns The messages, the sequence number to pass next time, and how many were dropped.
   */
  read(since = 0, limit = 50): { messages: BufferedMessage[]; next: number; dropped: number } {
    const messages = this.#items.filter((m) => m.seq > since).slice(0, limit);
    return {
      messages,
      next: messages.at(-1)?.seq ?? Math.max(since, this.#seq),
      dropped: this.#dropped,
    };
  }

  /** Stop listening. */
  close(): void {
    this.#meeting.removeEventListener("message", this.#onMessage);
  }
}

/** Options of {@linkcode AgentBridge}. */
export interface AgentBridgeOptions {
  /**
   * Most messages kept per meeting for `recent_messages`.
   * @default {200}
   */
  bufferSize?: number;
}

const json = (value: unknown) => ({
  content: [{ type: "text" as const, text: JSON.stringify(value, null, 2) }],
});
const fail = (message: string) => ({
  content: [{ type: "text" as const, text: message }],
  isError: true,
});

/**
 * The agent side of one process's meetings: message buffers and remote-tool views per
 * meeting, and a factory of MCP servers exposing them (one server per MCP session, since the
 * SDK binds a server to one transport).
 */
export class AgentBridge {
  readonly #source: () => Iterable<Meeting>;
  readonly #bufferSize: number;
  readonly #state = new Map<Meeting, { buffer: MessageBuffer; tools: MeetingTools }>();

  /**
   * Create the bridge.
   *
   * @param source One meeting (buffered from now on), or a function giving the meetings of
   * this process (looked at on each use).
   * @param options Buffer size.
   */
  constructor(source: Meeting | (() => Iterable<Meeting>), options: AgentBridgeOptions = {}) {
    this.#source = typeof source === "function" ? source : () => [source];
    this.#bufferSize = options.bufferSize ?? 200;
    // One meeting: keep its messages from now on. A function: start on first use, so making
    // a control API sends nothing into its meetings.
    if (typeof source !== "function") this.#meetings();
  }

  #meetings(): Meeting[] {
    const live = [...this.#source()].filter((m) => !m.left);
    for (const m of live) {
      if (!this.#state.has(m)) {
        this.#state.set(m, {
          buffer: new MessageBuffer(m, this.#bufferSize),
          tools: meetingTools(m),
        });
      }
    }
    for (const [m, s] of this.#state) {
      if (m.left) {
        s.buffer.close();
        s.tools.close().catch(() => {});
        this.#state.delete(m);
      }
    }
    return live;
  }

  #pick(topicId: string | undefined): Meeting {
    const meetings = this.#meetings();
    if (topicId !== undefined) {
      const m = meetings.find((x) => x.topicId === topicId);
      if (!m) throw new Error(`Not in a meeting with topic id ${topicId.slice(0, 12)}…`);
      return m;
    }
    if (meetings.length === 1) return meetings[0];
    throw new Error(
      meetings.length === 0
        ? "This node is in no meeting; join one first"
        : `This node is in ${meetings.length} meetings; pass topicId (see participants)`,
    );
  }

  /**
   * A new MCP server with the agent tools (connect it to one transport).
   *
   * @returns The server.
   */
  createServer(): McpServer {
    const server = new McpServer({ name: "meshmeet", version: denoJson.version }, {
      instructions: "You are a participant of a meshmeet meeting. Use participants to see who " +
        "is there, send/broadcast to talk, recent_messages to read what arrived, and " +
        "list_remote_tools/call_remote_tool to use tools other participants offer.",
    });
    const topicId = z.string().regex(/^[0-9a-f]{64}$/).optional()
      .describe("Topic id of the meeting; needed only when this node is in several");
    const content = {
      text: z.string().max(100_000).optional().describe("Text to send"),
      json: z.unknown().optional().describe("A JSON value to send (when no text)"),
      channel: z.number().int().min(0).max(255).optional()
        .describe("Application channel (default 0)"),
    };
    const body = (args: { text?: string; json?: unknown }): MessageData | undefined =>
      args.text === undefined && args.json === undefined ? undefined : dataFromBody(args);

    server.registerTool("participants", {
      description: "Who is in the meeting: this participant and everyone connected, with " +
        "connection path and round-trip time",
      inputSchema: { topicId },
    }, ({ topicId }) => {
      const meeting = this.#pick(topicId);
      return json({
        topicId: meeting.topicId,
        self: selfView(meeting.self),
        participants: meeting.participants.map(participantBrief),
      });
    });

    server.registerTool("send", {
      description: "Send a message to one participant (peer id or unique name); answers when " +
        "it acknowledged receipt",
      inputSchema: { to: z.string().min(1).describe("Peer id or name"), ...content, topicId },
    }, async (args) => {
      const meeting = this.#pick(args.topicId);
      const data = body(args);
      if (data === undefined) return fail("Nothing to send: give text or json");
      const found = findParticipant(meeting, args.to);
      if ("error" in found) return fail(found.message);
      await meeting.send(found.participant.peerId, data, { channel: args.channel ?? 0 });
      return json({ delivered: [found.participant.peerId], to: found.participant.name });
    });

    server.registerTool("broadcast", {
      description: "Send a message to everyone in the meeting; answers who acknowledged and " +
        "who failed",
      inputSchema: { ...content, topicId },
    }, async (args) => {
      const meeting = this.#pick(args.topicId);
      const data = body(args);
      if (data === undefined) return fail("Nothing to send: give text or json");
      const { delivered, failed } = await meeting.broadcast(data, { channel: args.channel ?? 0 });
      return json({
        delivered,
        failed: failed.map((f) => ({ peerId: f.peerId, error: f.error.message })),
      });
    });

    server.registerTool("recent_messages", {
      description: "Messages received since `since` (a sequence number from the previous " +
        "answer's `next`), oldest first. The buffer is bounded; `dropped` counts lost ones.",
      inputSchema: {
        since: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(200).optional(),
        topicId,
      },
    }, ({ since, limit, topicId }) => {
      const meeting = this.#pick(topicId);
      return json(this.#state.get(meeting)!.buffer.read(since, limit));
    });

    server.registerTool("list_remote_tools", {
      description: "Tools other participants offer (from the roster, without calling " +
        "anyone): name, description, parameters, schema digest, who offers it, RTT",
      inputSchema: {
        name: z.string().optional().describe("Only this tool"),
        accepts: z.array(z.string()).optional().describe("Only tools with these parameters"),
        topicId,
      },
    }, ({ name, accepts, topicId }) => {
      const meeting = this.#pick(topicId);
      return json(this.#state.get(meeting)!.tools.filter({ name, accepts }));
    });

    server.registerTool("call_remote_tool", {
      description: "Call a tool another participant offers. Goes to the nearest offering " +
        "participant and fails over to the others; says who answered.",
      inputSchema: {
        name: z.string().min(1).describe("Tool name"),
        arguments: z.record(z.string(), z.unknown()).optional().describe("Tool arguments"),
        peerId: z.string().optional().describe("Only this participant"),
        timeoutMs: z.number().int().min(100).max(300_000).optional(),
        topicId,
      },
    }, async (args, extra) => {
      const meeting = this.#pick(args.topicId);
      const outcome = await this.#state.get(meeting)!.tools.call(args.name, args.arguments ?? {}, {
        peerId: args.peerId,
        timeoutMs: args.timeoutMs,
        signal: extra.signal,
      });
      return {
        ...outcome.result,
        content: [
          ...(outcome.result.content ?? []),
          {
            type: "text" as const,
            text: `answered by ${outcome.memberName} (${outcome.peerId}) in ` +
              `${outcome.ms.toFixed(0)} ms` +
              (outcome.attempts.length
                ? `, after ${outcome.attempts.length} failed attempt(s)`
                : ""),
          },
        ],
      };
    });
    return server;
  }

  /** Stop buffering and close the remote-tool clients. */
  async close(): Promise<void> {
    const states = [...this.#state.values()];
    this.#state.clear();
    for (const s of states) s.buffer.close();
    await Promise.all(states.map((s) => s.tools.close()));
  }
}
