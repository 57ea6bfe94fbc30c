/**
 * Small files a server keeps across restarts (Deno and Node: `node:fs`). Browsers have
 * their own variant, which refuses.
 *
 * @module
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Read a whole file, or `undefined` when it does not exist.
 *
 * @param path The file.
 * @returns Its bytes.
 * @throws {Error} When it exists but cannot be read (permissions, a directory…).
 */
export async function readStateFile(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Write a file readable by its owner only (0600), whole or not at all: the bytes go to a
 * temporary file next to it, which is then renamed over it.
 *
 * @param path The file (its directory is created, 0700, when missing).
 * @param bytes What to write.
 */
export async function writeStateFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o600 });
  await chmod(tmp, 0o600); // the umask may have taken bits away, never added: be exact
  await rename(tmp, path);
}
