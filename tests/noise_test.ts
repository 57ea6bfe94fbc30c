import { assert, assertEquals } from "@std/assert";
import { LengthPrefixedDecoder } from "@libp2p/utils";
import { Uint8ArrayList } from "uint8arraylist";
import { _frameLength } from "../src/_noise.ts";
import { prng } from "./_prng.ts";

// @libp2p/noise 17.0.3's length decoder (encoder.ts), which throws when 2 bytes are missing.
function throwingLength(data: Uint8Array | Uint8ArrayList): number {
  if (data.byteLength < 2) throw new RangeError("Could not decode int16BE");
  return data instanceof Uint8Array ? (data[0] << 8) + data[1] : data.getUint16(0);
}

// What noise's encrypted connection makes (utils.ts): 2-byte lengths, 16 MiB buffer.
function decoder(lengthDecoder: (data: Uint8Array | Uint8ArrayList) => number) {
  return new LengthPrefixedDecoder({
    lengthDecoder,
    maxBufferSize: 16 * 1024 * 1024,
    encodingLength: () => 2,
  });
}

Deno.test("quietNoise: frames cut at random points decode the same as with noise's own length decoder", () => {
  const random = prng(7);
  for (let run = 0; run < 200; run++) {
    const frames = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
      const size = random() < 0.1 ? Math.floor(random() * 65536) : Math.floor(random() * 300);
      return Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
    });
    const wire = new Uint8ArrayList();
    for (const f of frames) wire.append(Uint8Array.of(f.byteLength >> 8, f.byteLength & 0xff), f);
    const bytes = wire.subarray();
    const quiet = decoder(_frameLength);
    const loud = decoder(throwingLength);
    const out: Uint8Array[][] = [[], []];
    for (let at = 0; at < bytes.byteLength;) {
      const end = Math.min(bytes.byteLength, at + 1 + Math.floor(random() * 200));
      const chunk = bytes.subarray(at, end);
      for (const f of quiet.decode(chunk)) out[0].push(f.subarray());
      for (const f of loud.decode(chunk)) out[1].push(f.subarray());
      at = end;
    }
    // Empty frames are dropped by the decoder in both cases.
    const expected = frames.filter((f) => f.byteLength > 0);
    assertEquals(out[0], expected, `run ${run}`);
    assertEquals(out[1], expected, `run ${run}`);
  }
});

Deno.test("quietNoise: the length decoder answers without throwing when bytes are missing", () => {
  assertEquals(_frameLength(new Uint8Array(0)), 0xffff);
  assertEquals(_frameLength(new Uint8ArrayList(Uint8Array.of(1))), 0xffff);
  assertEquals(_frameLength(Uint8Array.of(1, 2, 3)), 258);
  assertEquals(_frameLength(new Uint8ArrayList(Uint8Array.of(1), Uint8Array.of(2))), 258);
  let threw = false;
  try {
    throwingLength(new Uint8Array(1));
  } catch {
    threw = true;
  }
  assert(threw, "noise's own decoder throws there (what the wrapper avoids)");
});

Deno.test("quietNoise: a real Noise handshake gives connections that decode quietly and carry data", async () => {
  const { multiaddrConnectionPair } = await import("@libp2p/utils");
  const { generateKeyPair } = await import("@libp2p/crypto/keys");
  const { peerIdFromPrivateKey } = await import("@libp2p/peer-id");
  const { defaultLogger } = await import("@libp2p/logger");
  const { quietNoise } = await import("../src/_noise.ts");
  const [keyA, keyB] = await Promise.all([generateKeyPair("Ed25519"), generateKeyPair("Ed25519")]);
  const make = quietNoise();
  // deno-lint-ignore no-explicit-any
  const components = (privateKey: unknown): any => ({
    privateKey,
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() },
  });
  const a = make(components(keyA));
  const b = make(components(keyB));
  const [outbound, inbound] = multiaddrConnectionPair();
  const [sa, sb] = await Promise.all([
    a.secureOutbound(outbound, { remotePeer: peerIdFromPrivateKey(keyB) }),
    b.secureInbound(inbound),
  ]);
  for (const secured of [sa, sb]) {
    // deno-lint-ignore no-explicit-any
    assertEquals((secured.connection as any).decoder.lengthDecoder, _frameLength);
  }
  const got = new Uint8ArrayList();
  const all = new Promise<void>((resolve) =>
    sb.connection.addEventListener("message", (evt) => {
      got.append(evt.data);
      if (got.byteLength === 100_000) resolve();
    })
  );
  const sent = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  sa.connection.send(sent);
  await all;
  assertEquals(got.subarray(), sent);
  await Promise.all([sa.connection.close(), sb.connection.close()]);
});
