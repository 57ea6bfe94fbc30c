/**
 * `meshmeet serve`: run a bootstrap/relay/DHT server.
 *
 * @module
 */
import { startBootstrapNode } from "../bootstrap_node.ts";
import { createLogger } from "../logger.ts";
import { env, onShutdownSignal } from "../runtime/process.ts";
import { parseArgs } from "./args.ts";
import { Output } from "./output.ts";

/** Usage of `serve`. */
export const SERVE_USAGE = `meshmeet serve [options]

Run a bootstrap node: DHT server, circuit relay (signaling) and WebSocket/TCP listeners.
Give the printed addresses to participants as their bootstrap list.

Options:
  --listen <multiaddr>   listen address, repeatable (default /ip4/127.0.0.1/tcp/0/ws and /tcp/0)
  --announce <multiaddr> address to announce instead, repeatable
  --peer <multiaddr>     another bootstrap node to join, repeatable
  --json                 print JSON lines
  --help                 show this help

Environment: MESHMEET_DEBUG=meshmeet:* prints logs on stderr.`;

/**
 * Run `serve` until SIGINT/SIGTERM.
 *
 * @param argv Arguments after `serve`.
 * @returns Exit code.
 */
export async function serve(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    lists: ["listen", "announce", "peer"],
    flags: ["json"],
  });
  const out = new Output(args.flags.has("json"));
  const debug = env("MESHMEET_DEBUG");
  const node = await startBootstrapNode({
    listen: args.lists.listen,
    announce: args.lists.announce,
    peers: args.lists.peer,
    logger: debug ? createLogger({ enabled: debug }) : undefined,
  });
  out.event(
    "listening",
    `meshmeet bootstrap node ${node.peerId}\nBootstrap addresses:\n${
      node.addresses.map((a) => `  ${a}`).join("\n")
    }`,
    { peerId: node.peerId, addresses: node.addresses },
  );
  await new Promise<void>((resolve) => onShutdownSignal(resolve));
  await node.stop();
  out.event("stopped", "stopped");
  return 0;
}
