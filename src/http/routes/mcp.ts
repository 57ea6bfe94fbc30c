/**
 * `/mcp`: the agent tools of `meshmeet mcp` (participants, send, broadcast, recent_messages,
 * list_remote_tools, call_remote_tool) as MCP Streamable HTTP, behind the bearer token.
 * Each MCP session gets its own SDK server and transport (the SDK binds a server to one
 * transport); sessions end on DELETE, when the API closes, or when over the limit.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { AgentBridge } from "../../mcp/agent.ts";
import { WebStandardStreamableHTTPServerTransport } from "../../mcp/_sdk.ts";
import { type ApiContext, BEARER, errorResponses } from "../_context.ts";

/** Path of the MCP endpoint. */
export const MCP_PATH = "/mcp";

/** Most MCP sessions at once; the oldest is closed to make room. */
const MAX_SESSIONS = 32;

function _rpcError(status: number, message: string): Response {
  return Response.json(
    { jsonrpc: "2.0", error: { code: -32000, message }, id: null },
    { status },
  );
}

/** Register `/mcp` (all methods) on the control API app. */
export function mcpRoutes(app: OpenAPIHono, ctx: ApiContext): void {
  const bridge = new AgentBridge(() => {
    ctx.sync();
    return ctx.node.meetings.values();
  });
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  ctx.closer.signal.addEventListener("abort", () => {
    for (const t of sessions.values()) t.close().catch(() => {});
    sessions.clear();
    bridge.close().catch(() => {});
  }, { once: true });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: MCP_PATH,
    operationId: "mcp",
    tags: ["mcp"],
    summary: "MCP (Streamable HTTP) for AI clients",
    description: "JSON-RPC messages of the Model Context Protocol; GET opens the server's " +
      "event stream and DELETE ends a session (`Mcp-Session-Id` header). Tools: participants, " +
      "send, broadcast, recent_messages, list_remote_tools, call_remote_tool.",
    security: BEARER,
    responses: {
      200: { description: "A JSON-RPC response or an event stream" },
      ...errorResponses(400, 401, 403, 404),
    },
  });

  app.all(MCP_PATH, ctx.requireToken, async (c) => {
    const id = c.req.header("mcp-session-id");
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id) return _rpcError(404, "Session not found: start a new one with initialize");
      if (c.req.method !== "POST") {
        return _rpcError(400, "No session: POST an initialize request first");
      }
      const created = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (sid) => {
          sessions.set(sid, created);
          if (sessions.size > MAX_SESSIONS) {
            const [oldest] = sessions.keys();
            sessions.get(oldest)?.close().catch(() => {});
            sessions.delete(oldest);
          }
        },
        onsessionclosed: (sid) => void sessions.delete(sid),
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      await bridge.createServer().connect(created);
      transport = created;
      const response = await transport.handleRequest(c.req.raw);
      // Not an initialize request: no session was made, so nothing keeps this server.
      if (!transport.sessionId) await transport.close();
      return response;
    }
    return transport.handleRequest(c.req.raw);
  });
}
