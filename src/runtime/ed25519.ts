/**
 * Synchronous Ed25519 for the overlay's signed roster, on Deno and Node: `node:crypto`
 * (native; about 40 µs a verification here against 2 ms for `@noble/curves`, which is what
 * lets a newcomer check 10,000 roster entries in well under a second). Browsers use
 * `ed25519.browser.ts` (WebCrypto there is asynchronous).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

// DER headers of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410).
const PKCS8 = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);
const SPKI = Uint8Array.from([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
]);

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.concat([a, b]);
}

/**
 * A signer for a 32-byte Ed25519 seed.
 * @param seed The private key's seed.
 * @returns Sign function.
 */
export function ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  const key = createPrivateKey({ key: concat(PKCS8, seed), format: "der", type: "pkcs8" });
  return (message) => new Uint8Array(sign(null, message, key));
}

/**
 * A verifier for a 32-byte Ed25519 public key.
 * @param publicKey The raw public key.
 * @returns Verify function (false on any malformed input).
 */
export function ed25519Verifier(
  publicKey: Uint8Array,
): (message: Uint8Array, signature: Uint8Array) => boolean {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: concat(SPKI, publicKey), format: "der", type: "spki" });
  } catch {
    return () => false;
  }
  return (message, signature) => {
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}
