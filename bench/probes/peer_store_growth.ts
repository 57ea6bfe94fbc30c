/**
 * Probe: what a bootstrap node keeps of participants that came and went. A bootstrap node and
 * `n` participant nodes, one after the other: each connects, takes a relay reservation and
 * stops. Prints the entries left in the bootstrap node's datastore (the peer store's
 * `/peers/` keys and everything else), its reservations and connections.
 *
 * `deno run -A bench/probes/peer_store_growth.ts [n] [--provider-ttl-ms t]`: the node forgets a
 * departed participant two provider TTLs after its last activity (`rendezvous/peer_sweep.ts`);
 * with `t` given, the probe counts again after 2.5 × t.
 *
 * @module
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { Datastore } from "interface-datastore";
import { startBootstrapNode } from "../../mod.ts";
import { createParticipantLibp2p } from "../../src/node.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 40);
const ttlAt = Deno.args.indexOf("--provider-ttl-ms");
const providerTtlMs = ttlAt >= 0 ? Number(Deno.args[ttlAt + 1]) : undefined;
const boot = await startBootstrapNode({
  listen: ["/ip4/127.0.0.1/tcp/0"],
  ...(providerTtlMs ? { rendezvousLimits: { providerTtlMs } } : {}),
});
const datastore = (boot.libp2p as unknown as { components: { datastore: Datastore } })
  .components.datastore;

async function count(prefix: string): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  for await (const e of datastore.query({ prefix })) {
    entries++;
    bytes += e.value.byteLength;
  }
  return { entries, bytes };
}

const reserved = (node: { getMultiaddrs(): { toString(): string }[] }) =>
  node.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit"));
for (let i = 0; i < n; i++) {
  const node = await createParticipantLibp2p({ rtcConfiguration: {} });
  await node.dial(multiaddr(boot.addresses[0]));
  for (let j = 0; j < 100 && !reserved(node); j++) await new Promise((r) => setTimeout(r, 50));
  await node.stop();
}
await new Promise((r) => setTimeout(r, 1000));
console.log(
  `after ${n} participants came and went: peer store ${JSON.stringify(await count("/peers/"))}, ` +
    `whole datastore ${JSON.stringify(await count("/"))}, reservations ` +
    `${boot.libp2p.services.relay.reservations.size}, connections ${boot.libp2p.getConnections().length}`,
);
if (providerTtlMs) {
  await new Promise((r) => setTimeout(r, 2.5 * providerTtlMs));
  console.log(
    `${2.5 * providerTtlMs} ms later: peer store ${JSON.stringify(await count("/peers/"))}`,
  );
}
await boot.stop();
