/**
 * `meshmeet serve --state-dir`: a restarted bootstrap node keeps its peer id and its
 * WebRTC-Direct certhash, so the addresses and `/dnsaddr` records given out stay valid.
 */
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { CliProcess } from "./_cli.ts";

async function serveOnce(args: string[]): Promise<{ peerId: string; addresses: string[] }> {
  const serve = new CliProcess("serve", [
    "serve",
    "--json",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--listen",
    "/ip4/127.0.0.1/udp/0/webrtc-direct",
    ...args,
  ]);
  try {
    const e = await serve.waitForEvent((e) => e.event === "listening", "listening", 30_000);
    return { peerId: e.peerId as string, addresses: e.addresses as string[] };
  } finally {
    const status = await serve.stop();
    assertEquals(status.code, 0, `serve exited with ${status.code}: ${serve.stderr}`);
  }
}

const certhash = (addresses: string[]) =>
  addresses.find((a) => a.includes("/certhash/"))?.split("/certhash/")[1].split("/")[0];

Deno.test("meshmeet serve --state-dir keeps the peer id and the WebRTC-Direct certhash across restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await serveOnce(["--state-dir", dir]);
    const second = await serveOnce(["--state-dir", dir]);
    assert(certhash(first.addresses), `a certhash in ${first.addresses}`);
    assertEquals(second.peerId, first.peerId);
    assertEquals(certhash(second.addresses), certhash(first.addresses));
    assertEquals(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["identity.key", "webrtc-direct.key", "webrtc-direct.pem"],
    );
    // Without it, both are new.
    const fresh = await serveOnce([]);
    assertNotEquals(fresh.peerId, first.peerId);
    assertNotEquals(certhash(fresh.addresses), certhash(first.addresses));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
