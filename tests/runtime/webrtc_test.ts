import { assert, assertEquals } from "@std/assert";
import { RTCPeerConnection as RawPeerConnection } from "node-datachannel/polyfill";
import {
  holdCandidatesUntilLocalDescription,
  RTCPeerConnection,
} from "../../src/runtime/webrtc.ts";

// Without the fix, node-datachannel under Deno fires `icecandidate` before `createOffer()`
// resolves, and @libp2p/webrtc then sends ICE_CANDIDATE before SDP_OFFER (every Deno dial
// failed). This test fails if the fix in src/runtime/webrtc.ts is removed.
Deno.test("RTCPeerConnection (node-datachannel) fires no icecandidate before setLocalDescription() resolved", async () => {
  const probe = new URL("./_candidate_order_probe.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const order: string[] = JSON.parse(new TextDecoder().decode(stdout).trim());
  const firstCandidate = order.indexOf("candidate");
  assert(firstCandidate >= 0, `no candidate at all: ${order.join(", ")}`);
  assert(
    firstCandidate > order.indexOf("set"),
    `a candidate came before setLocalDescription() resolved: ${order.join(", ")}`,
  );
});

Deno.test("holdCandidatesUntilLocalDescription() patches a class only once", () => {
  assertEquals(RTCPeerConnection as unknown, RawPeerConnection as unknown);
  assertEquals(holdCandidatesUntilLocalDescription(RawPeerConnection), false);
});
