import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertNotEquals,
  assertRejects,
} from "@std/assert";
import { generateKeyPair, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { BootstrapStateError, startBootstrapNode } from "../mod.ts";
import { loadOrCreateIdentity, STATE_FILES, webRtcDirectStore } from "../src/bootstrap_state.ts";

const peerId = (key: Parameters<typeof peerIdFromPrivateKey>[0]) =>
  peerIdFromPrivateKey(key).toString();

Deno.test("loadOrCreateIdentity: made once (owner-only file), the same key after", async () => {
  const dir = `${await Deno.makeTempDir()}/state`; // missing: created
  try {
    const first = await loadOrCreateIdentity(dir);
    assert(first.created);
    assertEquals(first.privateKey.type, "Ed25519");
    assertEquals(Deno.statSync(`${dir}/${STATE_FILES.identity}`).mode! & 0o777, 0o600);
    const again = await loadOrCreateIdentity(dir);
    assert(!again.created);
    assertEquals(peerId(again.privateKey), peerId(first.privateKey));
    // No temporary files left behind.
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [STATE_FILES.identity]);
  } finally {
    await Deno.remove(dir.replace(/\/state$/, ""), { recursive: true });
  }
});

Deno.test("loadOrCreateIdentity: a damaged or non-Ed25519 key file is a named error, left as it was", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/${STATE_FILES.identity}`;
    Deno.writeFileSync(path, new TextEncoder().encode("not a key"));
    const err = await assertRejects(() => loadOrCreateIdentity(dir), BootstrapStateError);
    assert(err.message.includes(path) && err.message.includes("delete it"), err.message);
    assertEquals(Deno.readTextFileSync(path), "not a key");
    Deno.writeFileSync(path, privateKeyToProtobuf(await generateKeyPair("secp256k1")));
    const other = await assertRejects(() => loadOrCreateIdentity(dir), BootstrapStateError);
    assert(other.message.includes("secp256k1"), other.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("webRtcDirectStore: NotFoundError until saved, then the saved key and certificate", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = webRtcDirectStore(dir);
    const missing = await assertRejects(() => store.keychain.exportKey("k"));
    assertEquals((missing as Error).name, "NotFoundError");
    assertEquals((await store.datastore.get("c").catch((e) => e)).name, "NotFoundError");
    const key = await generateKeyPair("ECDSA", "P-256");
    await store.keychain.importKey("k", key);
    assertEquals((await store.keychain.exportKey("k")).equals(key), true);
    const pem = new TextEncoder().encode("-----BEGIN CERTIFICATE-----\nAAAA\n");
    await store.datastore.put("c", pem);
    assertEquals(await store.datastore.get("c"), pem);
    // A damaged certificate counts as missing (the transport makes a new one).
    Deno.writeFileSync(`${dir}/${STATE_FILES.webRtcDirectCertificate}`, new Uint8Array([1, 2]));
    assertEquals((await store.datastore.get("c").catch((e) => e)).name, "NotFoundError");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startBootstrapNode({ stateDir }): the same peer id and addresses' identity across restarts; a new one without", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const listen = ["/ip4/127.0.0.1/tcp/0"];
    const a = await startBootstrapNode({ listen, stateDir: dir });
    await a.stop();
    const b = await startBootstrapNode({ listen, stateDir: dir });
    await b.stop();
    assertEquals(b.peerId, a.peerId);
    assert(b.addresses.every((x) => x.endsWith(`/p2p/${a.peerId}`)));
    const c = await startBootstrapNode({ listen });
    await c.stop();
    assertNotEquals(c.peerId, a.peerId);
    // A bad directory is a named error, not a half-started node.
    Deno.writeFileSync(`${dir}/${STATE_FILES.identity}`, new Uint8Array([0xff]));
    const err = await startBootstrapNode({ listen, stateDir: dir }).catch((e) => e);
    assertInstanceOf(err, BootstrapStateError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
