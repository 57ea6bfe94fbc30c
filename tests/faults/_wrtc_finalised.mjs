/**
 * Which `@roamhq/wrtc` objects the garbage collector ever finalises, on Deno and on Node:
 * 20 peer connections (each closed, with a data channel) and 20 media streams, then ten
 * garbage collections 100 ms apart. Plain JavaScript, so both runtimes run the same file:
 *
 *     deno run -A --v8-flags=--expose-gc tests/faults/_wrtc_finalised.mjs
 *     node --expose-gc tests/faults/_wrtc_finalised.mjs
 *
 * Node 20 and 24 finalise 19–20 of each; Deno 2.9.6 none, because its `napi_async_init` keeps the
 * async resource (here the object itself) alive: see `holdWebRtc()` in
 * `src/runtime/webrtc.ts`.
 */
import { createRequire } from "node:module";

const wrtc = createRequire(import.meta.url)("@roamhq/wrtc");
if (typeof globalThis.gc !== "function") throw new Error("run with --expose-gc");
const count = { pc: 0, dc: 0, stream: 0 };
const registry = new FinalizationRegistry((kind) => count[kind]++);
const n = 20;
// One connection stays open meanwhile, as in a meeting (the factory is not rebuilt).
const keeper = new wrtc.RTCPeerConnection({ iceServers: [] });
for (let i = 0; i < n; i++) {
  const stream = new wrtc.MediaStream();
  registry.register(stream, "stream");
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  registry.register(pc.createDataChannel("x"), "dc");
  registry.register(pc, "pc");
  pc.close();
}
for (let i = 0; i < 10; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  globalThis.gc();
}
console.log(
  JSON.stringify({ runtime: globalThis.Deno ? "deno" : "node", of: n, finalised: count }),
);
keeper.close();
