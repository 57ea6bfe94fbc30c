/**
 * What MCP sends over a meeting: JSON envelopes on one meeting channel, so MCP never mixes
 * with an application's messages (channel 0 by default) and needs no change to the meeting
 * protocol. Every envelope arrives from a member: meeting links exist only after both sides
 * proved they hold the code (src/membership.ts), so "who sent it" is the authenticated peer id
 * of the link, never a field of the envelope.
 *
 * @module
 */
import type { JSONRPCMessage } from "./_sdk.ts";

/**
 * The meeting channel MCP uses (0–255; applications use 0 unless they choose otherwise).
 * 0x4d is "M"; any fixed number works as long as every member uses the same one.
 */
export const MCP_CHANNEL = 0x4d;

/** Most tools one member announces (the rest are still callable by name through `connect()`). */
export const MAX_ANNOUNCED_TOOLS = 128;

/** Longest tool description carried in an announcement (characters). */
export const MAX_ANNOUNCED_DESCRIPTION = 280;

/** Longest MCP session id a peer may choose. */
const MAX_SESSION_ID = 64;

/** A tool as announced with its owner's roster entry. */
export interface AnnouncedTool {
  /** Tool name. */
  name: string;
  /** Description, cut to {@linkcode MAX_ANNOUNCED_DESCRIPTION} characters. */
  description?: string;
  /** First 16 hex digits of SHA-256 over the tool's input (and output) JSON schema. */
  digest: string;
  /** Names of the input schema's top-level properties (what the tool accepts). */
  params: string[];
}

/** An envelope on {@linkcode MCP_CHANNEL}. */
export type Envelope =
  /** A JSON-RPC message of one MCP session; `d` says whether the client or the server sent it. */
  | { t: "rpc"; s: string; d: "c2s" | "s2c"; m: JSONRPCMessage }
  /** The sender ends a session. */
  | { t: "close"; s: string; d: "c2s" | "s2c" }
  /** The sender's tool offer (the whole list; empty when it offers nothing any more). */
  | { t: "offer"; seq: number; tools: AnnouncedTool[] }
  /** Asks the receiver for its offer. */
  | { t: "query" };

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function _isSession(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_SESSION_ID;
}

function _tool(v: unknown): AnnouncedTool | undefined {
  if (!_isObject(v) || typeof v.name !== "string" || typeof v.digest !== "string") return;
  if (!Array.isArray(v.params) || !v.params.every((p) => typeof p === "string")) return;
  const tool: AnnouncedTool = {
    name: v.name.slice(0, 128),
    digest: v.digest.slice(0, 64),
    params: v.params.slice(0, 64),
  };
  if (typeof v.description === "string") {
    tool.description = v.description.slice(0, MAX_ANNOUNCED_DESCRIPTION);
  }
  return tool;
}

/**
 * Check an envelope received from a member. Anything else (a malformed or foreign message on
 * the channel) gives `undefined` and is dropped: a member's bug must not crash another.
 *
 * @param data The message as decoded by the meeting.
 * @returns The envelope, or `undefined` when it is not one.
 */
export function parseEnvelope(data: unknown): Envelope | undefined {
  if (!_isObject(data)) return;
  switch (data.t) {
    case "rpc":
      if (!_isSession(data.s) || (data.d !== "c2s" && data.d !== "s2c")) return;
      if (!_isObject(data.m) || data.m.jsonrpc !== "2.0") return;
      return { t: "rpc", s: data.s, d: data.d, m: data.m as unknown as JSONRPCMessage };
    case "close":
      if (!_isSession(data.s) || (data.d !== "c2s" && data.d !== "s2c")) return;
      return { t: "close", s: data.s, d: data.d };
    case "offer": {
      if (typeof data.seq !== "number" || !Array.isArray(data.tools)) return;
      const tools = data.tools.slice(0, MAX_ANNOUNCED_TOOLS).map(_tool);
      if (tools.some((t) => t === undefined)) return;
      return { t: "offer", seq: data.seq, tools: tools as AnnouncedTool[] };
    }
    case "query":
      return { t: "query" };
  }
}

function _canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_canonical);
  if (_isObject(value)) {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, _canonical(value[k])]),
    );
  }
  return value;
}

/**
 * The digest of a tool's schemas: equal digests mean equal input and output schemas, so a
 * caller can tell interchangeable tools from same-named different ones without calling.
 *
 * @param schemas `inputSchema` and `outputSchema` of the tool, as `tools/list` gives them.
 * @returns 16 hex digits.
 */
export async function schemaDigest(
  schemas: { inputSchema?: unknown; outputSchema?: unknown },
): Promise<string> {
  const text = JSON.stringify(
    _canonical({ in: schemas.inputSchema ?? null, out: schemas.outputSchema ?? null }),
  );
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return [...hash.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
