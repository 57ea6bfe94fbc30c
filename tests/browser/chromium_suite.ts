/**
 * The browser suite: the contract scenarios with every peer in its own Chromium page
 * (Debian's `chromium`, driven by `playwright-core`), a mixed meeting of Chromium, Deno and
 * Node peers, and the example page used as a person would (with a screenshot).
 *
 * Run it with `deno task test:browser`: `run.ts` builds the bundle, then runs this file in
 * a fresh network namespace that has only loopback, so ICE stays on 127.0.0.1. It is not
 * named `*_test.ts` so that `deno task test` does not pick it up. Nothing skips: a missing
 * Chromium or Node fails the suite.
 *
 * Environment (set by `run.ts`): `MESHMEET_NODE22`, `MESHMEET_NODE24` (Node binaries),
 * `MESHMEET_BRIDGE` (the bundled `page_bridge.ts`).
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./_chromium.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import * as meshmeet from "../../mod.ts";
import { createExampleApp } from "../../examples/browser/server.ts";
import { createLocalRuntime, type HostCommand, RemoteRuntime } from "../contract/local_runtime.ts";
import {
  type ContractMeasurement,
  type ContractPeer,
  type ContractRuntime,
  mixedMeeting,
  runScenario,
  scenarios,
  summarize,
} from "../contract/scenarios.ts";
import { ProcessHost } from "./_process_host.ts";
import { HttpsLab } from "./_https.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ARTIFACTS = `${ROOT}.artifacts`;

function requireEnv(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run this suite with \`deno task test:browser\``);
  return value;
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Chromium pages as a contract runtime: each participant in its own context and page. */
class ChromiumRuntime implements ContractRuntime {
  readonly name = "chromium";
  #browser: Browser;
  #url: string;
  #bootstrap: string[];
  #contexts = new Set<BrowserContext>();
  #codePage: RemoteRuntime | undefined;
  /** Errors thrown in pages (reported on failure). */
  readonly pageErrors: string[] = [];

  constructor(browser: Browser, url: string, bootstrap: string[]) {
    this.#browser = browser;
    this.#url = url;
    this.#bootstrap = bootstrap;
  }

  async #open(): Promise<{ context: BrowserContext; page: Page; runtime: RemoteRuntime }> {
    const context = await this.#browser.newContext();
    this.#contexts.add(context);
    const page = await context.newPage();
    page.on("pageerror", (err) => this.pageErrors.push(err.message));
    await page.goto(this.#url, { waitUntil: "load", timeout: 30_000 });
    await page.addScriptTag({ url: "/contract-bridge.js", type: "module" });
    await page.waitForFunction(() => "__contract" in globalThis, undefined, { timeout: 30_000 });
    await page.evaluate((b) => {
      // deno-lint-ignore no-explicit-any
      (globalThis as any).__contract.init(b);
    }, this.#bootstrap);
    const runtime = new RemoteRuntime(
      this.name,
      (command: HostCommand) =>
        page.evaluate((c) => {
          // deno-lint-ignore no-explicit-any
          return (globalThis as any).__contract.call(c);
        }, command),
    );
    return { context, page, runtime };
  }

  async generateCode(): Promise<string> {
    this.#codePage ??= (await this.#open()).runtime;
    return await this.#codePage.generateCode();
  }

  async join(code: string, name: string): Promise<ContractPeer> {
    const { context, runtime } = await this.#open();
    const peer = await runtime.join(code, name);
    let left: Promise<void> | undefined;
    return {
      ...peer,
      leave: () =>
        left ??= (async () => {
          await peer.leave().catch(() => {});
          this.#contexts.delete(context);
          await context.close();
        })(),
    };
  }

  /** Close every page this runtime opened. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#contexts].map((c) => c.close()));
    this.#contexts.clear();
  }
}

/** Everything the suite starts, torn down in a safe order (browsers before servers). */
class Lab {
  boot!: meshmeet.BootstrapNode;
  browser!: Browser;
  server!: Deno.HttpServer<Deno.NetAddr>;
  url!: string;
  chromiumVersion = "";
  chromium!: ChromiumRuntime;
  hosts: ProcessHost[] = [];
  measurements: ContractMeasurement[] = [];

  async start(): Promise<void> {
    this.boot = await meshmeet.startBootstrapNode({
      listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
    });
    const app = createExampleApp({
      bootstrap: this.browserBootstrap,
      bundleDir: `${ROOT}npm/browser`,
      extraFiles: { "/contract-bridge.js": requireEnv("MESHMEET_BRIDGE") },
    });
    this.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    this.url = `http://127.0.0.1:${this.server.addr.port}/`;
    const launched = performance.now();
    this.browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 60_000,
    });
    this.chromiumVersion = this.browser.version();
    console.log(
      `chromium ${this.chromiumVersion} up in ${Math.round(performance.now() - launched)} ms`,
    );
    this.chromium = new ChromiumRuntime(this.browser, this.url, this.browserBootstrap);
  }

