// Run by webrtc_test.ts in its own process: prints the order of events around
// createOffer()/setLocalDescription() as one JSON line. node-datachannel keeps a native
// thread alive for a peer connection that never connected, so this process calls
// node-datachannel's cleanup() before it exits.
import { RTCPeerConnection } from "../../src/runtime/webrtc.ts";
import nodeDataChannel from "node-datachannel";

const pc = new RTCPeerConnection({ iceServers: [], bindAddress: "127.0.0.1" } as RTCConfiguration);
const order: string[] = [];
pc.addEventListener("icecandidate", (e) => {
  order.push((e as RTCPeerConnectionIceEvent).candidate ? "candidate" : "end");
});
pc.createDataChannel("init");
const offer = await pc.createOffer();
order.push("offer");
await new Promise((r) => setTimeout(r, 200)); // the native side gathers meanwhile
order.push("setLocalDescription");
await pc.setLocalDescription(offer);
order.push("set");
await new Promise((r) => setTimeout(r, 300));
pc.close();
console.log(JSON.stringify(order));
nodeDataChannel.cleanup();
