/**
 * `meshmeet join <code>`: join a meeting from a terminal.
 *
 * Standard input: a line of text is broadcast; `/to <name or peer id> <text>` sends to
 * one participant; `/peers` lists the participants; `/quit` leaves.
 *
 * @module
 */
import type { ControlApiServer } from "../http/mod.ts";
import { joinMeeting, type JoinMeetingOptions } from "../join_meeting.ts";
import { createLogger } from "../logger.ts";
import type { Meeting } from "../meeting.ts";
import { findParticipant, participantBrief } from "../service/views.ts";
import { env, stdinLines } from "../runtime/process.ts";
import { holdWebRtc } from "../runtime/webrtc.ts";
import { abortedOn, shutdownRequested } from "./shutdown.ts";
import { parseArgs, UsageError } from "./args.ts";
import { BOOTSTRAP_ENV, parseBootstrapList } from "../bootstrap_list.ts";
import {
  HTTP_FLAGS,
  HTTP_LISTS,
  HTTP_VALUES,
  httpAddressOf,
  httpUsage,
  startHttp,
} from "./http.ts";
import { elapsed, Output } from "./output.ts";

/** Usage of `join`. */
export const JOIN_USAGE = `meshmeet join <invitation code> [--bootstrap <multiaddr>] [options]

Join a meeting. Type a line to send it to everyone, "/to <name> <text>" to send it to one
participant, "/peers" to list participants, "/quit" to leave.

Options:
  --bootstrap <multiaddr>  bootstrap node address or /dnsaddr/<domain>, repeatable
                           (default: $MESHMEET_BOOTSTRAP; none: meet on the LAN only)
  --no-local               no local discovery (mDNS); then a bootstrap list is required
  --findable               publish this node's addresses under its peer id in the DHT
                           (\`meshmeet lookup --peer <id>\` finds it)
  --name <name>            your display name
  --stun <host:port>       STUN server, repeatable
  --bind-address <ip>      keep WebRTC on one local address (e.g. 127.0.0.1)
${httpUsage(25)}
  --json                   print JSON lines (events) instead of text
  --help                   show this help

The meeting is left on /quit, SIGINT, SIGTERM, or DELETE /meetings/<topic id> on the API.
Environment: MESHMEET_BOOTSTRAP is the bootstrap list when --bootstrap is not given
(multiaddrs separated by commas or spaces); MESHMEET_DEBUG=meshmeet:* prints logs on
stderr (never the code or keys); MESHMEET_TOKEN sets the API token.`;

/**
 * Run `join` until `/quit`, SIGINT or SIGTERM.
 *
 * @param argv Arguments after `join`.
 * @returns Exit code.
 */
