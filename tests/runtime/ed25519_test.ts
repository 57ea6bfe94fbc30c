import { assert, assertEquals } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import * as native from "../../src/runtime/ed25519.ts";
import * as noble from "../../src/runtime/ed25519.browser.ts";
import { ed25519Crypto } from "../../src/overlay/driver.ts";

Deno.test("ed25519: node:crypto and @noble/curves agree with libp2p's keys", async () => {
  const key = await generateKeyPair("Ed25519");
  const seed = key.raw.subarray(0, 32);
  const msg = new TextEncoder().encode("a roster entry");
  const sigNative = native.ed25519Signer(seed)(msg);
  const sigNoble = noble.ed25519Signer(seed)(msg);
  assertEquals(sigNative, sigNoble); // Ed25519 is deterministic
  assert(await key.publicKey.verify(msg, sigNative));
  for (
    const v of [native.ed25519Verifier(key.publicKey.raw), noble.ed25519Verifier(key.publicKey.raw)]
  ) {
    assert(v(msg, sigNative));
    assert(!v(new TextEncoder().encode("another entry"), sigNative));
    assert(!v(msg, new Uint8Array(64)));
    assert(!v(msg, new Uint8Array(3)));
  }
  assert(!native.ed25519Verifier(new Uint8Array(5))(msg, sigNative));
});

Deno.test("ed25519Crypto: verifies by peer id, refuses other keys and malformed ids", async () => {
  const a = await generateKeyPair("Ed25519");
  const b = await generateKeyPair("Ed25519");
  const ca = ed25519Crypto(a);
  const msg = new Uint8Array([1, 2, 3]);
  const sig = ca.sign(msg);
  assert(ca.verify(peerIdFromPrivateKey(a).toString(), msg, sig));
  assert(!ca.verify(peerIdFromPrivateKey(b).toString(), msg, sig));
  assert(!ca.verify("not-a-peer-id", msg, sig));
});
