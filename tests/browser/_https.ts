/**
 * The example page served over https, with a bootstrap node that browsers reach over
 * WebRTC-Direct only: what a deployment on the internet looks like, on loopback.
 *
 * The page's certificate is self-signed, made here with openssl, and Chromium is told to
 * accept that one key (`--ignore-certificate-errors-spki-list`), as a page with a
 * CA-signed certificate would be. The bootstrap node needs no certificate authority at all:
 * its WebRTC-Direct address pins its certificate by hash.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
import * as meshmeet from "../../mod.ts";
import { createExampleApp } from "../../examples/browser/server.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./_chromium.ts";

async function openssl(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** A self-signed certificate for 127.0.0.1 and the base64 SHA-256 of its public key. */
export async function selfSignedCertificate(dir: string): Promise<{
  cert: string;
  key: string;
  spki: string;
}> {
  const certPath = `${dir}/page.crt`;
  const keyPath = `${dir}/page.key`;
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  const pub = await openssl(["x509", "-in", certPath, "-pubkey", "-noout"]);
  const der = await openssl(["pkey", "-pubin", "-outform", "der"], pub);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
  return {
    cert: await Deno.readTextFile(certPath),
    key: await Deno.readTextFile(keyPath),
    spki: btoa(String.fromCharCode(...hash)),
  };
}

/** Everything the https step runs; `stop()` closes the browser first (LAB.md). */
export class HttpsLab {
  boot!: meshmeet.BootstrapNode;
  browser!: Browser;
  server!: Deno.HttpServer<Deno.NetAddr>;
  url!: string;
  #dir = "";

  /** WebRTC-Direct addresses of the bootstrap node: the page's whole bootstrap list. */
  get webRtcDirect(): string[] {
    return this.boot.addresses.filter((a) => a.includes("/webrtc-direct/"));
  }

  async start(bundleDir: string): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "meshmeet-https-" });
    this.boot = await meshmeet.startBootstrapNode({
      listen: ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/webrtc-direct"],
    });
    const tls = await selfSignedCertificate(this.#dir);
    const app = createExampleApp({ bootstrap: this.webRtcDirect, bundleDir });
    this.server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: tls.cert,
      key: tls.key,
      onListen: () => {},
    }, app.fetch);
    this.url = `https://127.0.0.1:${this.server.addr.port}/`;
    this.browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${tls.spki}`],
      timeout: 60_000,
    });
  }

  /** Open the example page in a fresh context. */
  async page(): Promise<Page> {
    const context = await this.browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(this.url, { waitUntil: "load", timeout: 30_000 });
    if (!response?.ok()) throw new Error(`GET ${this.url}: ${response?.status()}`);
    // app.js registers its handlers after loading the bundle and /config.json.
    await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
    return page;
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => {});
    await this.server?.shutdown();
    await this.boot?.stop();
    if (this.#dir) await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
