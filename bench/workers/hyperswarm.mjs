// Worker (Node): hyperswarm on a local @hyperswarm/testnet, the comparison of part 1.
//   node hyperswarm.mjs testnet   -> a 3-node testnet; emits `ready` with its bootstrap list
//   node hyperswarm.mjs           -> ops: round({ bootstrap }) in this process; the round with
//                                    A and B in two processes: serverJoin({ bootstrap }) ->
//                                    { topic } here, clientRound({ bootstrap, topic }) in another
//                                    worker, then serverLeave()
// Every swarm's DHT node is made the way the testnet's createNode() makes it (ephemeral,
// host 127.0.0.1): LAB.md found that a swarm given only `{ bootstrap }` binds 0.0.0.0,
// announces a non-loopback address and never delivers data.
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import crypto from "node:crypto";
import process from "node:process";
import Hyperswarm from "hyperswarm";
import createTestnet from "@hyperswarm/testnet";
import { emit, serve } from "./_serve.mjs";

const require = createRequire(import.meta.resolve("@hyperswarm/testnet"));
const HyperDHT = require("hyperdht");

const dhtNode = (bootstrap) => new HyperDHT({ ephemeral: true, bootstrap, host: "127.0.0.1" });

async function round({ bootstrap, timeoutMs = 20000 }) {
  const topic = crypto.randomBytes(32);
  let a, b, timer;
  const aStart = performance.now();
  try {
    a = new Hyperswarm({ dht: dhtNode(bootstrap) });
    a.on("connection", (c) => {
      c.on("error", () => {});
      c.on("data", (d) => c.write(d));
    });
    await a.join(topic, { server: true, client: false }).flushed();
    const flushedMs = performance.now() - aStart;
    const t0 = performance.now();
    b = new Hyperswarm({ dht: dhtNode(bootstrap) });
    let connectedMs;
    const echoed = new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error("no echo within " + timeoutMs + " ms")),
        timeoutMs,
      );
      b.on("connection", (c) => {
        c.on("error", () => {});
        connectedMs ??= performance.now() - t0;
        c.once("data", () => resolve(performance.now()));
        c.write("x");
      });
    });
    b.join(topic, { server: false, client: true });
    const t1 = await echoed;
    return {
      ok: true,
      newcomerMs: t1 - t0,
      pairTotalMs: t1 - aStart,
      flushedMs,
      connectedMs,
    };
  } catch (err) {
    return { ok: false, error: err.message };
  } finally {
    clearTimeout(timer);
    await Promise.allSettled([a?.destroy(), b?.destroy()]);
  }
}

let server; // the swarm waiting for a newcomer (two-process rounds)

async function serverJoin({ bootstrap }) {
  if (server) throw new Error("a server is already waiting in this process");
  const topic = crypto.randomBytes(32);
  server = new Hyperswarm({ dht: dhtNode(bootstrap) });
  server.on("connection", (c) => {
    c.on("error", () => {});
    c.on("data", (d) => c.write(d));
  });
  await server.join(topic, { server: true, client: false }).flushed();
  return { topic: topic.toString("hex") };
}

async function serverLeave() {
  const s = server;
  server = undefined;
  await s?.destroy();
  return {};
}

async function clientRound({ bootstrap, topic, timeoutMs = 20000 }) {
  let b, timer;
  try {
    const t0 = performance.now();
    b = new Hyperswarm({ dht: dhtNode(bootstrap) });
    const echoed = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("no echo within " + timeoutMs + " ms")), timeoutMs);
      b.on("connection", (c) => {
        c.on("error", () => {});
        c.once("data", () => resolve(performance.now()));
        c.write("x");
      });
    });
    b.join(Buffer.from(topic, "hex"), { server: false, client: true });
    return { ok: true, newcomerMs: (await echoed) - t0 };
  } catch (err) {
    return { ok: false, error: err.message };
  } finally {
    clearTimeout(timer);
    await b?.destroy().catch(() => {});
  }
}

if (process.argv[2] === "testnet") {
  const testnet = await createTestnet(3);
  emit("ready", { bootstrap: testnet.bootstrap });
  serve({}, () => testnet.destroy());
} else {
  serve({ round, serverJoin, serverLeave, clientRound });
}
