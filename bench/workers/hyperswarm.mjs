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

let server; // the swarm waiting for a newcomer

// A joins as server and flushes; it echoes what a client writes.
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

// B joins as client, writes one byte on the connection and waits for A's echo; timed from
// creating B's DHT node.
async function clientRound({ bootstrap, topic, timeoutMs = 20000 }) {
  let b, timer;
  try {
    const t0 = performance.now();
    b = new Hyperswarm({ dht: dhtNode(bootstrap) });
    let connectedMs;
    const echoed = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("no echo within " + timeoutMs + " ms")), timeoutMs);
      b.on("connection", (c) => {
        c.on("error", () => {});
        connectedMs ??= performance.now() - t0;
        c.once("data", () => resolve(performance.now()));
        c.write("x");
      });
    });
    b.join(Buffer.from(topic, "hex"), { server: false, client: true });
    return { ok: true, newcomerMs: (await echoed) - t0, connectedMs };
  } catch (err) {
    return { ok: false, error: err.message };
  } finally {
    clearTimeout(timer);
    await b?.destroy().catch(() => {});
  }
}

// Both in this process: serverJoin, then clientRound.
async function round({ bootstrap, timeoutMs = 20000 }) {
  const aStart = performance.now();
  try {
    const { topic } = await serverJoin({ bootstrap });
    const flushedMs = performance.now() - aStart;
    const r = await clientRound({ bootstrap, topic, timeoutMs });
    return r.ok ? { ...r, pairTotalMs: flushedMs + r.newcomerMs, flushedMs } : r;
  } catch (err) {
    return { ok: false, error: err.message };
  } finally {
    await serverLeave().catch(() => {});
  }
}

if (process.argv[2] === "testnet") {
  const testnet = await createTestnet(3);
  emit("ready", { bootstrap: testnet.bootstrap });
  serve({}, () => testnet.destroy());
} else {
  serve({ round, serverJoin, serverLeave, clientRound });
}
