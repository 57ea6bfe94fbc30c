/**
 * Browsers have no native CRC-32: `src/_crc32.ts` uses its own tables. Same exports as
 * `crc32.ts`.
 *
 * @module
 */

/** No native checksum in browsers. */
export const nativeCrc32: ((bytes: Uint8Array, previous: number) => number) | undefined = undefined;
