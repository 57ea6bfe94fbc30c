/**
 * A process holding several members of one meeting, for the multi-process overlay test
 * (and the 6b re-run). Driven by lines on stdin, answers as JSON lines on stdout:
 *
 *   status                 → {"type":"status","members":[{peerId,name,roster,neighbours,received}]}
 *   diag <i>               → member i's counters and its last 150 meshmeet log lines
 *   broadcast <i> <text>   → member i broadcasts text (channel 9); {"type":"sent","id":…}
 *   leave                  → every member leaves; {"type":"left"}; the process exits
 *
 * Usage: deno run -A _member_process.ts <code> <bootstrap addrs JSON> <prefix> <count> <overlay JSON>
 */
import { createLogger, joinMeeting, type Meeting } from "../../mod.ts";
import { LOOPBACK_RTC } from "../integration/_harness.ts";

const [code, bootJson, prefix, countText, overlayJson] = Deno.args;
const bootstrap = JSON.parse(bootJson) as string[];
const overlay = JSON.parse(overlayJson);
const out = (o: unknown) => console.log(JSON.stringify(o));

const members: Meeting[] = [];
const received = new Map<Meeting, string[]>();
// Each member's last meshmeet log lines, for a failing test to show (`diag`).
const logs: string[][] = [];
for (let i = 0; i < Number(countText); i++) {
  const lines: string[] = [];
  logs.push(lines);
  const logger = createLogger({
    sink: (line) => {
      lines.push(line);
      if (lines.length > 300) lines.splice(0, 150);
    },
  });
  const m = await joinMeeting(code, {
    logger,
    bootstrap,
    name: `${prefix}${i}`,
    rtcConfiguration: LOOPBACK_RTC,
    dialTimeoutMs: 15_000,
    overlay,
    localDiscovery: false,
  });
  const got: string[] = [];
  received.set(m, got);
  m.addEventListener("message", (e) => {
    if (e.detail.channel === 9) got.push(String(e.detail.data));
  });
  members.push(m);
}
out({ type: "ready", peerIds: members.map((m) => m.self.peerId) });

const decoder = new TextDecoder();
let buffered = "";
for await (const chunk of Deno.stdin.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let nl;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    const [cmd, arg, ...rest] = line.split(" ");
    if (cmd === "status") {
      out({
        type: "status",
        members: members.map((m) => ({
          peerId: m.self.peerId,
          name: m.self.name,
          roster: m.participants.map((p) => p.peerId),
          neighbours: m.neighbours.length,
          received: received.get(m),
        })),
      });
    } else if (cmd === "diag") {
      const m = members[Number(arg)];
      out({
        type: "diag",
        name: m.self.name,
        stats: m.stats,
        overlay: m.overlayNode?.stats,
        connections: m.libp2p.getConnections().map((c) => ({
          peer: c.remotePeer.toString(),
          status: c.status,
          limited: c.limits !== undefined,
          ageS: Math.round((Date.now() - c.timeline.open) / 1000),
          streams: c.streams.map((st) => `${st.protocol ?? "?"} ${st.direction} ${st.status}`),
        })),
        dialQueue: m.libp2p.getDialQueue().map((d) => ({
          peer: d.peerId?.toString(),
          status: d.status,
          addrs: d.multiaddrs.length,
        })),
        addresses: m.self.addresses,
        log: logs[Number(arg)].slice(-150),
      });
    } else if (cmd === "broadcast") {
      const r = await members[Number(arg)].broadcast(rest.join(" "), { channel: 9 });
      out({ type: "sent", id: r.id ?? null, delivered: r.delivered.length });
    } else if (cmd === "leave") {
      await Promise.allSettled(members.map((m) => m.leave()));
      out({ type: "left" });
      Deno.exit(0);
    }
  }
}
