/**
 * The browser example's server: a small Hono app that serves the page, meshmeet's browser
 * bundle and `/config.json` (the bootstrap list), next to a local bootstrap/relay node.
 *
 * ```sh
 * deno task example:browser          # builds the bundle, then runs this file
 * # open the printed URL in two tabs, share one invitation code, chat
 * ```
 *
 * Browsers reach the bootstrap node over plain WebSockets (`/ws`) on loopback: browsers
 * allow `ws://` to 127.0.0.1/localhost from an `http://` page. A deployment on the
 * internet needs `wss://` (a TLS certificate for the bootstrap node's name, e.g. behind a
 * TLS-terminating proxy announced as `/dns4/<name>/tcp/443/wss`), or WebRTC-Direct
 * (`/udp/<port>/webrtc-direct/certhash/…`), which needs no certificate authority, and STUN
 * (or TURN) servers in `iceServers` so peers behind NATs connect directly.
 *
 * @module
 */
import { Hono } from "hono";
import { startBootstrapNode } from "../../mod.ts";

/** Options of {@linkcode createExampleApp}. */
export interface ExampleAppOptions {
  /** Bootstrap multiaddrs that browsers can dial (`/ws` or `/wss`). */
  bootstrap: string[];
  /** Directory with `meshmeet.js` (and its map): `npm/browser` after `build_npm.ts`. */
  bundleDir: string;
  /**
   * STUN/TURN servers handed to the page.
   * @default {[]}
   */
  iceServers?: RTCIceServer[];
  /** Extra files to serve (URL path → file path), e.g. test harness scripts. */
  extraFiles?: Record<string, string>;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
  json: "application/json",
};

/**
 * Create the example's Hono app.
 *
 * @param options Bootstrap list, bundle directory, extra files.
 * @returns The app (serve `app.fetch`).
 *
 * @example
 * ```ts ignore
 * const app = createExampleApp({ bootstrap: boot.addresses, bundleDir: "npm/browser" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, app.fetch);
 * ```
 */
export function createExampleApp(options: ExampleAppOptions): Hono {
  const here = new URL(".", import.meta.url).pathname;
  const files: Record<string, string> = {
    "/": `${here}index.html`,
    "/index.html": `${here}index.html`,
    "/app.js": `${here}app.js`,
    "/meshmeet.js": `${options.bundleDir}/meshmeet.js`,
    "/meshmeet.js.map": `${options.bundleDir}/meshmeet.js.map`,
    ...options.extraFiles,
  };
  const app = new Hono();
  app.get(
    "/config.json",
    (c) => c.json({ bootstrap: options.bootstrap, iceServers: options.iceServers ?? [] }),
  );
  app.get("*", async (c) => {
    const file = files[c.req.path];
    if (file === undefined) return c.notFound();
    try {
      const body = await Deno.readFile(file);
      const ext = file.slice(file.lastIndexOf(".") + 1);
      return c.body(body, 200, {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
    } catch {
      return c.text(`${c.req.path} is missing: run \`deno run -A build_npm.ts --emit-only\``, 404);
    }
  });
  return app;
}

if (import.meta.main) {
  const port = Number(Deno.args[Deno.args.indexOf("--port") + 1] || 8080);
  const root = new URL("../../", import.meta.url).pathname;
  const bundleDir = `${root}npm/browser`;
  try {
    Deno.statSync(`${bundleDir}/meshmeet.js`);
  } catch {
    console.error("The browser bundle is missing: run `deno task example:browser`.");
    Deno.exit(1);
  }
  const boot = await startBootstrapNode({
    listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
  });
  const bootstrap = boot.addresses.filter((a) => a.includes("/ws/"));
  const app = createExampleApp({ bootstrap, bundleDir });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, app.fetch);
  console.log(`bootstrap node: ${bootstrap.join(" ")}`);
  console.log(`open http://127.0.0.1:${server.addr.port}/ in two tabs (Ctrl-C stops)`);
  const stop = async () => {
    await server.shutdown();
    await boot.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
