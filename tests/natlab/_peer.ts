// A participant for NAT lab scenarios, run inside a home namespace.
// Env: CONFIG = JSON { code, name, bootstrap, iceServers?, bindAddress?, allowRelay?,
// useBootstrapIceServers? }. Prints JSON lines (joined, peer:join, peer:leave,
// connection:state, connection:failed, message, sent). Standard input: "send <text>" sends
// to every participant and prints {"event":"sent",...}; "quit" leaves.
import { createLogger, joinMeeting } from "../../mod.ts";
import { stdinLines } from "../../src/runtime/process.ts";

const config = JSON.parse(Deno.env.get("CONFIG")!);
const print = (event: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ event, at: Date.now(), ...fields }));
const joinStartedAt = Date.now();
const meeting = await joinMeeting(config.code, {
  name: config.name,
  bootstrap: config.bootstrap,
  rtcConfiguration: {
    iceServers: config.iceServers ?? [],
    ...(config.bindAddress ? { bindAddress: config.bindAddress } : {}),
  },
  useBootstrapIceServers: config.useBootstrapIceServers ?? true,
  allowRelay: config.allowRelay ?? true,
  ...(config.overlay === false ? { overlay: false } : {}),
  logger: Deno.env.get("LOG") ? createLogger({ enabled: Deno.env.get("LOG") }) : undefined,
});
print("joined", {
  peerId: meeting.self.peerId,
  joinStartedAt,
  stun: meeting.self.stun,
  iceServers: meeting.self.iceServers.map((s) => s.urls),
  timings: meeting.stats.joinTimings,
});
meeting.addEventListener("peer:join", (e) => print("peer:join", { ...e.detail }));
meeting.addEventListener("peer:leave", (e) => print("peer:leave", { ...e.detail }));
meeting.addEventListener("connection:state", (e) => print("connection:state", { ...e.detail }));
meeting.addEventListener(
  "connection:failed",
  (e) => print("connection:failed", { peerId: e.detail.peerId, error: e.detail.error.message }),
);
meeting.addEventListener(
  "message",
  (e) => print("message", { from: e.detail.from, text: e.detail.text }),
);

for await (const line of stdinLines()) {
  if (line === "quit") {
    await meeting.leave();
    print("left", { stats: meeting.stats });
    Deno.exit(0);
  }
  if (line.startsWith("send ")) {
    const text = line.slice(5);
    const started = performance.now();
    // Not awaited: sends during a link cut stay pending until acknowledged (or fail).
    void Promise.all(meeting.participants.map((p) =>
      meeting.send(p.peerId, text).then(
        () => ({ peerId: p.peerId, ok: true }),
        (err) => ({ peerId: p.peerId, ok: false, error: `${err.name}: ${err.message}` }),
      )
    )).then((results) =>
      print("sent", { text, results, ms: Math.round(performance.now() - started) })
    );
  }
}
await meeting.leave();
Deno.exit(0);
