import {
  assert,
  assertEquals,
  assertFalse,
  assertInstanceOf,
  assertNotEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  decodeFrame,
  DEFAULT_MAX_PAYLOAD,
  encodeFrame,
  encodeFrameEnds,
  type Frame,
  FRAME_HEADER_SIZE,
  FRAME_TRAILER_SIZE,
  FRAME_VERSION,
  FrameDecoder,
  FrameFlags,
  FrameType,
  type FrameTypeCode,
} from "../src/frame.ts";
import { crc32, crc32Tables } from "../src/_crc32.ts";
import { nativeCrc32 } from "../src/runtime/crc32.ts";
import { FrameTooLargeError, InvalidFrameError } from "../src/errors.ts";

function frame(overrides: Partial<Frame> = {}): Frame {
  return {
    type: FrameType.Data,
    flags: FrameFlags.AckRequested,
    channel: 7,
    seq: 0x01020304,
    ref: 0xa0b0c0d0,
    payload: new TextEncoder().encode("hello, meeting"),
    ...overrides,
  };
}

/** Recompute the CRC trailer after a test edited the header or payload on purpose. */
function reseal(bytes: Uint8Array): Uint8Array {
  const end = bytes.length - FRAME_TRAILER_SIZE;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(end, crc32(bytes.subarray(0, end)));
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A header that declares `length` payload bytes, valid in every other respect. */
function headerDeclaring(length: number): Uint8Array {
  const header = encodeFrame(frame({ payload: new Uint8Array(0) })).slice(0, FRAME_HEADER_SIZE);
  new DataView(header.buffer).setUint32(16, length);
  return header;
}

Deno.test('crc32() returns 0xCBF43926 for the check string "123456789"', () => {
  assertEquals(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assertEquals(crc32(new Uint8Array(0)), 0);
  // Only the view's window counts, not the whole underlying buffer.
  const padded = new TextEncoder().encode("xx123456789yy");
  assertEquals(crc32(padded.subarray(2, 11)), 0xcbf43926);
});

Deno.test("encodeFrame() writes the documented big-endian layout", () => {
  const bytes = encodeFrame(frame({ payload: new Uint8Array([0xaa, 0xbb]) }));
  assertEquals(bytes.length, FRAME_HEADER_SIZE + 2 + FRAME_TRAILER_SIZE);
  assertEquals(
    bytes.subarray(0, 22),
    new Uint8Array([
      0x4d,
      0x4d,
      FRAME_VERSION,
      FrameType.Data,
      FrameFlags.AckRequested,
      7,
      0,
      0,
      0x01,
      0x02,
      0x03,
      0x04,
      0xa0,
      0xb0,
      0xc0,
      0xd0,
      0,
      0,
      0,
      2,
      0xaa,
      0xbb,
    ]),
  );
  const crc = new DataView(bytes.buffer).getUint32(22);
  assertEquals(crc, crc32(bytes.subarray(0, 22)));
});

Deno.test("decodeFrame() round-trips every frame type", () => {
  const codes = Object.values(FrameType);
  assertEquals(codes.length, 13);
  for (const type of codes) {
    const original = frame({ type, channel: type, seq: type * 1000, ref: type });
    assertEquals(decodeFrame(encodeFrame(original)), original, `type ${type}`);
  }
});

Deno.test("decodeFrame() round-trips the extreme header values", () => {
  const original = frame({ flags: 0xff, channel: 255, seq: 0xffffffff, ref: 0xffffffff });
  assertEquals(decodeFrame(encodeFrame(original)), original);
  const zero = frame({ flags: 0, channel: 0, seq: 0, ref: 0 });
  assertEquals(decodeFrame(encodeFrame(zero)), zero);
});

Deno.test("decodeFrame() round-trips an empty payload", () => {
  const original = frame({ type: FrameType.Ping, payload: new Uint8Array(0) });
  const bytes = encodeFrame(original);
  assertEquals(bytes.length, FRAME_HEADER_SIZE + FRAME_TRAILER_SIZE);
  assertEquals(decodeFrame(bytes), original);
});

Deno.test("decodeFrame() round-trips a payload of exactly DEFAULT_MAX_PAYLOAD bytes", () => {
  const payload = new Uint8Array(DEFAULT_MAX_PAYLOAD);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const original = frame({ payload });
  const bytes = encodeFrame(original);
  assertEquals(bytes.length, DEFAULT_MAX_PAYLOAD + FRAME_HEADER_SIZE + FRAME_TRAILER_SIZE);
  assertEquals(decodeFrame(bytes), original);
});

Deno.test("encodeFrame() copies the payload, so later changes to it do not leak in", () => {
  const payload = new Uint8Array([1, 2, 3]);
  const bytes = encodeFrame(frame({ payload }));
  payload[0] = 99;
  assertEquals(decodeFrame(bytes).payload, new Uint8Array([1, 2, 3]));
});

Deno.test("encodeFrame() throws FrameTooLargeError for a payload over maxPayload", () => {
  const error = assertThrows(
    () => encodeFrame(frame({ payload: new Uint8Array(DEFAULT_MAX_PAYLOAD + 1) })),
    FrameTooLargeError,
    "1048577 bytes exceeds the limit of 1048576 bytes",
  );
  assertEquals(error.name, "FrameTooLargeError");
  assertThrows(
    () => encodeFrame(frame({ payload: new Uint8Array(11) }), { maxPayload: 10 }),
    FrameTooLargeError,
  );
  encodeFrame(frame({ payload: new Uint8Array(10) }), { maxPayload: 10 });
});

Deno.test("encodeFrame() throws TypeError for out-of-range fields and unknown types", () => {
  const bad: [Partial<Frame>, string][] = [
    [{ seq: -1 }, "seq"],
    [{ seq: 2 ** 32 }, "seq"],
    [{ seq: 1.5 }, "seq"],
    [{ seq: NaN }, "seq"],
    [{ ref: -1 }, "ref"],
    [{ ref: 2 ** 32 }, "ref"],
    [{ channel: 256 }, "channel"],
    [{ channel: -1 }, "channel"],
    [{ flags: 256 }, "flags"],
    [{ type: 0 as FrameTypeCode }, "unknown type"],
    [{ type: 14 as FrameTypeCode }, "unknown type"],
    [{ payload: [1, 2] as unknown as Uint8Array }, "payload"],
  ];
  for (const [overrides, mention] of bad) {
    assertThrows(() => encodeFrame(frame(overrides)), TypeError, mention);
  }
  assertThrows(() => encodeFrame(frame(), { maxPayload: -1 }), TypeError, "maxPayload");
});

Deno.test("decodeFrame() rejects every truncated prefix of a valid frame with InvalidFrameError", () => {
  const bytes = encodeFrame(frame());
  for (let length = 0; length < bytes.length; length++) {
    const error = assertThrows(
      () => decodeFrame(bytes.subarray(0, length)),
      InvalidFrameError,
      "truncated",
      `prefix of ${length} bytes`,
    );
    assertStringIncludes(error.message, `got ${length} of`);
  }
});

Deno.test("decodeFrame() rejects trailing bytes with InvalidFrameError", () => {
  const bytes = encodeFrame(frame());
  assertThrows(
    () => decodeFrame(concat(bytes, new Uint8Array([0]))),
    InvalidFrameError,
    "1 trailing bytes",
  );
  assertThrows(() => decodeFrame(concat(bytes, bytes)), InvalidFrameError, "trailing bytes");
});

Deno.test("decodeFrame() rejects a bad magic with InvalidFrameError", () => {
  const bytes = reseal(encodeFrame(frame()));
  bytes[1] = 0x4e;
  assertThrows(() => decodeFrame(reseal(bytes)), InvalidFrameError, "got 0x4d4e");
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assertThrows(() => decodeFrame(http), InvalidFrameError, "bad magic");
});

Deno.test("decodeFrame() rejects an unsupported version with InvalidFrameError", () => {
  for (const version of [0, 2, 255]) {
    const bytes = encodeFrame(frame());
    bytes[2] = version;
    const error = assertThrows(
      () => decodeFrame(reseal(bytes)),
      InvalidFrameError,
      `unsupported version "${version}" (this node speaks version 1; upgrade`,
    );
    assertStringIncludes(error.message, version < 1 ? "upgrade the peer" : "upgrade this node");
  }
});

Deno.test("decodeFrame() rejects an unknown type with InvalidFrameError", () => {
  for (const type of [0, 14, 255]) {
    const bytes = encodeFrame(frame());
    bytes[3] = type;
    assertThrows(() => decodeFrame(reseal(bytes)), InvalidFrameError, `unknown type "${type}"`);
  }
});

Deno.test("decodeFrame() rejects non-zero reserved bytes with InvalidFrameError", () => {
  for (const [offset, shown] of [[6, "0x0100"], [7, "0x0001"]] as const) {
    const bytes = encodeFrame(frame());
    bytes[offset] = 1;
    assertThrows(
      () => decodeFrame(reseal(bytes)),
      InvalidFrameError,
      `reserved bytes are ${shown}`,
    );
  }
});

Deno.test("decodeFrame() rejects a frame with a bad checksum with InvalidFrameError", () => {
  const bytes = encodeFrame(frame());
  const crc = new DataView(bytes.buffer).getUint32(bytes.length - FRAME_TRAILER_SIZE);
  bytes[FRAME_HEADER_SIZE + 3] ^= 0x01; // flip one payload bit
  const error = assertThrows(() => decodeFrame(bytes), InvalidFrameError, "checksum mismatch");
  assertStringIncludes(error.message, `expected 0x${crc.toString(16).padStart(8, "0")}`);
  assertStringIncludes(error.message, "the stream is corrupt, close it");

  const header = encodeFrame(frame());
  header[11] ^= 0x80; // flip a bit of seq
  assertThrows(() => decodeFrame(header), InvalidFrameError, "checksum mismatch");

  const trailer = encodeFrame(frame());
  trailer[trailer.length - 1] ^= 0xff;
  assertThrows(() => decodeFrame(trailer), InvalidFrameError, "checksum mismatch");
});

Deno.test("decodeFrame() throws FrameTooLargeError when the declared length exceeds maxPayload", () => {
  const bytes = encodeFrame(frame({ payload: new Uint8Array(11) }));
  assertThrows(() => decodeFrame(bytes, { maxPayload: 10 }), FrameTooLargeError, '"11"');
  assertThrows(
    () => decodeFrame(headerDeclaring(DEFAULT_MAX_PAYLOAD + 1)),
    FrameTooLargeError,
    "exceeds the limit of 1048576 bytes",
  );
});

Deno.test("decodeFrame() returns a payload that views the input without copying", () => {
  const bytes = encodeFrame(frame());
  const decoded = decodeFrame(bytes);
  assertStrictEquals(decoded.payload.buffer, bytes.buffer);
  assertEquals(decoded.payload.byteOffset, FRAME_HEADER_SIZE);
});

Deno.test("FrameDecoder.push() decodes frames fed 1 byte at a time", () => {
  const frames = [frame(), frame({ type: FrameType.Ack, payload: new Uint8Array(0) })];
  const stream = concat(...frames.map((f) => encodeFrame(f)));
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  for (let i = 0; i < stream.length; i++) {
    out.push(...decoder.push(stream.subarray(i, i + 1)));
    const boundary = i + 1 === encodeFrame(frames[0]).length || i + 1 === stream.length;
    if (boundary) assertEquals(decoder.bufferedBytes, 0);
    else assertNotEquals(decoder.bufferedBytes, 0);
  }
  assertEquals(out, frames);
});

Deno.test("FrameDecoder.push() returns all 3 frames of one chunk in order", () => {
  const frames = [
    frame({ type: FrameType.Hello, seq: 1 }),
    frame({ type: FrameType.Data, seq: 2, payload: new Uint8Array(0) }),
    frame({ type: FrameType.Leave, seq: 3 }),
  ];
  const decoder = new FrameDecoder();
  assertEquals(decoder.push(concat(...frames.map((f) => encodeFrame(f)))), frames);
  assertEquals(decoder.bufferedBytes, 0);
  assertEquals(decoder.push(new Uint8Array(0)), []);
});

Deno.test("FrameDecoder.push() handles every split point between two chunks", () => {
  const frames = [frame({ seq: 1 }), frame({ seq: 2, channel: 3 }), frame({ seq: 3 })];
  const stream = concat(...frames.map((f) => encodeFrame(f)));
  for (let split = 0; split <= stream.length; split++) {
    const decoder = new FrameDecoder();
    const out = [
      ...decoder.push(stream.subarray(0, split)),
      ...decoder.push(stream.subarray(split)),
    ];
    assertEquals(out, frames, `split at ${split}`);
    assertEquals(decoder.bufferedBytes, 0);
  }
});

Deno.test("FrameDecoder.push() handles pseudo-random chunk sizes over a long stream", () => {
  let state = 42;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0);
  const frames: Frame[] = [];
  for (let i = 0; i < 50; i++) {
    const payload = new Uint8Array(next() % 3000);
    for (let j = 0; j < payload.length; j++) payload[j] = next() & 0xff;
    frames.push(frame({ type: ((i % 13) + 1) as FrameTypeCode, seq: i, payload }));
  }
  const stream = concat(...frames.map((f) => encodeFrame(f)));
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  for (let pos = 0; pos < stream.length;) {
    const size = 1 + (next() % 5000);
    out.push(...decoder.push(stream.subarray(pos, pos + size)));
    pos += size;
  }
  assertEquals(out, frames);
});

Deno.test("FrameDecoder.push() rejects an oversized declared length after only the header", () => {
  const decoder = new FrameDecoder();
  const header = headerDeclaring(DEFAULT_MAX_PAYLOAD + 1);
  assertEquals(decoder.push(header.subarray(0, FRAME_HEADER_SIZE - 1)), []);
  assertThrows(
    () => decoder.push(header.subarray(FRAME_HEADER_SIZE - 1)),
    FrameTooLargeError,
    '"1048577" bytes exceeds the limit of 1048576 bytes',
  );
  assertEquals(decoder.bufferedBytes, 0);

  const small = new FrameDecoder({ maxPayload: 100 });
  assertThrows(() => small.push(headerDeclaring(101)), FrameTooLargeError);
});

Deno.test("FrameDecoder.push() rejects garbage as soon as the first bytes arrive", () => {
  const decoder = new FrameDecoder();
  assertThrows(() => decoder.push(new TextEncoder().encode("G")), InvalidFrameError, "bad magic");

  const versioned = new FrameDecoder();
  assertThrows(
    () => versioned.push(new Uint8Array([0x4d, 0x4d, 9])),
    InvalidFrameError,
    "this node speaks version 1",
  );
});

Deno.test("FrameDecoder.push() rejects a bad checksum, then is poisoned", () => {
  const decoder = new FrameDecoder();
  const good = encodeFrame(frame());
  const bad = encodeFrame(frame());
  bad[FRAME_HEADER_SIZE] ^= 0xff;
  assertEquals(decoder.push(good).length, 1);
  const first = assertThrows(() => decoder.push(bad), InvalidFrameError, "checksum mismatch");
  const again = assertThrows(
    () => decoder.push(good),
    InvalidFrameError,
    "the stream must be closed",
  );
  assertStrictEquals(again.cause, first);
  assertStringIncludes(again.message, "checksum mismatch");
  assertThrows(() => decoder.push(new Uint8Array(0)), InvalidFrameError, "must be closed");
});

Deno.test("FrameDecoder.push() is poisoned after FrameTooLargeError too", () => {
  const decoder = new FrameDecoder({ maxPayload: 4 });
  assertThrows(() => decoder.push(encodeFrame(frame())), FrameTooLargeError);
  assertThrows(
    () => decoder.push(encodeFrame(frame({ payload: new Uint8Array(0) }))),
    InvalidFrameError,
    "must be closed",
  );
});

Deno.test("FrameDecoder.push() throws TypeError for a non-Uint8Array chunk and stays usable", () => {
  const decoder = new FrameDecoder();
  assertThrows(() => decoder.push("MM" as unknown as Uint8Array), TypeError, "Uint8Array");
  assertEquals(decoder.push(encodeFrame(frame())), [frame()]);
});

Deno.test("FrameDecoder.push() returns payloads that alias neither its buffer nor the chunk", () => {
  const decoder = new FrameDecoder();
  const a = encodeFrame(frame({ payload: new Uint8Array([1, 2, 3, 4]) }));
  const b = encodeFrame(frame({ payload: new Uint8Array([5, 6, 7, 8]) }));

  // Through the internal buffer: split, then reuse the buffer for the next frame.
  decoder.push(a.subarray(0, 22));
  const [first] = decoder.push(a.subarray(22));
  decoder.push(b.subarray(0, 22));
  const [second] = decoder.push(b.subarray(22));
  assertEquals(first.payload, new Uint8Array([1, 2, 3, 4]));
  assertEquals(second.payload, new Uint8Array([5, 6, 7, 8]));
  assertNotEquals(first.payload.buffer, second.payload.buffer);

  // Straight from a whole chunk: overwriting the chunk must not change the payload.
  const chunk = a.slice();
  const [direct] = decoder.push(chunk);
  chunk.fill(0);
  assertEquals(direct.payload, new Uint8Array([1, 2, 3, 4]));
  assertFalse(direct.payload.buffer === chunk.buffer);
});

Deno.test("FrameDecoder.bufferedBytes counts the bytes of the incomplete frame", () => {
  const decoder = new FrameDecoder();
  const bytes = encodeFrame(frame());
  assertEquals(decoder.bufferedBytes, 0);
  decoder.push(bytes.subarray(0, 5));
  assertEquals(decoder.bufferedBytes, 5);
  decoder.push(bytes.subarray(5, 30));
  assertEquals(decoder.bufferedBytes, 30);
  assertEquals(decoder.push(concat(bytes.subarray(30), bytes.subarray(0, 3))).length, 1);
  assertEquals(decoder.bufferedBytes, 3);
});

Deno.test("FrameDecoder decodes a DEFAULT_MAX_PAYLOAD frame split into chunks", () => {
  const payload = new Uint8Array(DEFAULT_MAX_PAYLOAD).fill(0x5a);
  const original = frame({ payload });
  const bytes = encodeFrame(original);
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  for (let pos = 0; pos < bytes.length; pos += 65536) {
    out.push(...decoder.push(bytes.subarray(pos, pos + 65536)));
  }
  assertEquals(out.length, 1);
  assertEquals(out[0], original);
});

Deno.test("FrameDecoder constructor throws TypeError for an invalid maxPayload", () => {
  for (const maxPayload of [-1, 1.5, NaN, 2 ** 32]) {
    const error = assertThrows(() => new FrameDecoder({ maxPayload }), TypeError, "maxPayload");
    assertInstanceOf(error, TypeError);
  }
  assert(new FrameDecoder({ maxPayload: 0 }));
});

Deno.test("crc32: zlib's (Deno, Node) and the tables (browsers) equal the bitwise definition for every length 0–300, any offset, and chained", () => {
  assert(nativeCrc32 !== undefined, "node:zlib crc32() is missing on this runtime");
  const bitwise = (bytes: Uint8Array, previous = 0) => {
    let c = (previous ^ 0xffffffff) >>> 0;
    for (const x of bytes) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const data = crypto.getRandomValues(new Uint8Array(310));
  for (let n = 0; n <= 300; n++) {
    const view = data.subarray(n % 7, (n % 7) + n);
    const expected = bitwise(view);
    assertEquals(crc32Tables(view), expected, `tables, length ${n}`);
    assertEquals(nativeCrc32(view, 0), expected, `zlib, length ${n}`);
    assertEquals(crc32(view), expected, `crc32(), length ${n}`);
    const previous = bitwise(data.subarray(300));
    assertEquals(crc32Tables(view, previous), bitwise(view, previous), `tables chained, ${n}`);
    assertEquals(nativeCrc32(view, previous), bitwise(view, previous), `zlib chained, ${n}`);
  }
  const large = crypto.getRandomValues(new Uint8Array(65536)).subarray(3);
  assertEquals(nativeCrc32(large, 0), crc32Tables(large));
});

Deno.test("encodeFrameEnds: header + payload + trailer equal encodeFrame's bytes", () => {
  const frame = {
    type: FrameType.Data,
    flags: 1,
    channel: 4,
    seq: 77,
    ref: 9,
    payload: new Uint8Array(1000).map((_, i) => i * 7),
  };
  const { header, trailer } = encodeFrameEnds(frame);
  const joined = new Uint8Array(header.length + frame.payload.length + trailer.length);
  joined.set(header);
  joined.set(frame.payload, header.length);
  joined.set(trailer, header.length + frame.payload.length);
  assertEquals(joined, encodeFrame(frame));
  assertThrows(
    () => encodeFrameEnds({ ...frame, payload: new Uint8Array(11) }, { maxPayload: 10 }),
    FrameTooLargeError,
  );
});

Deno.test("crc32: the checksum of pieces chains to the checksum of the whole", () => {
  const bytes = new TextEncoder().encode("123456789 and some more bytes to make it longer");
  for (const cut of [0, 1, 5, 9, 20, bytes.length]) {
    assertEquals(crc32(bytes.subarray(cut), crc32(bytes.subarray(0, cut))), crc32(bytes));
  }
  assertEquals(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
