/**
 * Worker: meshmeet peers in this Deno process, plus one raw node-datachannel peer
 * connection, for throughput (part 4) and memory/CPU (part 5).
 *
 * Ops:
 * - `join` ({ code, bootstrap, count?, options? }) -> peer ids of `count` new peers
 * - `waitConnected` ({ each }) -> ms until every local peer has `each` participants
 * - `meshSend` ({ to, totalBytes, chunkBytes, window, index }) -> ms until all acknowledged
 * - `meshMessages` ({ to, count, size, window, index }) -> ms, refused (rate-limited) count
 * - `rawOffer` / `rawAnswer` ({ sdp }) / `rawAccept` ({ sdp }) / `rawWaitOpen`
 * - `rawSend` ({ totalBytes, chunkBytes }) / `rawMessages` ({ count, size }) -> ms
 * - `stats` ({ gc? }) -> rss, heap, cpu seconds, peers
 * - `leaveAll`
 *
 * @module
 */
import ndc from "node-datachannel";
import { joinMeeting, type Meeting } from "../../mod.ts";
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

// ---- raw node-datachannel --------------------------------------------------------------

let pc: ndc.PeerConnection | undefined;
let dc: ndc.DataChannel | undefined;
let dcOpen: Promise<void> | undefined;
const rawRx = { expectBytes: 0, expectMessages: 0, bytes: 0, messages: 0 };
let rawDone: ((ms: number) => void) | undefined;

function gathered(p: ndc.PeerConnection): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      if (p.gatheringState() === "complete") resolve(p.localDescription()!.sdp);
      else setTimeout(check, 5);
    };
    check();
  });
}

function wireChannel(channel: ndc.DataChannel) {
  dc = channel;
  channel.onMessage((msg) => {
    if (typeof msg === "string") {
      if (msg.startsWith("expect ")) {
        const [, bytes, messages] = msg.split(" ");
        Object.assign(rawRx, {
          expectBytes: Number(bytes),
          expectMessages: Number(messages),
          bytes: 0,
          messages: 0,
        });
      } else if (msg === "done") rawDone?.(performance.now());
      return;
    }
    rawRx.bytes += (msg as ArrayBuffer).byteLength;
    rawRx.messages++;
    if (rawRx.messages === rawRx.expectMessages && rawRx.bytes >= rawRx.expectBytes) {
      channel.sendMessage("done");
    }
  });
}

async function rawTransfer(sizes: number[]): Promise<number> {
  if (!dc) throw new Error("raw data channel not open");
  const channel = dc;
  const total = sizes.reduce((a, b) => a + b, 0);
  const done = new Promise<number>((resolve) => rawDone = resolve);
  channel.sendMessage(`expect ${total} ${sizes.length}`);
  const high = 4 * 1024 * 1024;
  channel.setBufferedAmountLowThreshold(high / 2);
  const t0 = performance.now();
  const buffers = new Map<number, Uint8Array>();
  for (const size of sizes) {
    let b = buffers.get(size);
    if (!b) buffers.set(size, b = new Uint8Array(size).fill(7));
    while (channel.bufferedAmount() > high) {
      await new Promise<void>((resolve) => {
        channel.onBufferedAmountLow(() => resolve());
        setTimeout(resolve, 50);
      });
    }
    channel.sendMessageBinary(b);
  }
  const t1 = await done;
  return t1 - t0;
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
  async rawOffer() {
    pc = new ndc.PeerConnection("bench-offer", { ...LOOPBACK_RTC, maxMessageSize: 262144 });
    const channel = pc.createDataChannel("bench");
    dcOpen = new Promise((resolve) => channel.onOpen(() => resolve()));
    wireChannel(channel);
    return await gathered(pc);
  },
  async rawAnswer(args: { sdp: string }) {
    pc = new ndc.PeerConnection("bench-answer", { ...LOOPBACK_RTC, maxMessageSize: 262144 });
    dcOpen = new Promise((resolve) => {
      pc!.onDataChannel((channel) => {
        wireChannel(channel);
        resolve();
      });
    });
    pc.setRemoteDescription(args.sdp, "offer");
    return await gathered(pc);
  },
  rawAccept(args: { sdp: string }) {
    pc!.setRemoteDescription(args.sdp, "answer");
  },
  rawWaitOpen: () => dcOpen,
  rawSend(args: { totalBytes: number; chunkBytes: number }) {
    const n = Math.ceil(args.totalBytes / args.chunkBytes);
    return rawTransfer(new Array(n).fill(args.chunkBytes));
  },
  rawMessages(args: { count: number; size: number }) {
    return rawTransfer(new Array(args.count).fill(args.size));
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
      peers: meetings.length,
      participants: meetings.map((m) => m.participants.length),
      received,
    };
  },
  async leaveAll() {
    await Promise.allSettled(meetings.splice(0).map((m) => m.leave()));
    dc?.close();
    pc?.close();
  },
}, async () => {
  await Promise.allSettled(meetings.map((m) => m.leave()));
  pc?.close();
  ndc.cleanup();
});
