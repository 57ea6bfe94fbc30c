// Run by webrtc_test.ts in its own process: two participants meet over WebRTC through the
// bootstrap node given as the argument, exchange an acknowledged message and leave. It
// prints one JSON line and must then exit by itself (no Deno.exit()): nothing may keep the
// event loop alive.
import { generateInvitationCode, joinMeeting } from "../../mod.ts";

const t0 = performance.now();
const bootstrap = Deno.args;
const code = generateInvitationCode();
const rtc = { iceServers: [], bindAddress: "127.0.0.1" };
const [ada, bob] = await Promise.all(
  ["Ada", "Bob"].map((name) => joinMeeting(code, { name, bootstrap, rtcConfiguration: rtc })),
);
while (ada.participants.length < 1 || bob.participants.length < 1) {
  await new Promise((r) => setTimeout(r, 20));
}
await ada.send(ada.participants[0].peerId, "bye");
await ada.leave();
await bob.leave();
console.log(JSON.stringify({ acknowledged: true, doneAtMs: Math.round(performance.now() - t0) }));
