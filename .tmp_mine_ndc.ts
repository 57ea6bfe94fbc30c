import { RTCPeerConnection } from "./src/runtime/webrtc.ts";
const gc = (globalThis as { gc?: () => void }).gc!;
for (let round = 1; round <= Number(Deno.args[0] ?? 30); round++) {
  const cfg = { iceServers: [], bindAddress: "127.0.0.1" } as RTCConfiguration;
  const a = new RTCPeerConnection(cfg), b = new RTCPeerConnection(cfg);
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => {});
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => {});
  const ch = a.createDataChannel("x");
  const got = new Promise<void>((res) => b.ondatachannel = (e) => e.channel.onmessage = () => res());
  ch.onopen = () => ch.send("hi");
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await got;
  a.close(); b.close();
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) gc();
  const m = Deno.memoryUsage();
  if (round % 5 === 0) console.log(JSON.stringify({ round, rssMB: +(m.rss / 2 ** 20).toFixed(1), heapMB: +(m.heapUsed / 2 ** 20).toFixed(1) }));
}
Deno.exit(0);
