/**
 * Worker: meshmeet peers in this Deno process, plus raw data channels (libwebrtc, and
 * node-datachannel on request) to the same other process, for throughput (part 4) and
 * memory/CPU (part 5).
 *
 * Ops:
 * - `join` ({ code, bootstrap, count?, options? }) -> peer ids of `count` new peers
 * - `waitConnected` ({ each }) -> ms until every local peer has `each` participants
 * - `meshSend` ({ to, totalBytes, chunkBytes, window, index }) -> ms until all acknowledged
 * - `meshMessages` ({ to, count, size, window, index }) -> ms, refused (rate-limited) count
 * - `rawOffer` / `rawAnswer` ({ sdp }) / `rawAccept` ({ sdp }) / `rawWaitOpen`, each with
 *   `impl`: "libwebrtc" (default) or "node-datachannel"
 * - `rawSend` ({ totalBytes, chunkBytes, impl }) / `rawMessages` ({ count, size, impl }) -> ms
 * - `stats` ({ gc? }) -> rss, heap, cpu seconds, threads, peers
 * - `leaveAll`
 *
 * @module
 */
import { joinMeeting, type Meeting } from "../../mod.ts";
import { RTCPeerConnection } from "../../src/runtime/webrtc.ts";
import { candidateAllowed } from "../../src/connect/signaling.ts";
import { serve } from "./_serve.ts";

const LOOPBACK_RTC = { iceServers: [], bindAddress: "127.0.0.1" };
const meetings: Meeting[] = [];
const received = { bytes: 0, messages: 0 };

function cpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

// ---- raw data channels -----------------------------------------------------------------
// One raw data channel between the same two processes as the meeting, on libwebrtc
// (`@roamhq/wrtc`, what meshmeet uses) or node-datachannel (meshmeet's WebRTC before issue
// 10; imported only when asked for, so that it does not weigh on the memory part).

/** What the transfer loop needs of a raw channel. */
interface RawChannel {
  sendText(text: string): void;
  sendBytes(bytes: Uint8Array): void;
  bufferedAmount(): number;
  /** Resolves when the buffered amount is low again (or after 50 ms). */
  waitLow(): Promise<void>;
  close(): void;
}

interface RawSide {
  channel?: RawChannel;
  open?: Promise<void>;
  done?: (at: number) => void;
  rx: { expectBytes: number; expectMessages: number; bytes: number; messages: number };
  close(): void;
}

const raws: Record<string, RawSide> = {};
const HIGH = 4 * 1024 * 1024;

function onRawMessage(side: RawSide, msg: string | ArrayBuffer | Uint8Array) {
  const rx = side.rx;
  if (typeof msg === "string") {
    if (msg.startsWith("expect ")) {
      const [, bytes, messages] = msg.split(" ");
      Object.assign(rx, {
        expectBytes: Number(bytes),
        expectMessages: Number(messages),
        bytes: 0,
        messages: 0,
      });
    } else if (msg === "done") side.done?.(performance.now());
    return;
  }
  rx.bytes += msg.byteLength;
  rx.messages++;
  if (rx.messages === rx.expectMessages && rx.bytes >= rx.expectBytes) {
    side.channel!.sendText("done");
  }
}

function newSide(): RawSide {
  return { rx: { expectBytes: 0, expectMessages: 0, bytes: 0, messages: 0 }, close() {} };
}

// -- libwebrtc

function wrapWrtc(side: RawSide, dc: RTCDataChannel): RawChannel {
  dc.binaryType = "arraybuffer";
  dc.bufferedAmountLowThreshold = HIGH / 2;
  dc.onmessage = (e) => onRawMessage(side, e.data);
  return {
    sendText: (t) => dc.send(t),
    sendBytes: (b) => dc.send(b as Uint8Array<ArrayBuffer>),
    bufferedAmount: () => dc.bufferedAmount,
    waitLow: () =>
      new Promise<void>((resolve) => {
        dc.onbufferedamountlow = () => resolve();
        setTimeout(resolve, 50);
      }),
    close: () => dc.close(),
  };
}

