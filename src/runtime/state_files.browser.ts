/**
 * Browsers keep no server state: same exports as `state_files.ts`, refusing.
 *
 * @module
 */

function refuse(): Promise<never> {
  return Promise.reject(
    new TypeError(
      "Cannot keep a bootstrap node's state in a browser: run `meshmeet serve` instead",
    ),
  );
}

/**
 * Not available in browsers.
 *
 * @param _path The file.
 * @returns Never.
 * @throws {TypeError} Always.
 */
export function readStateFile(_path: string): Promise<Uint8Array | undefined> {
  return refuse();
}

/**
 * Not available in browsers.
 *
 * @param _path The file.
 * @param _bytes What to write.
 * @returns Never.
 * @throws {TypeError} Always.
 */
export function writeStateFile(_path: string, _bytes: Uint8Array): Promise<void> {
  return refuse();
}