  /** Browsers dial the bootstrap node over WebSockets (no TLS on loopback). */
  get browserBootstrap(): string[] {
    return this.boot.addresses.filter((a) => a.includes("/ws/"));
  }

  async nodeHost(major: string): Promise<ProcessHost> {
    const host = await ProcessHost.start(`node${major}`, requireEnv(`MESHMEET_NODE${major}`), [
      `${ROOT}npm/test/contract/peer_host.js`,
      "--runtime",
      `node${major}`,
      ...this.boot.addresses.flatMap((a) => ["--bootstrap", a]),
    ], { cwd: `${ROOT}npm` });
    this.hosts.push(host);
    return host;
  }

  async stop(): Promise<void> {
    // LAB.md: node-datachannel can crash when servers stop while browsers are connected.
    await this.chromium?.close();
    await this.browser?.close().catch(() => {});
    await Promise.allSettled(this.hosts.map((h) => h.close()));
    await this.server?.shutdown();
    await this.boot?.stop();
  }
}

/** Median of finite numbers (NaN when none). */
function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

function matrixTable(measurements: ContractMeasurement[], runtimes: string[]): string {
  const head = `| connect ms (p50) | ${runtimes.join(" | ")} |\n|---|${
    runtimes.map(() => "---").join("|")
  }|`;
  const rows = runtimes.map((from) => {
    const cells = runtimes.map((to) => {
      const ms = measurements.filter((m) =>
        (m.from === from && m.to === to) || (m.from === to && m.to === from)
      ).map((m) => m.connectMs);
      const value = median(ms);
      return Number.isFinite(value) ? `${Math.round(value)}` : "—";
    });
    return `| **${from}** | ${cells.join(" | ")} |`;
  });
  return [head, ...rows].join("\n");
}

/**
 * `MESHMEET_BROWSER_STEPS=mixed,example` runs only some steps (for debugging); refused
 * under CI, where everything runs.
 */
function only(step: string): boolean {
  const steps = Deno.env.get("MESHMEET_BROWSER_STEPS");
  if (!steps) return true;
  if (Deno.env.get("CI") === "true") throw new Error("MESHMEET_BROWSER_STEPS is not allowed in CI");
  return steps.split(",").includes(step);
}

