#!/usr/bin/env node
// A meshmeet participant on Node, using the npm package:
//
//   npm install meshmeet
//   node node_peer.mjs --code <invitation code> --bootstrap <multiaddr> [--name Nora]
//
// It joins the meeting, waits for the first other participant, sends it a greeting (and
// waits for the acknowledgement), waits for a message back, then leaves. Any peer of the
// meeting can answer: a Deno peer (`deno task meshmeet join <code> ...`), another Node
// peer, or a browser page (examples/browser/). `build_npm.ts` runs this file from the
// packed tarball against a Deno peer. Options: --bind-address 127.0.0.1 keeps WebRTC on
// one interface; --json prints a summary line; --timeout <ms> (default 60000).
import { joinMeeting } from "meshmeet";
import process from "node:process";

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const code = option("code", process.env.MESHMEET_CODE);
const bootstrap = option("bootstrap", process.env.MESHMEET_BOOTSTRAP);
const name = option("name", "Nora");
const bindAddress = option("bind-address", undefined);
const timeoutMs = Number(option("timeout", "60000"));
const json = process.argv.includes("--json");
if (!code || !bootstrap) {
  console.error("usage: node node_peer.mjs --code <invitation code> --bootstrap <multiaddr>");
  process.exit(2);
}

const started = performance.now();
const say = (line) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(2)}s] ${line}`);
const signal = AbortSignal.timeout(timeoutMs);

/** Resolve with the first event of `type` on `target`, or reject when `signal` aborts. */
function once(target, type) {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      target.removeEventListener(type, onEvent);
      reject(new Error(`no "${type}" within ${timeoutMs} ms`));
    };
    const onEvent = (e) => {
      signal.removeEventListener("abort", onAbort);
      resolve(e.detail);
    };
    target.addEventListener(type, onEvent, { once: true });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const meeting = await joinMeeting(code, {
  name,
  bootstrap: [bootstrap],
  rtcConfiguration: bindAddress ? { iceServers: [], bindAddress } : { iceServers: [] },
});
let exitCode = 1;
const summary = { ok: false, node: process.version, peerId: meeting.self.peerId };
try {
  say(`joined as ${name} (${meeting.self.peerId}), topic ${meeting.topicId.slice(0, 12)}…`);
  const firstMessage = once(meeting, "message");
  firstMessage.catch(() => {});
  const peer = meeting.participants[0] ?? await once(meeting, "peer:join");
  say(
    `${peer.name} is here: ${peer.path} (${
      peer.connectedAt - peer.discoveredAt
    } ms after discovery)`,
  );
  const t = performance.now();
  await meeting.send(peer.peerId, `hello from Node ${process.version}`);
  summary.ackMs = Math.round(performance.now() - t);
  say(`greeting acknowledged by ${peer.name} in ${summary.ackMs} ms`);
  const message = await firstMessage;
  say(`${message.name} says: ${message.text}`);
  Object.assign(summary, {
    ok: true,
    peer: peer.name,
    path: peer.path,
    connectMs: peer.connectedAt - peer.discoveredAt,
    received: message.text,
  });
  exitCode = 0;
} catch (err) {
  summary.error = err.message;
  say(`failed: ${err.message}`);
} finally {
  await meeting.leave();
}
if (json) console.log(JSON.stringify(summary));
process.exit(exitCode);
