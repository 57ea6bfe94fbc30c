/**
 * Fuzz targets: every decoder of untrusted input, each with a fast-check arbitrary and the
 * property it must hold. A target passes when, for every input, the decoder returns or
 * throws the named error it documents (never a TypeError from deep inside, a RangeError of
 * a DataView, an unhandled rejection or a 5xx). Used by `fuzz_test.ts` (quick, in
 * `deno task test`) and by `deno task fuzz` (`main.ts`, ≥ 100,000 cases per target).
 */
import fc from "fast-check";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import {
  FrameTooLargeError,
  InvalidFrameError,
  InvalidRecordError,
  MembershipProofError,
} from "../../src/errors.ts";
import { decodeFrame, encodeFrame, type Frame, FrameDecoder } from "../../src/frame.ts";
import { decodeMessage, encodeMessage } from "../../src/message_codec.ts";
import { openRecord } from "../../src/record.ts";
import { openPresence, sealPresence } from "../../src/presence.ts";
import { decodeBindingResponse } from "../../src/stun.ts";
import { handshakeAsDialer, handshakeAsListener } from "../../src/membership.ts";
import type { FrameChannel } from "../../src/connect/frame_channel.ts";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { deriveTopicKeys } from "../../src/topic.ts";

/** One fuzz target. */
export interface FuzzTarget {
  /** Name in reports. */
  name: string;
  /** The property, for `fc.assert`. */
  property: fc.IAsyncProperty<[unknown]> | fc.IProperty<[unknown]>;
}

/** Rethrow anything that is not one of the expected error classes. */
function expectOnly(err: unknown, ...allowed: Array<new (...args: never[]) => Error>): void {
  if (allowed.some((cls) => err instanceof cls)) return;
  throw err;
}

const bytes = (maxLength = 2048) => fc.uint8Array({ maxLength });

