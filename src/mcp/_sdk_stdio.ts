/**
 * The SDK's stdio server transport (for `meshmeet mcp`), apart from `_sdk.ts` because it
 * reads `process.stdin`: only the CLI loads it. See `_sdk.ts` for why `@ts-types`.
 *
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
