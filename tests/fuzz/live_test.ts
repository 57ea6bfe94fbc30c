/**
 * Live fuzz: a running member (its own process, `_live_target.ts`) is fed random and mutated
 * input on every protocol it serves, from real libp2p nodes over its relay address and
 * over HTTP, while a real peer stays in the meeting with it:
 *
 * - the signaling protocol (`/meshmeet/signal/1.0.0`) as a stranger: random bytes, valid
 *   frames with random or damaged bodies, handshake messages with random proofs;
 * - the knock protocol: random bytes, presence frames with random and mutated records;
 * - as a proven member (the handshake done with the right code, then the relay rung, so the
 *   stream carries meeting frames): random and mutated meeting frames of every type, on the
 *   application channel and on the MCP channel (random and damaged MCP envelopes);
 * - the control API over HTTP (raw requests, `_http_targets.ts`), never leaving the meeting.
 *
 * After each protocol the member must still be up, answer `/status`, and exchange
 * acknowledged messages with the real peer. Cases per protocol: `MESHMEET_LIVE_FUZZ_RUNS`
 * (default 30; HTTP twice that). Prints one `RELIABILITY` JSON line.
 */
import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { createLibp2p, type Libp2p } from "libp2p";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { identify } from "@libp2p/identify";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { multiaddr } from "@multiformats/multiaddr";
import type { Stream } from "@libp2p/interface";
import {
  encodeMessage,
  generateInvitationCode,
  KNOCK_PROTOCOL,
  type Meeting,
  MEETING_PROTOCOL,
} from "../../mod.ts";
import { serverDialTransports } from "../../src/runtime/transports.ts";
import { deriveTopicKeys } from "../../src/topic.ts";
import { encodeFrame, type Frame, FrameType } from "../../src/frame.ts";
import { FramedStream } from "../../src/framed_stream.ts";
import { handshakeAsDialer } from "../../src/membership.ts";
import { encodeSignal } from "../../src/connect/signaling.ts";
import { MCP_CHANNEL } from "../../src/mcp/wire.ts";
import { readLines } from "../../src/_lines.ts";
import { crc32 } from "../../src/_crc32.ts";
import {
  cleanup,
  joinLoopback,
  startLoopbackBootstrap,
  waitUntil,
} from "../integration/_harness.ts";
import { FUZZ_TOKEN, rawArb, rawStatus } from "./_http_targets.ts";
import { PEER_BOB, TOPIC_A } from "../http/_fake_meeting.ts";

const progress = (line: string) => {
  const file = Deno.env.get("MESHMEET_LIVE_FUZZ_LOG");
  if (file) Deno.writeTextFileSync(file, `[live fuzz] ${line}\n`, { append: true });
};
const RUNS = Number(Deno.env.get("MESHMEET_LIVE_FUZZ_RUNS") ?? 30);
const SCRIPT = new URL("./_live_target.ts", import.meta.url).pathname;

const frameTypes = Object.values(FrameType) as number[];
const frameArb = fc.record({
  // Mostly what carries application data and MCP (data, requests), so that inputs get past
  // the frame checks into the link, the meeting and the MCP hub.
  type: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(FrameType.Data, FrameType.Request) },
    { weight: 2, arbitrary: fc.constantFrom(...frameTypes) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  flags: fc.integer({ min: 0, max: 255 }),
  channel: fc.oneof(fc.constant(0), fc.constant(MCP_CHANNEL), fc.integer({ min: 0, max: 255 })),
  seq: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffff_ffff })),
  ref: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffff_ffff })),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => encodeMessage(v as never)),
    // MCP envelopes, whole and damaged.
    fc.oneof(
      fc.record({
        t: fc.constantFrom("rpc", "close", "offer", "query", "x"),
        s: fc.oneof(fc.string({ maxLength: 80 }), fc.anything()),
        d: fc.constantFrom("c2s", "s2c", "zz"),
        m: fc.oneof(
          fc.record({
            jsonrpc: fc.constant("2.0"),
            id: fc.oneof(fc.integer(), fc.string()),
            method: fc.constantFrom("initialize", "tools/list", "tools/call", "ping", "x"),
            params: fc.anything(),
          }),
          fc.anything(),
        ),
        seq: fc.anything(),
        tools: fc.anything(),
      }, { requiredKeys: ["t"] }),
      fc.jsonValue(),
    ).map((v) => encodeMessage(v as never)),
  ),
});

/** Valid frames, mutated: bit flips, cuts, garbage appended. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.tuple(frameArb, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat({ max: 40 }))
    .map(([f, at, bit, cut]) => {
      const bytes = anyFrame(f);
      const out = bytes.slice(0, Math.max(1, bytes.length - (cut % 8)));
      out[at % out.length] ^= 1 << bit;
      return out;
    }),
  frameArb.map(anyFrame),
);

/**
 * Encode any frame, unknown types too: those are written with a known type, then the type
 * byte is set and the CRC-32 recomputed, so they reach the decoder's type check.
 */