export async function join(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    values: ["name", "bind-address", ...HTTP_VALUES],
    lists: ["bootstrap", "stun", ...HTTP_LISTS],
    flags: ["json", "no-local", "findable", ...HTTP_FLAGS],
  });
  if (args.positional.length !== 1) throw new UsageError("join needs exactly one invitation code");
  const bootstrap = args.lists.bootstrap ?? parseBootstrapList(env(BOOTSTRAP_ENV));
  if (bootstrap.length === 0 && args.flags.has("no-local")) {
    throw new UsageError(
      `join --no-local needs --bootstrap <multiaddr> (or ${BOOTSTRAP_ENV})`,
    );
  }
  const http = httpAddressOf(args);
  const out = new Output(args.flags.has("json"));
  const shutdown = shutdownRequested();
  const debug = env("MESHMEET_DEBUG");
  const logger = debug ? createLogger({ enabled: debug }) : undefined;
  out.progress("joining…");
  const joinStartedAt = Date.now();
  const iceServers = (args.lists.stun ?? []).map((s) => ({ urls: `stun:${s}` }));
  const joinOptions: JoinMeetingOptions = {
    name: args.values.name ?? "",
    bootstrap,
    ...(args.flags.has("no-local") ? { localDiscovery: false } : {}),
    ...(args.flags.has("findable") ? { findable: true } : {}),
    rtcConfiguration: {
      iceServers,
      ...(args.values["bind-address"] ? { bindAddress: args.values["bind-address"] } : {}),
    },
    logger,
  };
  const meeting = await joinMeeting(args.positional[0], {
    ...joinOptions,
    signal: abortedOn(shutdown),
  });
  const self = meeting.self;
  out.event(
    "joined",
    `joined meeting ${meeting.topicId.slice(0, 12)}… as ${self.name || self.peerId}`,
    {
      peerId: self.peerId,
      name: self.name,
      topicId: meeting.topicId,
      joinStartedAt,
      timings: meeting.stats.joinTimings,
    },
  );
  meeting.addEventListener("peer:join", (e) => {
    const p = e.detail;
    out.event(
      "peer:join",
      `+ ${p.name || p.peerId} joined (${p.path}, ${p.selectedCandidatePair?.local.type ?? "?"}` +
        `/${p.selectedCandidatePair?.remote.type ?? "?"}, ${p.connectedAt - p.discoveredAt} ms)`,
      participantBrief(p),
    );
  });
  meeting.addEventListener("peer:leave", (e) => {
    out.event("peer:leave", `- ${e.detail.name || e.detail.peerId} left (${e.detail.reason})`, {
      ...e.detail,
    });
  });
  meeting.addEventListener("message", (e) => {
    const d = e.detail;
    const text = d.text ?? JSON.stringify(d.data);
    out.event("message", `${d.name || d.from}: ${text}`, { from: d.from, name: d.name, text });
  });
  meeting.addEventListener("handshake:failed", (e) => {
    out.event("handshake:failed", `! ${e.detail.peerId} failed the handshake`, {
      peerId: e.detail.peerId,
      error: e.detail.error.message,
    });
  });

  // With --http, local applications see this meeting (and may join more) through the API.
  const meetings = new Map<string, Meeting>([[meeting.topicId, meeting]]);
  let server: ControlApiServer | undefined;
  // Meetings joined and left through the API (this one too) share one WebRTC factory for as
  // long as the API serves (see holdWebRtc(): on Deno every factory rebuilt was leaked).
  const releaseWebRtc = http ? holdWebRtc() : undefined;
  if (http) {
    try {
      server = await startHttp(
        {
          meetings,
          join: (code, options) =>
            joinMeeting(code, {
              ...joinOptions,
              name: options.name ?? joinOptions.name,
              signal: options.signal,
            }),
        },
        http,
        args,
        out,
        logger,
      );
    } catch (err) {
      await meeting.leave();
      releaseWebRtc?.();
      throw new Error(
        `Cannot serve the control API on ${http.hostname}:${http.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  let quitting: Promise<number> | undefined;
  const quit = () =>
    quitting ??= (async () => {
      await server?.close();
      await Promise.allSettled([meeting, ...meetings.values()].map((m) => m.leave()));
      releaseWebRtc?.();
      out.event("left", "left the meeting", { stats: meeting.stats });
      return 0;
    })();
  void shutdown.then(() => quit());

  const input = (async () => {
    for await (const line of stdinLines()) {
      if (quitting) break;
      const text = line.trim();
      if (text.length === 0) continue;
      if (text === "/quit") break;
      if (text === "/peers") {
        out.event(
          "peers",
          meeting.participants.map((p) => `${p.name || p.peerId} ${p.state} ${p.path}`).join(
            "\n",
          ) ||
            "(nobody yet)",
          { participants: meeting.participants.map(participantBrief) },
        );
        continue;
      }
      const started = performance.now();
      if (text.startsWith("/to ")) {
        const [, who, ...rest] = text.split(" ");
        const found = findParticipant(meeting, who);
        if ("error" in found) {
          out.event("error", found.message, { error: found.message });
          continue;
        }
        const target = found.participant;
        try {
          await meeting.send(target.peerId, rest.join(" "));
          out.event("sent", `(delivered to ${target.name || target.peerId})`, {
            delivered: [target.peerId],
            failed: [],
            ms: performance.now() - started,
          });
        } catch (err) {
          out.event("error", `not delivered: ${(err as Error).message}`, {
            error: (err as Error).message,
          });
        }
        continue;
      }
      const { delivered, failed } = await meeting.broadcast(text);
      out.event("sent", `(delivered to ${delivered.length}, failed ${failed.length})`, {
        delivered,
        failed: failed.map((f) => ({ peerId: f.peerId, error: f.error.message })),
        ms: performance.now() - started,
        at: elapsed(),
      });
    }
  })();
  // stdin closing does not leave the meeting (it may run in the background); /quit does.
  input.then(() => void quit(), () => {});
  return await new Promise<number>((resolve) => {
    const wait = () => {
      if (meeting.left) void quit(); // e.g. left through the control API
      if (quitting) quitting.then(resolve);
      else setTimeout(wait, 50);
    };
    wait();
  });
}
