/**
 * Worker: the libwebrtc limit. Two raw `@roamhq/wrtc` RTCPeerConnections in this process
 * (the class meshmeet uses on Deno/Node), SDP and candidates handed over directly (no DHT,
 * no relay, no signaling protocol): time from creating them to the first message echoed
 * back. Only host candidates on 127.0.0.1 are handed over, as meshmeet's own signaling
 * does with `bindAddress: "127.0.0.1"` in the bench.
 *
 * Ops: `round` -> { ok, ms, marks, pair }.
 *
 * @module
 */
import { RTCPeerConnection } from "../../src/runtime/webrtc.ts";
import { candidateAllowed } from "../../src/connect/signaling.ts";
import { serve } from "./_serve.ts";

const BIND = "127.0.0.1";

/** Hand b's local candidates to a (after a has its remote description). */
function trickle(from: RTCPeerConnection, to: RTCPeerConnection, haveRemote: () => boolean) {
  const held: RTCIceCandidateInit[] = [];
  from.onicecandidate = (e) => {
    const c = e.candidate;
    if (!c || !c.candidate || !candidateAllowed(c.candidate, BIND)) return;
    const init = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
    if (haveRemote()) to.addIceCandidate(init).catch(() => {});
    else held.push(init);
  };
  return () => {
    for (const c of held.splice(0)) to.addIceCandidate(c).catch(() => {});
  };
}

async function round() {
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const mark = (k: string) => marks[k] ??= performance.now() - t0;
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  let aRemote = false, bRemote = false;
  const flushToB = trickle(a, b, () => bRemote);
  const flushToA = trickle(b, a, () => aRemote);
  a.oniceconnectionstatechange = () => {
    if (a.iceConnectionState === "connected") mark("offererIceConnected");
  };
  a.onconnectionstatechange = () => {
    if (a.connectionState === "connected") mark("connected");
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const echoed = new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("raw libwebrtc round timed out")), 10_000);
      b.ondatachannel = (e) => {
        const ch = e.channel;
        ch.onmessage = (m) => ch.send(m.data);
      };
      const dc = a.createDataChannel("x");
      dc.onopen = () => {
        mark("open");
        dc.send("x");
      };
      dc.onmessage = () => resolve(performance.now() - t0);
    });
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    bRemote = true;
    flushToB();
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    aRemote = true;
    flushToA();
    const ms = await echoed;
    return { ok: true, ms, marks };
  } finally {
    clearTimeout(timer);
    a.close();
    b.close();
  }
}

await serve({ round: () => round() });
