import { assert, assertEquals, assertLess } from "@std/assert";
import { RTCPeerConnection } from "../../src/runtime/webrtc.ts";
import { startBootstrapNode } from "../../mod.ts";
import { DataChannelFrames } from "../../src/connect/data_channel_frames.ts";
import { type Frame, FrameType } from "../../src/frame.ts";
import { describePath } from "../../src/connect/inspect.ts";

/** Two peer connections in this process with a negotiated channel each, wired directly. */
async function pair() {
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  // A candidate can still come after a connection was closed: ignore the refusal.
  a.addEventListener("icecandidate", (e) => {
    if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {});
  });
  b.addEventListener("icecandidate", (e) => {
    if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {});
  });
  const fa = new DataChannelFrames(
    a.createDataChannel("m", { negotiated: true, id: 0, ordered: true }),
    { owner: a, maxPayload: 2 * 1024 * 1024 },
  );
  const fb = new DataChannelFrames(
    b.createDataChannel("m", { negotiated: true, id: 0, ordered: true }),
    { owner: b, maxPayload: 2 * 1024 * 1024 },
  );
  const open = (f: DataChannelFrames) =>
    new Promise<void>((resolve) => {
      if (f.channel.readyState === "open") resolve();
      else f.channel.addEventListener("open", () => resolve(), { once: true });
    });
  const started = performance.now();
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await Promise.all([open(fa), open(fb)]);
  return { a, b, fa, fb, ms: performance.now() - started };
}

const frame = (seq: number, payload: Uint8Array): Frame => ({
  type: FrameType.Data,
  flags: 0,
  channel: 1,
  seq,
  ref: 0,
  payload,
});

Deno.test("libwebrtc connects two peer connections in this process without the 1 s DTLS stall", async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { fa, fb, ms } = await pair();
    times.push(ms);
    await fa.close();
    await fb.close();
  }
  // node-datachannel took about 1,000 ms in 24 of 30 such rounds; libwebrtc takes ~10 ms.
  assertLess(Math.min(...times), 500, `connect times ${times.map(Math.round)}`);
});

Deno.test("frames above a data-channel message are split and reassembled; small frames keep their order", async () => {
  const { a, fa, fb } = await pair();
  try {
    const big = new Uint8Array(1024 * 1024 + 17).map((_, i) => i % 251);
    const small = Array.from({ length: 2000 }, (_, i) => new Uint8Array([i & 0xff, i >> 8]));
    const writes = [fa.write(frame(1, big)), ...small.map((p, i) => fa.write(frame(i + 2, p)))];
    await Promise.all(writes);
    const first = await fb.read();
    assertEquals(first.payload.length, big.length);
    assertEquals(first.payload, big);
    for (let i = 0; i < small.length; i++) {
      const f = await fb.read();
      assertEquals(f.seq, i + 2);
      assertEquals(f.payload, small[i]);
    }
    // Batching: far fewer data-channel messages than frames were needed.
    assertEquals(fb.counters.framesIn, 2001);
    const path = await describePath(a);
    assert(path !== undefined, "a selected candidate pair");
    assertEquals(path.path, "direct");
  } finally {
    await fa.close();
    await fb.close();
  }
});

Deno.test("garbage on the data channel poisons only that channel, with a named error", async () => {
  const { fa, fb } = await pair();
  const ended = new Promise<Error | undefined>((resolve) => fb.onClose(resolve));
  fa.channel.send(new TextEncoder().encode("this is not a meshmeet frame"));
  const err = await ended;
  assertEquals(err?.name, "InvalidFrameError");
  await fa.close();
});

Deno.test("a Deno program that joins a meeting, talks and leaves ends by itself", async () => {
  const probe = new URL("./_exit_probe.ts", import.meta.url).pathname;
  await using boot = await startBootstrapNode({ listen: ["/ip4/127.0.0.1/tcp/0"] });
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe, ...boot.addresses],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout);
  assertEquals(code, 0, `probe failed:\n${out}\n${new TextDecoder().decode(stderr)}`);
  const report = JSON.parse(out.trim().split("\n").at(-1)!);
  assertEquals(report.acknowledged, true);
  // Everything after stop() must end in well under a second, not 40 s.
  assertLess(performance.now() - started - report.doneAtMs, 5_000, JSON.stringify(report));
});
