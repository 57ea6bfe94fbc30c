/**
 * Worker: part 2 in Chromium (Debian's, driven by playwright-core), meant to run in a
 * loopback-only network namespace. Serves the pages, runs a meshmeet bootstrap node and a
 * self-hosted WebSocket BitTorrent tracker (for trystero) as child processes, and times one
 * round at a time: page A joins and settles, then page B joins and sends A one message as
 * soon as A is there; timed in page B from its join call to A's acknowledgement (meshmeet:
 * `send()` resolves on the ack; trystero: A answers "ack" on the same action).
 *
 * Ops: `start` ({ trystero, meshmeet? }) -> what is available; `round` ({ kind });
 * `stop`.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";
import { generateInvitationCode } from "../../mod.ts";
import { BENCH_DIR, Child, sleep } from "../_util.ts";
import { serve } from "./_serve.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../tests/browser/_chromium.ts";

let browser: Browser | undefined;
let http: Deno.HttpServer | undefined;
let url = "";
let trackerUrl = "";
let bootstrapWs: string[] = [];
const children: Child[] = [];

async function stop() {
  await browser?.close().catch(() => {});
  browser = undefined;
  await Promise.allSettled(children.splice(0).map((c) => c.close()));
  await http?.shutdown().catch(() => {});
}

await serve({
  async start(args: { trystero: string; meshmeet?: string }) {
    const files: Record<string, string> = { "/trystero.js": args.trystero };
    if (args.meshmeet) files["/meshmeet.js"] = args.meshmeet;
    http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      if (files[path]) {
        return new Response(await Deno.readFile(files[path]), {
          headers: { "content-type": "text/javascript" },
        });
      }
      return new Response("<!doctype html><meta charset=utf-8><title>bench</title>", {
        headers: { "content-type": "text/html" },
      });
    });
    url = `http://127.0.0.1:${(http.addr as Deno.NetAddr).port}/`;
    const tracker = new Child({
      name: "tracker",
      cmd: "node",
      args: [`${BENCH_DIR}workers/tracker.mjs`],
    });
    const boot = new Child({
      name: "bootstrap",
      cmd: Deno.execPath(),
      args: ["run", "-A", `${BENCH_DIR}workers/bootstrap.ts`],
    });
    children.push(tracker, boot);
    trackerUrl = (await tracker.waitEvent("ready")).url as string;
    bootstrapWs = ((await boot.waitEvent("ready")).addresses as string[]).filter((a) =>
      a.includes("/ws")
    );
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
    return { url, trackerUrl, bootstrapWs, chromium: browser.version() };
  },

  async round(args: { kind: "trystero" | "meshmeet"; timeoutMs?: number }) {
    if (!browser) throw new Error("not started");
    const timeoutMs = args.timeoutMs ?? 20_000;
    const contexts = [await browser.newContext(), await browser.newContext()];
    try {
      const [a, b] = await Promise.all(contexts.map(async (c) => {
        const page = await c.newPage();
        await page.goto(url, { waitUntil: "load", timeout: 30_000 });
        return page;
      }));
      if (args.kind === "trystero") {
        for (const page of [a, b]) {
          await page.addScriptTag({ url: "/trystero.js", type: "module" });
          await page.waitForFunction(() => "bench" in globalThis, undefined, { timeout: 10_000 });
        }
        const room = crypto.randomUUID();
        await a.evaluate(([t, r]) => {
          // deno-lint-ignore no-explicit-any
          return (globalThis as any).bench.member(t, r);
        }, [trackerUrl, room]);
        // Let A's announce reach the tracker before B joins (A "has joined").
        await sleep(300);
        const r = await b.evaluate(([t, r]) => {
          // deno-lint-ignore no-explicit-any
          return (globalThis as any).bench.newcomer(t, r);
        }, [trackerUrl, room]) as { ms: number; peerJoinMs: number };
        await Promise.allSettled([a, b].map((p) =>
          // deno-lint-ignore no-explicit-any
          p.evaluate(() => (globalThis as any).bench.leave())
        ));
        return { ok: true, ms: r.ms, peerJoinMs: r.peerJoinMs };
      }
      const code = generateInvitationCode();
      const options = { bootstrap: bootstrapWs, rtcConfiguration: { iceServers: [] } };
      await a.evaluate(async ([c, o]) => {
        const mm = await import("/meshmeet.js");
        // deno-lint-ignore no-explicit-any
        (globalThis as any).meeting = await mm.joinMeeting(c, { ...o, name: "A" });
        // deno-lint-ignore no-explicit-any
        return (globalThis as any).meeting.self.peerId;
      }, [code, options] as const);
      const r = await b.evaluate(async ([c, o, limit]) => {
        const mm = await import("/meshmeet.js");
        const t0 = performance.now();
        const m = await mm.joinMeeting(c, { ...o, name: "B" });
        const joinedMs = performance.now() - t0;
        // deno-lint-ignore no-explicit-any
        (globalThis as any).meeting = m;
        const other = await new Promise<{ peerId: string }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no participant in time")), limit);
          const check = () => {
            const p = m.participants[0];
            if (p) {
              clearTimeout(timer);
              clearInterval(poll);
              resolve(p);
            }
          };
          const poll = setInterval(check, 20);
          m.addEventListener("peer:join", check);
          check();
        });
        const seenMs = performance.now() - t0;
        await m.send(other.peerId, "x");
        return {
          ms: performance.now() - t0,
          joinedMs,
          seenMs,
          timings: m.stats.joinTimings,
        };
      }, [code, options, timeoutMs] as const);
      await Promise.allSettled([a, b].map((p) =>
        // deno-lint-ignore no-explicit-any
        p.evaluate(() => (globalThis as any).meeting?.leave())
      ));
      return { ok: true, ...r };
    } finally {
      await Promise.allSettled(contexts.map((c) => c.close()));
    }
  },

  stop,
}, stop);