function anyFrame(f: { type: number } & Omit<Frame, "type">): Uint8Array {
  if (frameTypes.includes(f.type)) return encodeFrame(f as Frame);
  const bytes = encodeFrame({ ...f, type: FrameType.Data });
  bytes[3] = f.type;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes.subarray(0, bytes.length - 4)),
  );
  return bytes;
}

function newNode(): Promise<Libp2p> {
  return createLibp2p({
    transports: [...serverDialTransports(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  });
}

/** Write bytes on a fresh stream, wait briefly for an answer or the end, then drop it. */
async function poke(
  node: Libp2p,
  address: string,
  protocol: string,
  chunks: Uint8Array[],
  outcomes: Record<string, number>,
): Promise<void> {
  const add = (k: string) => outcomes[k] = (outcomes[k] ?? 0) + 1;
  let stream: Stream | undefined;
  try {
    stream = await node.dialProtocol(multiaddr(address), protocol, {
      signal: AbortSignal.timeout(5000),
      runOnLimitedConnection: true,
    });
    const s = stream;
    const ended = new Promise<string>((resolve) => {
      s.addEventListener("message", () => resolve("answered"), { once: true });
      s.addEventListener("close", () => resolve("closed"), { once: true });
      setTimeout(() => resolve("silent"), 300);
    });
    for (const c of chunks) s.send(c);
    add(await ended);
  } catch (err) {
    add(`refused:${(err as Error).name}`);
  } finally {
    stream?.abort(new Error("fuzz case done"));
  }
}

Deno.test("live fuzz of a running member on every protocol it serves: it stays up and keeps serving its real peer", async () => {
  const boot = await startLoopbackBootstrap();
  const code = generateInvitationCode();
  const keys = await deriveTopicKeys(code);
  const meetings: Meeting[] = [];
  const nodes: Libp2p[] = [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, boot.addresses[0], FUZZ_TOKEN],
    env: { MESHMEET_FAULT_CODE: code, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const stderr = new Response(child.stderr).text();
  const lines = readLines(child.stdout)[Symbol.asyncIterator]();
  const stdin = child.stdin.getWriter();
  const nextEvent = async () => JSON.parse((await lines.next()).value);
  try {
    const ready = await nextEvent();
    assertEquals(ready.event, "ready");
    const target = ready.addresses.find((a: string) => a.includes("/p2p-circuit")) as string;
    const peer = await joinLoopback(code, boot, { name: "RealPeer" });
    meetings.push(peer);
    await waitUntil(
      () => peer.participants.some((p) => p.peerId === ready.peerId && p.state === "connected"),
      "the real peer meets the target",
      45_000,
    );
    const pongs: number[] = [];
    peer.addEventListener("message", (e) => {
      if (e.detail.text === "pong from the target") pongs.push(performance.now());
    });
    progress("the real peer met the target");
    const alive = async (after: string) => {
      progress(`alive? (${after})`);
      if (exited) throw new Error(`the target died during ${after}: ${await stderr}`);
      const res = await fetch(`http://127.0.0.1:${ready.port}/status`, {
        signal: AbortSignal.timeout(10_000),
      });
      assertEquals(res.status, 200, `/status after ${after}`);
      await res.body?.cancel();
      progress(`/status ${res.status}`);
      const before = pongs.length;
      await peer.send(ready.peerId, "ping from the real peer");
      await waitUntil(() => pongs.length > before, `a pong after ${after}`, 15_000);
    };
    await alive("start");
    progress("the target is up and linked to the real peer");

    for (let i = 0; i < 8; i++) nodes.push(await newNode());
    await Promise.all(nodes.map((n) => n.dial(multiaddr(boot.addresses[0]))));
    let turn = 0;
    const nextNode = () => nodes[turn++ % nodes.length];
    const report: Record<string, unknown> = {};
    const run = async <T>(
      name: string,
      arb: fc.Arbitrary<T>,
      runs: number,
      body: (v: T) => Promise<void>,
    ) => {
      const t0 = performance.now();
      progress(`${name}: ${runs} cases`);
      await fc.assert(
        fc.asyncProperty(arb, async (v) => {
          await body(v);
          return !exited;
        }),
        { numRuns: runs },
      );
      await alive(name);
      return +((performance.now() - t0) / 1000).toFixed(1);
    };

    // 1. Signaling as a stranger.
    const signal: Record<string, number> = {};
    const helloArb = fc.tuple(
      fc.constantFrom(FrameType.Hello, FrameType.Proof),
      fc.record({
        v: fc.oneof(fc.constant(1), fc.anything()),
        nonce: fc.oneof(fc.base64String({ maxLength: 60 }), fc.anything()),
        proof: fc.oneof(fc.base64String({ maxLength: 60 }), fc.anything()),
        name: fc.anything(),
      }, { requiredKeys: [] }),
    ).map(([type, v]) =>
      encodeFrame({
        type,
        flags: 0,
        channel: 0,
        seq: 0,
        ref: 0,
        payload: new TextEncoder().encode(JSON.stringify(v) ?? "null"),
      })
    );
    const signalSeconds = await run(
      "signaling",
      fc.array(fc.oneof(bytesArb, helloArb), { minLength: 1, maxLength: 3 }),
      RUNS,
      (chunks) => poke(nextNode(), target, MEETING_PROTOCOL, chunks, signal),
    );
    report.signaling = { cases: RUNS, seconds: signalSeconds, outcomes: signal };

    // 2. Knocking.
    const knock: Record<string, number> = {};
    const knockSeconds = await run(
      "knock",
      fc.oneof(
        bytesArb.map((b) => [b]),
        fc.uint8Array({ minLength: 0, maxLength: 2000 }).map((p) => [
          encodeFrame({
            type: FrameType.Presence,
            flags: 0,
            channel: 0,
            seq: 0,
            ref: 0,
            payload: p,
          }),
        ]),
      ),
      RUNS,
      (chunks) => poke(nextNode(), target, KNOCK_PROTOCOL, chunks, knock),
    );
    report.knock = { cases: RUNS, seconds: knockSeconds, outcomes: knock };

    // 3. As a proven member: meeting frames on the relay rung (application and MCP channels).
    const member = await newNode();
    nodes.push(member);
    await member.dial(multiaddr(boot.addresses[0]));
    const sessions = { opened: 0, refused: 0, frames: 0 };
    // The member keeps the highest sequence number it delivered across a peer's streams (a
    // duplicate is dropped), so 9 in 10 frames get the next number, as a real peer's would;
    // the others keep their random one (and a jump ahead moves the numbering on).
    let seq = 0;
    const memberSeconds = await run(
      "member frames",
      // Whole frames first, then maybe one damaged input (which ends the stream).
      fc.tuple(
        fc.array(
          fc.tuple(
            frameArb,
            fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, {
              weight: 1,
              arbitrary: fc.constant(true),
            }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.option(bytesArb),
      ),
      Math.ceil(RUNS / 3),
      async ([frames, last]) => {
        const chunks = frames.map(([f, keep]) => {
          if (!keep) return anyFrame({ ...f, seq: seq = (seq + 1) % 0x1_0000_0000 });
          seq = Math.max(seq, f.seq); // a jump ahead: the numbers go on from there
          return anyFrame(f);
        });
        if (last) chunks.push(last);
        try {
          const stream = await member.dialProtocol(multiaddr(target), MEETING_PROTOCOL, {
            signal: AbortSignal.timeout(5000),
            runOnLimitedConnection: true,
          });
          const framed = new FramedStream(stream, { maxPayload: 2 * 2 ** 20 });
          try {
            await handshakeAsDialer(framed, {
              keys,
              selfId: member.peerId.toString(),
              remoteId: ready.peerId,
              self: { name: "Fuzzer", joinedAt: Date.now() },
              signal: AbortSignal.timeout(5000),
            });
            await framed.write(encodeSignal({ t: "relay" }));
            sessions.opened++;
            for (const c of chunks) {
              stream.send(c);
              sessions.frames++;
            }
            // Close gracefully so everything written is delivered (an abort drops what is
            // still buffered), then give the member a moment to read it.
            await stream.close({ signal: AbortSignal.timeout(3000) }).catch(() => {});
            await new Promise((r) => setTimeout(r, 50));
          } finally {
            framed.abort(new Error("fuzz session done"));
          }
        } catch {
          sessions.refused++;
        }
      },
    );
    report.memberFrames = { cases: Math.ceil(RUNS / 3), seconds: memberSeconds, ...sessions };
    assert(sessions.opened > 0, "the proven member got through the handshake");

    // 4. The control API over HTTP (never DELETE the target's own meeting).
    const statuses: Record<string, number> = {};
    const httpSeconds = await run("HTTP", rawArb, RUNS * 2, async (raw) => {
      const live = /^delete /i.test(raw)
        ? raw
        : raw.replaceAll(TOPIC_A, ready.topicId).replaceAll(PEER_BOB, peer.self.peerId);
      const status = await rawStatus(ready.port, live);
      const key = String(status ?? "none");
      statuses[key] = (statuses[key] ?? 0) + 1;
      assert(
        status === undefined || status < 500,
        `${JSON.stringify(live.slice(0, 120))} → ${status}`,
      );
    });
    report.http = { cases: RUNS * 2, seconds: httpSeconds, statuses };

    await stdin.write(new TextEncoder().encode("stats\n"));
    const stats = await nextEvent();
    assertEquals(stats.event, "stats");
    assert(
      stats.participants.some((p: { name: string; state: string }) =>
        p.name === "RealPeer" && p.state === "connected"
      ),
      "the real peer is still connected",
    );
    report.target = {
      handshakeFailures: stats.stats.handshakeFailures,
      messagesReceived: stats.stats.messagesReceived,
      messagesDropped: stats.stats.messagesDropped,
      rssMB: stats.rssMB,
    };
    console.log(`RELIABILITY ${JSON.stringify({ test: "live_fuzz", ...report })}`);
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await stdin.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await child.status;
    clearTimeout(timer);
    await stderr;
    await cleanup(meetings, [boot]);
  }
});
