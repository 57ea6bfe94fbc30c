/**
 * The parts of the official MCP TypeScript SDK meshmeet uses, in one place.
 *
 * Why a re-export module: the SDK's subpath exports (`"./*": { "types": "./dist/esm/*.d.ts" }`)
 * map `server/mcp.js` to `dist/esm/server/mcp.js.d.ts`, which does not exist, so Deno's type
 * checker sees `any` for every SDK import written the usual way (tsc and Node resolve it).
 * `@ts-types` points Deno at the right declarations; the runtime imports stay the usual ones,
 * so the npm build imports `@modelcontextprotocol/sdk/server/mcp.js` as every SDK user does.
 *
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
export { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/client/index"
export { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
export { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
export { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
// @ts-types="@modelcontextprotocol/sdk/types"
export type {
  CallToolResult,
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
export type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
