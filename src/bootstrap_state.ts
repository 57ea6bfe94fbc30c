/**
 * What a bootstrap node keeps across restarts, in a directory of its own (`stateDir`):
 *
 * - `identity.key`: its Ed25519 identity (libp2p's protobuf encoding). The peer id is part of
 *   every address participants are given (`…/p2p/<peer id>`) and of the `/dnsaddr` records
 *   an operator publishes, so without it every restart broke them.
 * - `webrtc-direct.key` and `webrtc-direct.pem`: the ECDSA key and self-signed certificate
 *   of the WebRTC-Direct listener, whose hash is in that listener's address
 *   (`…/webrtc-direct/certhash/…`). @libp2p/webrtc keeps them through a keychain and a
 *   datastore when the node has them ({@linkcode webRtcDirectStore} is both, for just these
 *   two entries), renews the certificate a day before it expires (its lifespan is 14 days)
 *   and then the certhash changes.
 *
 * Files are written whole (a temporary file renamed over the old one) and readable by their
 * owner only.
 *
 * @module
 */
import type { PrivateKey } from "@libp2p/interface";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { BootstrapStateError } from "./errors.ts";
import { readStateFile, writeStateFile } from "./runtime/state_files.ts";

/** File names inside a state directory. */
export const STATE_FILES = {
  identity: "identity.key",
  webRtcDirectKey: "webrtc-direct.key",
  webRtcDirectCertificate: "webrtc-direct.pem",
} as const;

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function read(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readStateFile(path);
  } catch (cause) {
    throw new BootstrapStateError(
      `Cannot read ${path}: ${(cause as Error).message} (check the state directory's permissions)`,
      { cause },
    );
  }
}

async function write(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeStateFile(path, bytes);
  } catch (cause) {
    throw new BootstrapStateError(
      `Cannot write ${path}: ${(cause as Error).message} (check the state directory's permissions)`,
      { cause },
    );
  }
}

/**
 * The node's identity from `identity.key` in a state directory, made and saved there the
 * first time.
 *
 * @param stateDir The directory (created when missing).
 * @returns The key and whether it was made now.
 * @throws {BootstrapStateError} When the file cannot be read or written, or holds no
 * Ed25519 key.
 */
export async function loadOrCreateIdentity(
  stateDir: string,
): Promise<{ privateKey: PrivateKey; created: boolean }> {
  const path = join(stateDir, STATE_FILES.identity);
  const bytes = await read(path);
  if (bytes === undefined) {
    const privateKey = await generateKeyPair("Ed25519");
    await write(path, privateKeyToProtobuf(privateKey));
    return { privateKey, created: true };
  }
  let privateKey: PrivateKey;
  try {
    privateKey = privateKeyFromProtobuf(bytes);
  } catch (cause) {
    throw new BootstrapStateError(
      `Cannot use ${path}: it is not a protobuf-encoded libp2p private key (restore it from a ` +
        "backup, or delete it to make a new identity, which changes the node's addresses)",
      { cause },
    );
  }
  if (privateKey.type !== "Ed25519") {
    throw new BootstrapStateError(
      `Cannot use ${path}: it holds a ${privateKey.type} key, not Ed25519 (restore it from a ` +
        "backup, or delete it to make a new identity, which changes the node's addresses)",
    );
  }
  return { privateKey, created: false };
}

/** The keychain and datastore @libp2p/webrtc's WebRTC-Direct transport asks for. */
export interface WebRtcDirectStore {
  /** Keeps the certificate's private key (whatever name it is asked under). */
  readonly keychain: {
    exportKey(name: string): Promise<PrivateKey>;
    importKey(name: string, key: PrivateKey): Promise<{ id: string; name: string }>;
  };
  /** Keeps the certificate (whatever key it is asked under). */
  readonly datastore: {
    get(key: unknown): Promise<Uint8Array>;
    put(key: unknown, value: Uint8Array): Promise<unknown>;
  };
}

/**
 * Files for the WebRTC-Direct listener's key and certificate in a state directory, shaped
 * as the keychain and datastore @libp2p/webrtc uses for them. A missing file is a
 * `NotFoundError`, as the transport expects, which then makes and saves new ones.
 *
 * @param stateDir The directory.
 * @returns The store.
 */
export function webRtcDirectStore(stateDir: string): WebRtcDirectStore {
  const keyPath = join(stateDir, STATE_FILES.webRtcDirectKey);
  const certPath = join(stateDir, STATE_FILES.webRtcDirectCertificate);
  // What the transport checks for (`err.name`), as libp2p's own NotFoundError would say.
  const missing = (path: string) =>
    Object.assign(new Error(`${path} does not exist yet`), { name: "NotFoundError" });
  return {
    keychain: {
      async exportKey() {
        const bytes = await read(keyPath);
        if (bytes === undefined) throw missing(keyPath);
        try {
          return privateKeyFromProtobuf(bytes);
        } catch {
          // A damaged key is replaced, as an expired certificate is: the certhash changes.
          throw missing(keyPath);
        }
      },
      async importKey(name, key) {
        await write(keyPath, privateKeyToProtobuf(key));
        return { id: name, name };
      },
    },
    datastore: {
      async get() {
        const bytes = await read(certPath);
        // A damaged certificate is replaced too (the transport would fail to start on it).
        const pem = bytes && new TextDecoder().decode(bytes.subarray(0, 64));
        if (!pem?.startsWith("-----BEGIN CERTIFICATE-----")) throw missing(certPath);
        return bytes!;
      },
      async put(key, value) {
        await write(certPath, value);
        return key;
      },
    },
  };
}
