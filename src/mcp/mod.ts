/**
 * MCP tools in a meeting (`@meshmeet/core/mcp`, npm `meshmeet/mcp`): every member can offer
 * the tools of an MCP server (the official TypeScript SDK's `McpServer`) to the meeting and
 * call the others' tools over its meeting links. Offers travel with the roster, so members see
 * who offers what without calling anyone; calls go to the nearest offering member and fail
 * over to the next. Only members reach the tools: meeting links exist only after the
 * membership proof.
 *
 * @example Offer a tool in one meeting and call it from another member
 * ```ts ignore
 * import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
 * import { z } from "zod";
 * import { meetingTools, offerTools } from "@meshmeet/core/mcp";
 *
 * const server = new McpServer({ name: "translator", version: "1.0.0" });
 * server.registerTool("translate", { inputSchema: { text: z.string(), to: z.string() } },
 *   ({ text, to }) => ({ content: [{ type: "text", text: `${text} → ${to}` }] }));
 * await offerTools(ada, server);
 *
 * const tools = meetingTools(bob);
 * await tools.waitFor("translate");
 * const { result, memberName } = await tools.call("translate", { text: "hallo", to: "en" });
 * const client = await tools.connect(ada.self.peerId); // a plain SDK Client
 * ```
 *
 * @module
 */
export {
  type AnnouncedTool,
  MAX_ANNOUNCED_DESCRIPTION,
  MAX_ANNOUNCED_TOOLS,
  MCP_CHANNEL,
  schemaDigest,
} from "./wire.ts";
export { MeetingClientTransport } from "./transport.ts";
export {
  type ConnectableServer,
  offerTools,
  type OfferToolsOptions,
  type ToolAllowList,
  type ToolOffer,
} from "./offer.ts";
export {
  type CallOptions,
  MeetingTools,
  meetingTools,
  type OfferedTool,
  type ToolCallOutcome,
  type ToolFilter,
} from "./tools.ts";
export { ToolCallError, ToolNotFoundError } from "../errors.ts";
// The SDK's classes and types this module's API uses, re-exported so Deno users get their
// types (see src/mcp/_sdk.ts) and need no second import for the basics.
export { Client, McpServer } from "./_sdk.ts";
export type {
  CallToolResult,
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from "./_sdk.ts";
export {
  AgentBridge,
  type AgentBridgeOptions,
  type BufferedMessage,
  MessageBuffer,
} from "./agent.ts";
