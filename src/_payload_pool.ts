/**
 * Buffers for the payloads of large messages sent to one participant, used again once the
 * message is acknowledged.
 *
 * A message is encoded into a buffer of its own (a tag byte, then the bytes), which its
 * link keeps until the acknowledgement, to write it again if the link reconnects first. On
 * these VMs the first write to newly allocated memory costs about 18 µs per 4 KiB page, so
 * that one copy of a 256 KiB message took ~1.2 ms, about as long as moving it over the data
 * channel; into a buffer used before it takes ~0.02 ms. Only `Meeting.send()` takes from
 * here: its payload is held by nobody but its link, and the acknowledgement proves the link
 * wrote it for the last time (a broadcast through the mesh may be cached and sent again
 * later; a failed or aborted send is never given back).
 *
 * The buffers are shared by every meeting of the process, at most
 * {@linkcode POOL_BUDGET_BYTES} of them; they are dropped when a meeting is left. (No idle
 * timer: a timer left running would show up in every test that sends a large message.)
 *
 * @module
 */

/** Smaller payloads are allocated as usual (the page cost matters little below). */
export const MIN_POOLED_BYTES = 32 * 1024;
/** Larger payloads are allocated as usual. */
const MAX_POOLED_BYTES = 4 * 1024 * 1024;
/** Spare capacity kept at most (16 sends of 256 KiB in flight). */
export const POOL_BUDGET_BYTES = 4 * 1024 * 1024;
/** Capacities are rounded up to this (a 256 KiB message plus its tag byte fits 272 KiB). */
const GRANULE = 16 * 1024;

const spare: ArrayBuffer[] = [];
let spareBytes = 0;

/**
 * A buffer of `size` bytes for a message payload: a view on a spare buffer when one fits
 * (contents undefined: the caller writes every byte), else a new one.
 *
 * @param size Bytes needed.
 * @returns A view of exactly `size` bytes, at offset 0 of its buffer.
 */
export function takePayload(size: number): Uint8Array<ArrayBuffer> {
  if (size < MIN_POOLED_BYTES || size > MAX_POOLED_BYTES) return new Uint8Array(size);
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const capacity = spare[i].byteLength;
    // The smallest that fits, and never more than twice the size (no 4 MiB for 40 KiB).
    if (capacity >= size && capacity <= 2 * size + GRANULE) {
      if (best < 0 || capacity < spare[best].byteLength) best = i;
    }
  }
  if (best >= 0) {
    const buffer = spare[best];
    spare[best] = spare[spare.length - 1];
    spare.pop();
    spareBytes -= buffer.byteLength;
    return new Uint8Array(buffer, 0, size);
  }
  return new Uint8Array(new ArrayBuffer(Math.ceil(size / GRANULE) * GRANULE), 0, size);
}

/**
 * Give a payload's buffer back once nothing holds it any more (its message acknowledged).
 * Buffers that did not come from {@linkcode takePayload}'s pooled sizes are left alone.
 *
 * @param payload A view returned by {@linkcode takePayload}.
 */
export function givePayload(payload: Uint8Array): void {
  const buffer = payload.buffer;
  if (
    !(buffer instanceof ArrayBuffer) || payload.byteOffset !== 0 ||
    payload.byteLength < MIN_POOLED_BYTES || buffer.byteLength % GRANULE !== 0 ||
    buffer.byteLength > MAX_POOLED_BYTES + GRANULE ||
    spareBytes + buffer.byteLength > POOL_BUDGET_BYTES || spare.includes(buffer)
  ) return;
  spare.push(buffer);
  spareBytes += buffer.byteLength;
}

/** Bytes held in spare buffers (for tests and diagnostics). */
export function sparePayloadBytes(): number {
  return spareBytes;
}

/** Drop every spare buffer (when a meeting is left, and in tests). */
export function dropSparePayloads(): void {
  spare.length = 0;
  spareBytes = 0;
}