/** Mutations of a valid byte string: flips, truncation, insertion, splicing. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const out = valid.slice();
      out[i] ^= x;
      return out;
    }),
    fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
    fc.tuple(fc.nat(valid.length), bytes(64)).map(([i, extra]) => {
      const out = new Uint8Array(valid.length + extra.length);
      out.set(valid.subarray(0, i));
      out.set(extra, i);
      out.set(valid.subarray(i), i + extra.length);
      return out;
    }),
    fc.tuple(fc.nat(valid.length), bytes(64)).map(([i, tail]) => {
      const out = new Uint8Array(i + tail.length);
      out.set(valid.subarray(0, i));
      out.set(tail, i);
      return out;
    }),
  );
}

const frameArb = fc.record({
  type: fc.integer({ min: 1, max: 12 }),
  flags: fc.integer({ min: 0, max: 255 }),
  channel: fc.integer({ min: 0, max: 255 }),
  seq: fc.nat(),
  ref: fc.nat(),
  payload: bytes(512),
}) as unknown as fc.Arbitrary<Frame>;

/** A FrameChannel that reads scripted frames and records what is written. */
function scriptedChannel(frames: Frame[]): FrameChannel {
  const queue = [...frames];
  return {
    counters: { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0 },
    open: true,
    error: undefined,
    onClose() {},
    write: () => Promise.resolve(),
    read: () => {
      const next = queue.shift();
      return next ? Promise.resolve(next) : Promise.reject(new MembershipProofError("ended"));
    },
    close: () => Promise.resolve(),
    abort() {},
  } as unknown as FrameChannel;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const handshakeBody = fc.oneof(
  fc.record({ v: fc.constant(1), nonce: hex64, proof: fc.oneof(hex64, fc.string()) }, {
    requiredKeys: [],
  }),
  fc.anything(),
).map((b) => new TextEncoder().encode(JSON.stringify(b) ?? "null"));
const handshakeFrame = fc.tuple(
  fc.integer({ min: 0, max: 12 }),
  fc.oneof(handshakeBody, bytes(256)),
)
  .map(([type, payload]) => ({ type, flags: 0, channel: 0, seq: 0, ref: 0, payload }) as Frame);

/** Build every decoder target (keys and a valid record are made once). */
export async function decoderTargets(): Promise<FuzzTarget[]> {
  const keys = await deriveTopicKeys("fuzz-fuzz-fuzz-fuzz-fuzz-1234");
  const privateKey = await generateKeyPair("Ed25519");
  const peerId = peerIdFromPrivateKey(privateKey).toString();
  const now = Date.now();
  const { key, bytes: validRecord } = await sealPresence(keys, privateKey, {
    peerId,
    name: "Fuzz",
    joinedAt: now,
    addresses: ["/ip4/127.0.0.1/tcp/1/p2p/" + peerId],
  }, { seq: now, ttlMs: 60_000, now });
  const validFrame = encodeFrame({
    type: 3,
    flags: 0,
    channel: 1,
    seq: 7,
    ref: 0,
    payload: new Uint8Array([1, 2, 3, 4, 5]),
  });
  const txId = new Uint8Array(12).fill(7);
  const stunHeader = (body: Uint8Array, type: number) => {
    const out = new Uint8Array(20 + body.length);
    const view = new DataView(out.buffer);
    view.setUint16(0, type);
    view.setUint16(2, body.length);
    view.setUint32(4, 0x2112a442);
    out.set(txId, 8);
    out.set(body, 20);
    return out;
  };
  const self = { name: "Fuzz", joinedAt: now };

  return [
    {
      name: "frame: decodeFrame(random and mutated bytes)",
      property: fc.property(fc.oneof(bytes(), mutated(validFrame)), (input) => {
        try {
          decodeFrame(input as Uint8Array, { maxPayload: 4096 });
        } catch (err) {
          expectOnly(err, InvalidFrameError, FrameTooLargeError);
        }
      }),
    },
    {
      name: "frame: FrameDecoder.push(valid frames split anywhere, with garbage between)",
      property: fc.property(
        fc.tuple(fc.array(frameArb, { maxLength: 5 }), fc.array(fc.nat(64)), bytes(64)),
        (input) => {
          const [frames, cuts, garbage] = input as [Frame[], number[], Uint8Array];
          const stream = frames.map((f) => encodeFrame(f));
          const all = new Uint8Array(stream.reduce((n, b) => n + b.length, 0));
          let o = 0;
          for (const b of stream) (all.set(b, o), o += b.length);
          const decoder = new FrameDecoder({ maxPayload: 4096 });
          const out: Frame[] = [];
          let pos = 0;
          // Valid frames, cut anywhere: all come out, intact and in order.
          for (const cut of [...cuts, all.length]) {
            const end = Math.min(all.length, pos + cut);
            out.push(...decoder.push(all.subarray(pos, end)));
            pos = end;
          }
          for (let i = 0; i < frames.length; i++) {
            const a = out[i], b = frames[i];
            if (
              !a || a.seq !== b.seq || a.type !== b.type || a.channel !== b.channel ||
              a.payload.length !== b.payload.length || a.payload.some((x, j) => x !== b.payload[j])
            ) throw new Error(`frame ${i} decoded wrong`);
          }
          if (out.length !== frames.length) throw new Error("extra frames decoded");
          // Then garbage: a named error or nothing (an incomplete frame), never anything else.
          try {
            decoder.push(garbage);
          } catch (err) {
            expectOnly(err, InvalidFrameError, FrameTooLargeError);
          }
        },
      ),
    },
    {
      name: "message codec: decodeMessage(random bytes); encode/decode round trip",
      property: fc.property(
        fc.oneof(bytes(), fc.oneof(fc.string(), fc.jsonValue()).map((v) => ({ v }))),
        (input) => {
          if (input instanceof Uint8Array) {
            try {
              decodeMessage(input);
            } catch (err) {
              expectOnly(err, InvalidFrameError);
            }
            return;
          }
          const v = (input as { v: unknown }).v;
          const back = decodeMessage(encodeMessage(v as string));
          if (JSON.stringify(back) !== JSON.stringify(v)) throw new Error("round trip changed it");
        },
      ),
    },
    {
      name: "presence record: openRecord/openPresence(random and mutated records)",
      property: fc.asyncProperty(fc.oneof(bytes(1500), mutated(validRecord)), async (input) => {
        const candidate = input as Uint8Array;
        try {
          await openRecord(key, candidate, { now });
        } catch (err) {
          expectOnly(err, InvalidRecordError);
        }
        try {
          await openPresence(keys, peerId, candidate, { now });
          // Only the untouched record may open.
          if (
            candidate.length !== validRecord.length ||
            candidate.some((b, i) => b !== validRecord[i])
          ) {
            throw new Error("a modified presence record was accepted");
          }
        } catch (err) {
          expectOnly(err, InvalidRecordError);
        }
      }),
    },
    {
      name: "STUN: decodeBindingResponse(random bodies behind a valid header, random bytes)",
      property: fc.property(
        fc.oneof(
          bytes(256),
          fc.tuple(bytes(256), fc.constantFrom(0x0101, 0x0111, 0x0001, 0x1234)).map(([b, t]) =>
            stunHeader(b, t)
          ),
        ),
        (input) => {
          try {
            decodeBindingResponse(input as Uint8Array, txId);
          } catch (err) {
            // Documented: a binding error or a success without a mapped address.
            if (
              !(err instanceof Error) || err.constructor !== Error || !/^STUN/.test(err.message)
            ) {
              throw err;
            }
          }
        },
      ),
    },
    {
      name: "membership handshake: listener and dialer fed arbitrary frames never accept",
      property: fc.asyncProperty(
        fc.tuple(fc.boolean(), fc.array(handshakeFrame, { minLength: 0, maxLength: 3 })),
        async (input) => {
          const [asListener, frames] = input as [boolean, Frame[]];
          const context = { keys, selfId: "self", remoteId: "stranger", self };
          try {
            if (asListener) await handshakeAsListener(scriptedChannel(frames), context);
            else await handshakeAsDialer(scriptedChannel(frames), context);
          } catch (err) {
            expectOnly(err, MembershipProofError);
            return;
          }
          throw new Error("a stranger without the code passed the membership handshake");
        },
      ),
    },
    {
      name: "CLI: parseArgs(arbitrary argv) returns or throws UsageError",
      property: fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constantFrom("--", "-h", "--help", "--name", "--bootstrap", "--json", "--http", "-"),
            fc.string().map((s) => `--${s}`),
            fc.string().map((s) => `--name=${s}`),
          ),
          { maxLength: 12 },
        ),
        (argv) => {
          try {
            parseArgs(argv as string[], {
              values: ["name", "http", "token"],
              lists: ["bootstrap", "ice-server"],
              flags: ["json", "events"],
            });
          } catch (err) {
            expectOnly(err, UsageError);
          }
        },
      ),
    },
  ] as FuzzTarget[];
}