async function wrtcGathered(pc: RTCPeerConnection): Promise<string> {
  while (pc.iceGatheringState !== "complete") await new Promise((r) => setTimeout(r, 5));
  // Keep only host candidates on loopback, as meshmeet's signaling does with bindAddress.
  return pc.localDescription!.sdp.split("\r\n").filter((l) =>
    !l.startsWith("a=candidate:") || candidateAllowed(l.slice(2), "127.0.0.1")
  ).join("\r\n");
}

async function wrtcOffer(side: RawSide): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  side.close = () => pc.close();
  const dc = pc.createDataChannel("bench");
  side.open = new Promise((resolve) => dc.onopen = () => resolve());
  side.channel = wrapWrtc(side, dc);
  (side as { pc?: RTCPeerConnection }).pc = pc;
  await pc.setLocalDescription(await pc.createOffer());
  return await wrtcGathered(pc);
}

async function wrtcAnswer(side: RawSide, sdp: string): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  side.close = () => pc.close();
  side.open = new Promise((resolve) => {
    pc.ondatachannel = (e) => {
      side.channel = wrapWrtc(side, e.channel);
      if (e.channel.readyState === "open") resolve();
      else e.channel.onopen = () => resolve();
    };
  });
  await pc.setRemoteDescription({ type: "offer", sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  return await wrtcGathered(pc);
}

// -- node-datachannel

// deno-lint-ignore no-explicit-any
type Ndc = any;
let ndcModule: Ndc | undefined;
async function ndc(): Promise<Ndc> {
  return ndcModule ??= (await import("node-datachannel")).default;
}

function wrapNdc(side: RawSide, dc: Ndc): RawChannel {
  dc.onMessage((m: string | ArrayBuffer) => onRawMessage(side, m));
  dc.setBufferedAmountLowThreshold(HIGH / 2);
  return {
    sendText: (t) => dc.sendMessage(t),
    sendBytes: (b) => dc.sendMessageBinary(b),
    bufferedAmount: () => dc.bufferedAmount(),
    waitLow: () =>
      new Promise<void>((resolve) => {
        dc.onBufferedAmountLow(() => resolve());
        setTimeout(resolve, 50);
      }),
    close: () => dc.close(),
  };
}

function ndcGathered(p: Ndc): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      if (p.gatheringState() === "complete") resolve(p.localDescription()!.sdp);
      else setTimeout(check, 5);
    };
    check();
  });
}

const NDC_CONFIG = { iceServers: [], bindAddress: "127.0.0.1", maxMessageSize: 262144 };

async function ndcOffer(side: RawSide): Promise<string> {
  const m = await ndc();
  const pc = new m.PeerConnection("bench-offer", NDC_CONFIG);
  side.close = () => pc.close();
  const dc = pc.createDataChannel("bench");
  side.open = new Promise((resolve) => dc.onOpen(() => resolve()));
  side.channel = wrapNdc(side, dc);
  (side as { pc?: Ndc }).pc = pc;
  return await ndcGathered(pc);
}

async function ndcAnswer(side: RawSide, sdp: string): Promise<string> {
  const m = await ndc();
  const pc = new m.PeerConnection("bench-answer", NDC_CONFIG);
  side.close = () => pc.close();
  side.open = new Promise((resolve) => {
    pc.onDataChannel((dc: Ndc) => {
      side.channel = wrapNdc(side, dc);
      resolve();
    });
  });
  pc.setRemoteDescription(sdp, "offer");
  return await ndcGathered(pc);
}

async function rawTransfer(impl: string, sizes: number[]): Promise<number> {
  const side = raws[impl];
  if (!side?.channel) throw new Error(`raw ${impl} data channel not open`);
  const channel = side.channel;
  const total = sizes.reduce((a, b) => a + b, 0);
  const done = new Promise<number>((resolve) => side.done = resolve);
  channel.sendText(`expect ${total} ${sizes.length}`);
  const t0 = performance.now();
  const buffers = new Map<number, Uint8Array>();
  for (const size of sizes) {
    let b = buffers.get(size);
    if (!b) buffers.set(size, b = new Uint8Array(size).fill(7));
    while (channel.bufferedAmount() > HIGH) await channel.waitLow();
    channel.sendBytes(b);
  }
  const t1 = await done;
  return t1 - t0;
}

function threadCount(): number {
  const m = /^Threads:\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) : NaN;
}

function closeRaws() {
  for (const side of Object.values(raws)) {
    side.channel?.close();
    side.close();
  }
}

// ---- ops -------------------------------------------------------------------------------

