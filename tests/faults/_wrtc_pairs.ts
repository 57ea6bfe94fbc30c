/**
 * A bare `@roamhq/wrtc` loop, without meshmeet: create two peer connections, connect them
 * with a data channel, echo one message, close them; prints RSS, the V8 heap after GC and
 * how many peer connections were finalised, every `--every` pairs, as JSON lines. The
 * variants tell which way of closing lets the native side go (issue 12):
 *
 *     deno run -A --v8-flags=--expose-gc tests/faults/_wrtc_pairs.ts [pairs] [--variant v]
 *
 * Variants: `plain` (close the peer connections), `dc-first` (close the data channels, then
 * the peer connections), `no-listeners` (also remove every listener and drop `on*`
 * handlers), `dc-wait` (close the data channels and wait for their `close` events, then the
 * peer connections), `hold` (plain, inside `holdWebRtc()`),
 * `wait` (plain, then wait 100 ms so the closed signalling state is dispatched
 * before the next pair), `none` (no pairs: the process's own growth).
 */
import wrtc from "@roamhq/wrtc";
import { holdWebRtc } from "../../src/runtime/webrtc.ts";

const Pc = (wrtc as unknown as { RTCPeerConnection: typeof RTCPeerConnection }).RTCPeerConnection;
const pairs = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 200);
const arg = (name: string, dflt: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : dflt;
};
const variant = arg("--variant", "plain");
const every = Number(arg("--every", "20"));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

let finalised = 0;
const registry = new FinalizationRegistry(() => finalised++);
const config = { iceServers: [] };

async function pair(): Promise<void> {
  const a = new Pc(config), b = new Pc(config);
  registry.register(a, 0);
  registry.register(b, 0);
  const offs: (() => void)[] = [];
  const on = <T extends EventTarget>(t: T, type: string, fn: (e: never) => void) => {
    t.addEventListener(type, fn as EventListener);
    offs.push(() => t.removeEventListener(type, fn as EventListener));
  };
  on(a, "icecandidate", (e: RTCPeerConnectionIceEvent) => {
    if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {});
  });
  on(b, "icecandidate", (e: RTCPeerConnectionIceEvent) => {
    if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {});
  });
  const dcA = a.createDataChannel("x");
  const got = new Promise<RTCDataChannel>((resolve) =>
    on(b, "datachannel", (e: RTCDataChannelEvent) => resolve(e.channel))
  );
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  const dcB = await got;
  const echoed = new Promise<void>((resolve) => {
    on(dcB, "message", (e: MessageEvent) => dcB.send(e.data));
    on(dcA, "message", () => resolve());
  });
  if (dcA.readyState !== "open") await new Promise((r) => on(dcA, "open", r));
  dcA.send("ping");
  await echoed;
  if (variant === "dc-first" || variant === "no-listeners") {
    dcA.close();
    dcB.close();
  }
  if (variant === "dc-wait") {
    const closed = (dc: RTCDataChannel) =>
      dc.readyState === "closed" ? Promise.resolve() : new Promise((r) => on(dc, "close", r));
    const both = Promise.all([closed(dcA), closed(dcB)]);
    dcA.close();
    await Promise.race([both, new Promise((r) => setTimeout(r, 1000))]);
  }
  a.close();
  b.close();
  if (variant === "no-listeners") {
    for (const off of offs) off();
    for (const t of [dcA, dcB] as unknown as Record<string, unknown>[]) {
      for (const k of ["onopen", "onmessage", "onclose", "onerror"]) t[k] = null;
    }
  }
  if (variant === "wait") await new Promise((r) => setTimeout(r, 100));
}

function report(done: number): void {
  for (let i = 0; i < 3; i++) gc!();
  const mem = Deno.memoryUsage();
  console.log(JSON.stringify({
    variant,
    pairs: done,
    rssMB: +(mem.rss / 2 ** 20).toFixed(1),
    heapMB: +(mem.heapUsed / 2 ** 20).toFixed(1),
    finalised,
    threads: [...Deno.readDirSync("/proc/self/task")].length,
  }));
}

// `hold`: meshmeet's holdWebRtc() (one idle peer connection open throughout), so the
// binding's shared factory, counted by open peer connections, is built once.
const release = variant === "hold" ? holdWebRtc() : undefined;
for (let i = 1; i <= pairs; i++) {
  if (variant !== "none") await pair();
  else await new Promise((r) => setTimeout(r, 5));
  if (i % every === 0) {
    await new Promise((r) => setTimeout(r, 50)); // let finalizers run
    report(i);
  }
}
release?.();
Deno.exit(0);