Deno.test("Chromium: contract scenarios, a mixed Chromium/Deno/Node meeting, the example page", async (t) => {
  assert(
    Deno.readTextFileSync("/proc/net/dev").split("\n").slice(2).filter((l) => l.trim()).every(
      (l) => l.trim().startsWith("lo:"),
    ),
    "run in a network namespace with only loopback (deno task test:browser does this)",
  );
  Deno.mkdirSync(ARTIFACTS, { recursive: true });
  const lab = new Lab();
  try {
    await lab.start();

    for (const scenario of only("contract") ? scenarios : []) {
      await t.step(`contract (chromium): ${scenario.name}`, async () => {
        const errors = lab.chromium.pageErrors.length;
        await runScenario(scenario, lab.chromium, lab.measurements);
        assertEquals(lab.chromium.pageErrors.slice(errors), [], "errors thrown in pages");
      });
    }

    if (only("webtransport")) {
      await t.step(
        "Chromium dials WebTransport addresses (no server here listens on it)",
        async () => {
          const runtime = lab.chromium;
          const peer = await runtime.join(await runtime.generateCode(), "Wendy");
          try {
            // A syntactically valid WebTransport address of the bootstrap node's id on a port
            // where nothing listens: the browser build must try it with WebTransport (and fail
            // in the handshake) rather than have no transport for it.
            // (A peer id nobody has, so libp2p cannot reuse an existing connection.)
            const certhash = "uEiA" + "A".repeat(42) + "A";
            const stranger = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
            const address =
              `/ip4/127.0.0.1/udp/9/quic-v1/webtransport/certhash/${certhash}/p2p/${stranger}`;
            const result = await peer.connect(address);
            assert(!result.ok, "nothing listens there");
            assert(
              /webtransport/i.test(`${result.errorName} ${result.message}`) &&
                !/no (valid )?transport|NoValidAddresses|not supported/i.test(result.message ?? ""),
              `the browser build has no WebTransport dialer: ${result.errorName}: ${result.message}`,
            );
            console.log(
              `  WebTransport dial from Chromium: ${result.errorName}: ${result.message}`,
            );
          } finally {
            await peer.leave();
          }
        },
      );
    }

    if (only("mixed")) {
      await t.step(
        "mixed meeting: 2 Chromium pages, 2 Deno peers, Node 22 and Node 24 peers, every pair direct",
        async () => {
          const [node22, node24] = [await lab.nodeHost("22"), await lab.nodeHost("24")];
          const deno = createLocalRuntime("deno", meshmeet, {
            bootstrap: lab.boot.addresses,
            rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
          });
          const result = await mixedMeeting([
            lab.chromium,
            lab.chromium,
            deno,
            deno,
            node22.runtime(),
            node24.runtime(),
          ]);
          assertEquals(result.measurements.length, 30, "6 peers: 30 ordered pairs acknowledged");
          lab.measurements.push(...result.measurements);
          console.log(
            `  6 joined one after the other; full mesh ${Math.round(result.meshMs)} ms after the ` +
              `first join, ${Math.round(result.afterLastJoinMs)} ms after the last`,
          );
        },
      );
    }

    if (only("example")) {
      await t.step(
        "the example page: a person generates a code, joins, sees the other, chats",
        async () => {
          const pages: Page[] = [];
          const contexts: BrowserContext[] = [];
          try {
            for (let i = 0; i < 2; i++) {
              const context = await lab.browser.newContext({
                viewport: { width: 1000, height: 900 },
              });
              contexts.push(context);
              const page = await context.newPage();
              await page.goto(lab.url, { waitUntil: "load", timeout: 30_000 });
              await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
              pages.push(page);
            }
            const [ada, bob] = pages;
            // A wrong code is refused with a message that says why.
            await ada.fill("#code", "ab");
            await ada.fill("#name", "Ada");
            await ada.click("#join");
            await ada.waitForSelector("#status.error", { timeout: 15_000 });
            assert((await ada.textContent("#status"))!.includes("too short"));

            await ada.click("#generate");
            const code = await ada.inputValue("#code");
            assert(/^[a-z]+(-[a-z]+){4}-\d{4}$/.test(code), `generated code: ${code}`);
            await ada.click("#join");
            await bob.fill("#code", code);
            await bob.fill("#name", "Bob");
            await bob.click("#join");
            for (const page of pages) {
              await page.waitForSelector('#participants tr[data-path="direct"]', {
                timeout: 45_000,
              });
            }
            assertEquals(await ada.textContent('#participants tr[data-path="direct"] td'), "Bob");
            await bob.fill("#message", "Hello from Bob");
            await bob.press("#message", "Enter");
            await ada.waitForFunction(
              () => document.querySelector("#log")!.textContent!.includes("Bob: Hello from Bob"),
              undefined,
              { timeout: 15_000 },
            );
            await bob.waitForSelector('#log [data-acked="1"]', { timeout: 15_000 });
            await ada.fill("#message", "Hi Bob! Direct WebRTC from Chromium.");
            await ada.click("#send");
            await ada.waitForSelector('#log [data-acked="1"]', { timeout: 15_000 });
            await bob.waitForFunction(
              () => document.querySelector("#log")!.textContent!.includes("Ada: Hi Bob!"),
              undefined,
              { timeout: 15_000 },
            );
            const shot = await ada.screenshot({
              path: `${ARTIFACTS}/browser-example.png`,
              fullPage: true,
            });
            const stats = await bob.evaluate(async (b64) => {
              const img = new Image();
              img.src = `data:image/png;base64,${b64}`;
              await img.decode();
              const canvas = new OffscreenCanvas(img.width, img.height);
              const ctx = canvas.getContext("2d")!;
              ctx.drawImage(img, 0, 0);
              const data = ctx.getImageData(0, 0, img.width, img.height).data;
              const counts = new Map<number, number>();
              let total = 0;
              for (let i = 0; i < data.length; i += 4 * 3) {
                const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
                counts.set(key, (counts.get(key) ?? 0) + 1);
                total++;
              }
              const top = Math.max(...counts.values());
              return {
                width: img.width,
                height: img.height,
                colors: counts.size,
                other: 1 - top / total,
              };
            }, base64(new Uint8Array(shot)));
            console.log(
              `  screenshot ${stats.width}x${stats.height}, ${stats.colors} colors, ` +
                `${
                  (stats.other * 100).toFixed(1)
                }% off the background → .artifacts/browser-example.png`,
            );
            assert(stats.width >= 800 && stats.height >= 600, "screenshot has the page's size");
            assert(stats.colors >= 32, `screenshot looks blank: ${stats.colors} colors`);
            assert(
              stats.other >= 0.05,
              `screenshot looks blank: ${stats.other} off the background`,
            );
            await ada.click("#leave");
            await bob.waitForFunction(
              () => document.querySelector("#log")!.textContent!.includes("Ada left (left)"),
              undefined,
              { timeout: 15_000 },
            );
          } finally {
            await Promise.allSettled(contexts.map((c) => c.close()));
          }
        },
      );
    }

    if (only("https")) {
      await t.step(
        "the example page over https: Chromium reaches the bootstrap node over WebRTC-Direct only, meets a Deno peer, chats (10 rounds)",
        async () => {
          const https = new HttpsLab();
          const meetMs: number[] = [];
          try {
            await https.start(`${ROOT}npm/browser`);
            for (let round = 0; round < 10; round++) {
              const page = await https.page();
              let dora: meshmeet.Meeting | undefined;
              try {
                const secure = await page.evaluate(() => isSecureContext && location.protocol);
                assertEquals(secure, "https:");
                const code = meshmeet.generateInvitationCode();
                await page.fill("#code", code);
                await page.fill("#name", "Wren");
                const t0 = performance.now();
                await page.click("#join");
                dora = await meshmeet.joinMeeting(code, {
                  name: "Dora",
                  // The Deno peer reaches the same bootstrap node over TCP.
                  bootstrap: https.boot.addresses.filter((a) => !a.includes("/webrtc-direct/")),
                  rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
                });
                try {
                  await page.waitForSelector('#participants tr[data-path="direct"]', {
                    timeout: 45_000,
                  });
                } catch (err) {
                  throw new Error(
                    `round ${round + 1}: no direct link after 45 s; page: ${await page.textContent(
                      "#status",
                    )} | ${await page.textContent("#participants")} | log: ${
                      (await page.textContent("#log"))?.slice(-500)
                    }; Deno peer: ${JSON.stringify(dora.participants)} ${
                      JSON.stringify(dora.stats)
                    }`,
                    { cause: err },
                  );
                }
                meetMs.push(performance.now() - t0);
                if (round > 0) continue;
                // The page's only way to the bootstrap node was WebRTC-Direct.
                const doraId = dora.self.peerId;
                const browserConns = https.boot.libp2p.getConnections().filter((c) =>
                  c.remotePeer.toString() !== doraId
                );
                assert(browserConns.length >= 1, "the page has no connection to the bootstrap");
                for (const c of browserConns) {
                  assert(c.remoteAddr.toString().includes("/webrtc-direct"), `${c.remoteAddr}`);
                }
                const texts: string[] = [];
                dora.addEventListener("message", (e) => texts.push(e.detail.text ?? ""));
                await page.fill("#message", "Hello Dora, from an https page");
                await page.press("#message", "Enter");
                await page.waitForSelector('#log [data-acked="1"]', { timeout: 15_000 });
                assert(texts.includes("Hello Dora, from an https page"), texts.join("|"));
                await dora.broadcast("Hi Wren, from Deno");
                await page.waitForFunction(
                  () => document.querySelector("#log")!.textContent!.includes("Dora: Hi Wren"),
                  undefined,
                  { timeout: 15_000 },
                );
              } finally {
                await page.context().close();
                await dora?.leave();
              }
            }
          } finally {
            await https.stop(); // the browser first (LAB.md)
          }
          const sorted = [...meetMs].sort((a, b) => a - b);
          console.log(
            `  https + WebRTC-Direct: time-to-meet (click Join → direct link to the Deno peer) ` +
              `p50 ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms, max ${
                Math.round(sorted[sorted.length - 1])
              } ms (${meetMs.length} rounds)`,
          );
        },
      );
    }
  } finally {
    await lab.stop();
    const runtimes = ["chromium", "deno", "node22", "node24"];
    const report = {
      chromium: lab.chromiumVersion,
      summary: summarize(lab.measurements),
      matrix: matrixTable(lab.measurements, runtimes),
      measurements: lab.measurements,
    };
    Deno.writeTextFileSync(`${ARTIFACTS}/contract-chromium.json`, JSON.stringify(report, null, 2));
    console.log(report.summary.map((l) => `  ${l}`).join("\n"));
    console.log(report.matrix);
  }
});
