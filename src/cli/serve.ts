/**
 * `meshmeet serve`: run a bootstrap/relay/DHT server, optionally with the control API.
 *
 * @module
 */
import { startBootstrapNode } from "../bootstrap_node.ts";
import type { ControlApiServer, ControlNode } from "../http/mod.ts";
import { joinMeeting } from "../join_meeting.ts";
import { createLogger } from "../logger.ts";
import type { Meeting } from "../meeting.ts";
import { env } from "../runtime/process.ts";
import { holdWebRtc } from "../runtime/webrtc.ts";
import { shutdownRequested } from "./shutdown.ts";
import { parseArgs, UsageError } from "./args.ts";
import {
  HTTP_FLAGS,
  HTTP_LISTS,
  HTTP_VALUES,
  httpAddressOf,
  httpUsage,
  startHttp,
} from "./http.ts";
import { Output } from "./output.ts";
import { dnsaddrRecords } from "../bootstrap_list.ts";

/** Usage of `serve`. */
export const SERVE_USAGE = `meshmeet serve [options]

Run a bootstrap node: DHT server, circuit relay (signaling) and WebSocket/TCP listeners;
add --listen /ip4/0.0.0.0/udp/<port>/webrtc-direct for browsers on https pages.
Give the printed addresses to participants as their bootstrap list. With --http, also
serve the control API (status, DHT state, topic lookup, metrics; joins for local apps).

Options:
  --listen <multiaddr>   listen address, repeatable (default /ip4/127.0.0.1/tcp/0/ws and /tcp/0;
                         also /udp/<port>/webrtc-direct)
  --announce <multiaddr> address to announce instead, repeatable
  --peer <multiaddr>     another bootstrap node to join, repeatable
  --ice-server <url>     STUN/TURN server to advertise to participants, repeatable
                         (stun:host:port, turn:host:port?transport=udp)
  --ice-username <name>  username for the advertised TURN servers
  --ice-credential <pw>  credential for the advertised TURN servers
  --state-dir <dir>      keep the node's identity (its peer id, so its addresses and
                         /dnsaddr records) and WebRTC-Direct certificate here across
                         restarts (created if missing; default: new ones at every start)
  --dnsaddr <domain>     print the DNS TXT records that publish this node under
                         /dnsaddr/<domain> (default domain: bootstrap.example.org)
${httpUsage(23)}
  --json                 print JSON lines
  --help                 show this help

Environment: MESHMEET_DEBUG=meshmeet:* prints logs on stderr; MESHMEET_TOKEN sets the token.`;

function _iceServers(
  urls: string[],
  username: string | undefined,
  credential: string | undefined,
): RTCIceServer[] {
  return urls.map((url) => {
    if (!/^(stun|turn)s?:[^\s]+$/.test(url)) {
      throw new UsageError(
        `--ice-server ${JSON.stringify(url)} is not a stun:, stuns:, turn: or turns: URL`,
      );
    }
    return url.startsWith("turn") && username !== undefined
      ? { urls: url, username, credential }
      : { urls: url };
  });
}

/**
 * Run `serve` until SIGINT/SIGTERM.
 *
 * @param argv Arguments after `serve`.
 * @returns Exit code.
 */
export async function serve(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: [...HTTP_VALUES, "ice-username", "ice-credential", "dnsaddr", "state-dir"],
    lists: ["listen", "announce", "peer", "ice-server", ...HTTP_LISTS],
    flags: ["json", ...HTTP_FLAGS],
  });
  if (args.positional.length > 0) {
    throw new UsageError(`serve takes no arguments, got ${JSON.stringify(args.positional[0])}`);
  }
  const http = httpAddressOf(args);
  const iceServers = _iceServers(
    args.lists["ice-server"] ?? [],
    args.values["ice-username"],
    args.values["ice-credential"],
  );
  const out = new Output(args.flags.has("json"));
  const shutdown = shutdownRequested();
  const debug = env("MESHMEET_DEBUG");
  const logger = debug ? createLogger({ enabled: debug }) : undefined;
  const node = await startBootstrapNode({
    listen: args.lists.listen,
    announce: args.lists.announce,
    peers: args.lists.peer,
    iceServers,
    logger,
    stateDir: args.values["state-dir"],
  });
  out.event(
    "listening",
    `meshmeet bootstrap node ${node.peerId}\nBootstrap addresses:\n${
      node.addresses.map((a) => `  ${a}`).join("\n")
    }`,
    { peerId: node.peerId, addresses: node.addresses, stateDir: args.values["state-dir"] ?? null },
  );
  if (args.values["state-dir"] === undefined) {
    out.progress(
      "This node's identity is new and will be lost when it stops, and with it these addresses; " +
        "pass --state-dir <dir> to keep them across restarts.",
    );
  }
  // A deployment ships `/dnsaddr/<domain>` as its default list; these are its records.
  const domain = args.values.dnsaddr ?? "bootstrap.example.org";
  const records = dnsaddrRecords(domain, node.addresses);
  out.event(
    "dnsaddr",
    `To publish as /dnsaddr/${domain}, add these DNS TXT records:\n${
      records.map((r) => `  ${r}`).join("\n")
    }`,
    { domain, records },
  );
  const meetings = new Map<string, Meeting>();
  let server: ControlApiServer | undefined;
  // Meetings joined through the API come and go for as long as the server runs: one WebRTC
  // factory for all of them, from the first join on (see holdWebRtc(): on Deno every factory
  // rebuilt was leaked, 4 threads and 8 file descriptors per meeting left).
  let releaseWebRtc: (() => void) | undefined;
  if (http) {
    const registry: ControlNode = {
      bootstrap: node,
      meetings,
      join: (code, options) => {
        releaseWebRtc ??= holdWebRtc();
        return joinMeeting(code, {
          name: options.name,
          bootstrap: node.addresses,
          // A server's meetings go through its own DHT; it has no LAN neighbours to find.
          localDiscovery: false,
          signal: options.signal,
          logger,
        });
      },
    };
    try {
      server = await startHttp(registry, http, args, out, logger);
    } catch (err) {
      await node.stop();
      throw new Error(
        `Cannot serve the control API on ${http.hostname}:${http.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  await shutdown;
  await server?.close();
  await Promise.allSettled([...meetings.values()].map((m) => m.leave()));
  releaseWebRtc?.();
  await node.stop();
  out.event("stopped", "stopped");
  return 0;
}
