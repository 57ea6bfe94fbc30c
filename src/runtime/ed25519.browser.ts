/**
 * Synchronous Ed25519 in browsers: `@noble/curves` (WebCrypto's Ed25519 is asynchronous, and
 * the overlay decides synchronously). About 2 ms a verification; see `ed25519.ts`.
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519";

/**
 * A signer for a 32-byte Ed25519 seed.
 * @param seed The private key's seed.
 * @returns Sign function.
 */
export function ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  return (message) => ed25519.sign(message, seed);
}

/**
 * A verifier for a 32-byte Ed25519 public key.
 * @param publicKey The raw public key.
 * @returns Verify function (false on any malformed input).
 */
export function ed25519Verifier(
  publicKey: Uint8Array,
): (message: Uint8Array, signature: Uint8Array) => boolean {
  return (message, signature) => {
    try {
      return ed25519.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  };
}
