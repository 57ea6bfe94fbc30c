/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib, PNG and
 * Ethernet. Private helper of the wire framing in `frame.ts`.
 *
 * @module
 */

/** The 256 partial remainders, one per byte value, computed once at load time. */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Compute the CRC-32 (IEEE) checksum of some bytes.
 *
 * @param bytes The bytes to checksum (a view is fine; only its window is read).
 * @returns The checksum as an unsigned 32-bit integer (0 to 0xFFFFFFFF).
 * @throws Never.
 *
 * @example Checksum of the standard check string
 * ```ts
 * import { crc32 } from "./_crc32.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
