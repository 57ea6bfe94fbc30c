/**
 * The newcomer of `cold_join.ts`, run in a fresh process: joins the meeting, sends the member
 * one message and prints one JSON line (ms from calling `joinMeeting()`).
 *
 * `deno run -A bench/probes/_cold_newcomer.ts <root of a meshmeet tree> <bootstrap> <code> <member>`
 *
 * @module
 */
const [root, bootstrap, code, member] = Deno.args;
const { joinMeeting } = await import(new URL("mod.ts", `file://${root}/`).href);
await new Promise((r) => setTimeout(r, 300)); // module loading is not what is timed
const t0 = performance.now();
const meeting = await joinMeeting(code, {
  bootstrap: [bootstrap],
  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
  name: "B",
});
const joinedMs = performance.now() - t0;
while (!meeting.participants.some((p: { peerId: string }) => p.peerId === member)) {
  await new Promise((r) => setTimeout(r, 1));
}
await meeting.send(member, "x");
const ackMs = performance.now() - t0;
console.log(JSON.stringify({ ackMs, joinedMs, steps: meeting.stats.joinTimings }));
await meeting.leave();
