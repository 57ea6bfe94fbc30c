/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib, PNG and
 * Ethernet. Private helper of the wire framing in `frame.ts`. Where the runtime has zlib's
 * (`src/runtime/crc32.ts`: Deno, Node) that one is used; these tables serve browsers.
 *
 * @module
 */
import { nativeCrc32 } from "./runtime/crc32.ts";

/**
 * Slicing-by-8 tables: table `k` (entries `k * 256 …`) holds the remainder of a byte
 * followed by `k` zero bytes, so the loop below takes 8 bytes per step. Computed once at
 * load time. With one table (a byte per step) the checksum took a fifth of the CPU time
 * of a 64 MiB transfer over a data channel; this is several times faster.
 */
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = ((prev >>> 8) ^ t[prev & 0xff]) >>> 0;
    }
  }
  return t;
})();

/**
 * Compute the CRC-32 (IEEE) checksum of some bytes.
 *
 * @param bytes The bytes to checksum (a view is fine; only its window is read).
 * @param previous The checksum of the bytes before these, to checksum a sequence of
 *   pieces: `crc32(b, crc32(a))` equals the checksum of `a` followed by `b`. 0 to start.
 * @returns The checksum as an unsigned 32-bit integer (0 to 0xFFFFFFFF).
 * @throws Never.
 *
 * @example Checksum of the standard check string
 * ```ts
 * import { crc32 } from "./_crc32.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return nativeCrc32 ? nativeCrc32(bytes, previous) : crc32Tables(bytes, previous);
}

/**
 * The same checksum computed with the tables above (what browsers use).
 *
 * @param bytes The bytes to checksum.
 * @param previous The checksum of the bytes before these (0 to start).
 * @returns The checksum as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { crc32Tables } from "./_crc32.ts";
 * crc32Tables(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32Tables(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) {
    crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