await serve({
  async join(args: {
    code: string;
    bootstrap: string[];
    count?: number;
    concurrency?: number;
    options?: Record<string, unknown>;
  }) {
    const count = args.count ?? 1;
    const joined = await pool(count, args.concurrency ?? 4, async (i) => {
      const m = await joinMeeting(args.code, {
        name: `p${meetings.length + i}`,
        bootstrap: args.bootstrap,
        rtcConfiguration: LOOPBACK_RTC,
        ...args.options,
      });
      m.addEventListener("message", (e) => {
        received.messages++;
        const d = e.detail.data;
        received.bytes += d instanceof Uint8Array ? d.length : 0;
      });
      return m;
    });
    meetings.push(...joined);
    return joined.map((m) => m.self.peerId);
  },
  async waitConnected(args: { each: number; timeoutMs?: number }) {
    const t0 = performance.now();
    const deadline = t0 + (args.timeoutMs ?? 60_000);
    while (meetings.some((m) => m.participants.length < args.each)) {
      if (performance.now() > deadline) {
        const counts = meetings.map((m) => m.participants.length);
        throw new Error(`not connected in time: participants ${counts.join(",")}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return performance.now() - t0;
  },
  async meshSend(
    args: { to: string; totalBytes: number; chunkBytes: number; window: number; index?: number },
  ) {
    const m = meetings[args.index ?? 0];
    const chunk = new Uint8Array(args.chunkBytes).fill(7);
    const n = Math.ceil(args.totalBytes / args.chunkBytes);
    const t0 = performance.now();
    await pool(n, args.window, () => m.send(args.to, chunk));
    return performance.now() - t0;
  },
  async meshMessages(
    args: { to: string; count: number; size: number; window: number; index?: number },
  ) {
    const m = meetings[args.index ?? 0];
    const payload = new Uint8Array(args.size).fill(7);
    let refused = 0;
    const t0 = performance.now();
    await pool(args.count, args.window, async () => {
      try {
        await m.send(args.to, payload);
      } catch (err) {
        if ((err as Error).name === "RateLimitError") refused++;
        else throw err;
      }
    });
    return { ms: performance.now() - t0, refused };
  },
  async rawOffer(args: { impl?: string } = {}) {
    const impl = args?.impl ?? "libwebrtc";
    const side = raws[impl] = newSide();
    return impl === "libwebrtc" ? await wrtcOffer(side) : await ndcOffer(side);
  },
  async rawAnswer(args: { sdp: string; impl?: string }) {
    const impl = args.impl ?? "libwebrtc";
    const side = raws[impl] = newSide();
    return impl === "libwebrtc"
      ? await wrtcAnswer(side, args.sdp)
      : await ndcAnswer(side, args.sdp);
  },
  async rawAccept(args: { sdp: string; impl?: string }) {
    const impl = args.impl ?? "libwebrtc";
    const pc = (raws[impl] as { pc?: Ndc }).pc;
    if (impl === "libwebrtc") await pc.setRemoteDescription({ type: "answer", sdp: args.sdp });
    else pc.setRemoteDescription(args.sdp, "answer");
  },
  rawWaitOpen: (args: { impl?: string } = {}) => raws[args?.impl ?? "libwebrtc"].open,
  rawSend(args: { totalBytes: number; chunkBytes: number; impl?: string }) {
    const n = Math.ceil(args.totalBytes / args.chunkBytes);
    return rawTransfer(args.impl ?? "libwebrtc", new Array(n).fill(args.chunkBytes));
  },
  rawMessages(args: { count: number; size: number; impl?: string }) {
    return rawTransfer(args.impl ?? "libwebrtc", new Array(args.count).fill(args.size));
  },
  stats(args: { gc?: boolean }) {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (args?.gc && gc) gc();
    const mem = Deno.memoryUsage();
    return {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      cpuSeconds: cpuSeconds(),
      threads: threadCount(),
      peers: meetings.length,
      participants: meetings.map((m) => m.participants.length),
      received,
    };
  },
  async leaveAll() {
    await Promise.allSettled(meetings.splice(0).map((m) => m.leave()));
    closeRaws();
  },
}, async () => {
  await Promise.allSettled(meetings.map((m) => m.leave()));
  closeRaws();
  ndcModule?.cleanup();
});
