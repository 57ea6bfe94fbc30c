// The participant of _boot_exit_probe.ts: joins a meeting through the bootstrap node(s)
// given as arguments and leaves.
import { generateInvitationCode, joinMeeting } from "../../mod.ts";

const m = await joinMeeting(generateInvitationCode(), { name: "Ada", bootstrap: Deno.args });
await m.leave();
console.log("left");
