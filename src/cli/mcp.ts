/**
 * `meshmeet mcp <code>`: join a meeting and serve it to a local AI client as an MCP server
 * over stdio (the client starts this command and talks JSON-RPC on its stdin/stdout).
 *
 * @module
 */
import { joinMeeting } from "../join_meeting.ts";
import { createLogger } from "../logger.ts";
import { env, onStdinEnd, writeStderr } from "../runtime/process.ts";
import { abortedOn, shutdownRequested } from "./shutdown.ts";
import { parseArgs, UsageError } from "./args.ts";

/** Usage of `meshmeet mcp`. */
export const MCP_USAGE = `meshmeet mcp <invitation code> --bootstrap <multiaddr> [options]

Join a meeting and serve it to a local AI client as an MCP server on stdin/stdout (the
stdio transport; the client starts this command). Tools: participants, send, broadcast,
recent_messages, list_remote_tools, call_remote_tool. stdout carries only MCP messages;
progress and logs go to stderr. The meeting is left when the client closes stdin, or on
SIGINT/SIGTERM.

Options:
  --name <name>            display name in the meeting (default "agent")
  --bootstrap <multiaddr>  bootstrap node (repeat or comma-separate)
  --stun <host:port>       STUN server (repeatable)
  --bind-address <ip>      keep WebRTC on this local address
  --buffer <n>             messages kept for recent_messages (default 200)

Example client configuration (Claude Desktop and others):
  { "command": "deno", "args": ["run", "-A", "jsr:@meshmeet/core/cli", "mcp", "<code>",
    "--name", "Claude", "--bootstrap", "<multiaddr>"] }`;

/**
 * Run `mcp` until the client disconnects or a shutdown signal.
 *
 * @param argv Arguments after `mcp`.
 * @returns Exit code.
 */
export async function mcp(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ["name", "bind-address", "buffer"],
    lists: ["bootstrap", "stun"],
  });
  if (args.positional.length !== 1) throw new UsageError("mcp needs exactly one invitation code");
  const bootstrap = args.lists.bootstrap ?? [];
  if (bootstrap.length === 0) throw new UsageError("mcp needs --bootstrap <multiaddr>");
  const bufferSize = Number(args.values.buffer ?? 200);
  if (!Number.isInteger(bufferSize) || bufferSize < 1 || bufferSize > 100_000) {
    throw new UsageError(`--buffer must be an integer from 1 to 100000, got ${args.values.buffer}`);
  }
  const shutdown = shutdownRequested();
  const debug = env("MESHMEET_DEBUG");
  writeStderr("joining…\n");
  const meeting = await joinMeeting(args.positional[0], {
    signal: abortedOn(shutdown),
    name: args.values.name ?? "agent",
    bootstrap,
    rtcConfiguration: {
      iceServers: (args.lists.stun ?? []).map((s) => ({ urls: `stun:${s}` })),
      ...(args.values["bind-address"] ? { bindAddress: args.values["bind-address"] } : {}),
    },
    logger: debug ? createLogger({ enabled: debug }) : undefined,
  });
  writeStderr(
    `joined meeting ${
      meeting.topicId.slice(0, 12)
    }… as ${meeting.self.name}; serving MCP on stdio\n`,
  );
  // Loaded here, not at the top: other commands need not load the MCP SDK.
  const [{ AgentBridge }, { StdioServerTransport }] = await Promise.all([
    import("../mcp/agent.ts"),
    import("../mcp/_sdk_stdio.ts"),
  ]);
  const bridge = new AgentBridge(meeting, { bufferSize });
  const server = bridge.createServer();
  const transport = new StdioServerTransport();
  const done = Promise.withResolvers<number>();
  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    await server.close().catch(() => {});
    await bridge.close().catch(() => {});
    await meeting.leave();
    writeStderr("left the meeting\n");
    done.resolve(0);
  };
  transport.onclose = () => void quit();
  void shutdown.then(() => quit());
  await server.connect(transport);
  // The SDK's stdio transport does not report the end of stdin; the stream's "end" does.
  onStdinEnd(() => void quit());
  return await done.promise;
}
