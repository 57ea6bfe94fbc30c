/**
 * Test payloads that show whether they arrived whole: an index, the total length and a
 * pattern that depends on both, so a truncated, spliced or corrupted message is told apart
 * from a whole one.
 *
 * @module
 */

/** Build a payload of `bytes` bytes (at least 8) for message number `index`. */
export function makePayload(index: number, bytes: number): Uint8Array {
  const size = Math.max(8, bytes);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, index >>> 0);
  view.setUint32(4, size);
  for (let i = 8; i < size; i++) out[i] = (index * 7 + i * 13) & 0xff;
  return out;
}

/** What a received payload says about itself. */
export interface PayloadCheck {
  /** Message number. */
  index: number;
  /** Bytes received. */
  bytes: number;
  /** Whether the length and every byte match. */
  intact: boolean;
}

/** Check a payload made by {@linkcode makePayload}. */
export function checkPayload(data: Uint8Array): PayloadCheck {
  if (data.length < 8) return { index: -1, bytes: data.length, intact: false };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const index = view.getUint32(0);
  const size = view.getUint32(4);
  let intact = size === data.length;
  for (let i = 8; intact && i < data.length; i++) {
    if (data[i] !== ((index * 7 + i * 13) & 0xff)) intact = false;
  }
  return { index, bytes: data.length, intact };
}
