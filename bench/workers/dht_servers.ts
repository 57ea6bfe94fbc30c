/**
 * Worker: N meshmeet bootstrap nodes (DHT servers + relays) forming one DHT, and a way to
 * fill them with presence records (part 6c).
 *
 * `populate` makes `count` real presence records of one meeting, each sealed (AES-GCM) and
 * signed (Ed25519) by its own fresh key exactly as a participant would, and writes them
 * with their provider records straight into every server's datastore (and the provider's
 * relay address into every server's peer store): the state that `count` announcements
 * leave behind on a DHT of up to 20 servers (K = 20, so every server is among the closest
 * to every key). Writing them directly instead of announcing them keeps the setup fast;
 * the newcomer's lookup that is measured runs over the network as usual.
 *
 * Writes go through each server's RendezvousDatastore, as kad-dht's own writes do, so the
 * server's limits apply to them as to announcements (issue 11: 256 providers kept per key,
 * 512 records per meeting, the newest). `start({ caps: false })` sets every limit to 10^9,
 * the behaviour of kad-dht alone (every provider kept and answered): the "before" of 6c.
 *
 * Ops: `start` ({ servers, caps }) -> addresses of each; `populate` ({ code, count });
 * `stats` -> each server's RendezvousDatastore counters; `cpuSeconds`.
 *
 * @module
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { Libp2pRecord } from "@libp2p/record";
import { MemoryDatastore } from "datastore-core";
import { RendezvousDatastore } from "../../src/rendezvous/rendezvous_datastore.ts";
import { Key } from "interface-datastore";
import { base32 } from "multiformats/bases/base32";
import { type BootstrapNode, deriveTopicKeys, startBootstrapNode } from "../../mod.ts";
import { sealPresence } from "../../src/presence.ts";
import { topicCid } from "../../src/rendezvous.ts";
import { serve } from "./_serve.ts";

const nodes: { boot: BootstrapNode; store: RendezvousDatastore }[] = [];

/** Limits that never bite: kad-dht's own behaviour. */
const UNCAPPED = {
  providersAnswered: 1e9,
  providersKept: 1e9,
  providerTtlMs: 1e12,
  recordsKeptPerScope: 1e9,
};

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return new Uint8Array(out);
}

await serve({
  async start(args: { servers: number; caps?: boolean }) {
    for (let i = 0; i < args.servers; i++) {
      const store = new RendezvousDatastore(
        new MemoryDatastore(),
        args.caps === false ? UNCAPPED : {},
      );
      const boot = await startBootstrapNode({
        listen: ["/ip4/127.0.0.1/tcp/0/ws", "/ip4/127.0.0.1/tcp/0"],
        peers: nodes.slice(-3).map((n) => n.boot.addresses.find((a) => !a.includes("/ws"))!),
        datastore: store,
      });
      nodes.push({ boot, store });
    }
    return nodes.map((n) => n.boot.addresses);
  },
  async populate(args: { code: string; count: number }) {
    const keys = await deriveTopicKeys(args.code);
    const cid = await topicCid(keys.topicIdBytes);
    const providerPrefix = `/dht/provider/${base32.baseEncode(cid.multihash.bytes)}`;
    const relay = nodes[0].boot.addresses.find((a) => !a.includes("/ws"))!;
    const now = Date.now();
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < args.count; i++) {
      const privateKey = await generateKeyPair("Ed25519");
      const peerId = peerIdFromPrivateKey(privateKey);
      const id = peerId.toString();
      const address = `${relay}/p2p-circuit/p2p/${id}`;
      const sealed = await sealPresence(keys, privateKey, {
        peerId: id,
        name: `p${i}`,
        joinedAt: now,
        // Participants announce only their relayed address (meshmeet's own links since issue 10).
        addresses: [address],
      }, { seq: now, ttlMs: 60 * 60 * 1000 });
      const keyBytes = new TextEncoder().encode(sealed.key);
      const record = new Libp2pRecord(keyBytes, sealed.bytes, new Date()).serialize();
      bytes += record.length;
      const recordKey = new Key(`/dht/record/${base32.baseEncode(keyBytes)}`, false);
      const providerKey = new Key(`${providerPrefix}/${id}`);
      // The time of the announcement (the server's clock, as kad-dht writes it).
      const time = varint(Date.now());
      await Promise.all(nodes.map(async ({ boot, store }) => {
        await store.put(recordKey, record);
        await store.put(providerKey, time);
        await boot.libp2p.peerStore.merge(peerId, { multiaddrs: [multiaddr(address)] });
      }));
    }
    return { count: args.count, recordBytes: bytes, ms: performance.now() - t0 };
  },
  stats() {
    return nodes.map((n) => n.store.stats);
  },
  cpuSeconds() {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  },
}, async () => {
  await Promise.allSettled(nodes.map((n) => n.boot.stop()));
});
