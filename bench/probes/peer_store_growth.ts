/**
 * Probe: what a bootstrap node keeps of participants that came and went. A bootstrap node and
 * `n` participants, one after the other: by default bare participant libp2p nodes that each
 * connect, take a relay reservation and stop; with `--joins`, whole meetings (`joinMeeting()`
 * with a new code each time, then `leave()`), which also store a provider entry and a presence
 * record. Prints the bootstrap node's datastore entries by kind (`/peers/` is libp2p's peer
 * store, `/dht/record/` presence records, `/dht/provider/` provider entries).
 *
 * `deno run -A bench/probes/peer_store_growth.ts [n] [--joins] [--provider-ttl-ms t]`
 *
 * The node forgets a departed participant two provider TTLs after its last activity
 * (`src/rendezvous/peer_sweep.ts`) and deletes presence records 5 minutes after they expire
 * (`RendezvousDatastore.sweepExpired()`); with `t` given, the probe counts again after 2.5 × t.
 *
 * @module
 */
import type { Datastore } from "interface-datastore";
import { generateInvitationCode, joinMeeting, startBootstrapNode } from "../../mod.ts";
import { reservedNodes } from "./_relayed.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 40);
const joins = Deno.args.includes("--joins");
const ttlAt = Deno.args.indexOf("--provider-ttl-ms");
const providerTtlMs = ttlAt >= 0 ? Number(Deno.args[ttlAt + 1]) : undefined;
const boot = await startBootstrapNode({
  listen: ["/ip4/127.0.0.1/tcp/0"],
  ...(providerTtlMs ? { rendezvousLimits: { providerTtlMs } } : {}),
});
const datastore = (boot.libp2p as unknown as { components: { datastore: Datastore } })
  .components.datastore;

/** Entries and value bytes by kind (the key's first two segments). */
async function count(): Promise<Record<string, { entries: number; bytes: number }>> {
  const out: Record<string, { entries: number; bytes: number }> = {};
  for await (const { key, value } of datastore.query({})) {
    const kind = key.toString().split("/").slice(0, key.toString().startsWith("/dht/") ? 3 : 2)
      .join("/");
    out[kind] ??= { entries: 0, bytes: 0 };
    out[kind].entries++;
    out[kind].bytes += value.byteLength;
  }
  return out;
}

for (let i = 0; i < n; i++) {
  if (joins) {
    const meeting = await joinMeeting(generateInvitationCode(), {
      bootstrap: boot.addresses,
      localDiscovery: false,
      rtcConfiguration: { iceServers: [], bindAddress: "127.0.0.1" },
    });
    await meeting.leave();
    continue;
  }
  const [node] = await reservedNodes(boot.addresses[0], 1);
  await node.stop();
}
await new Promise((r) => setTimeout(r, 1000));
console.log(
  `after ${n} ${joins ? "meetings joined and left" : "participants came and went"}: ` +
    `${JSON.stringify(await count())}; reservations ` +
    `${boot.libp2p.services.relay.reservations.size}, connections ${boot.libp2p.getConnections().length}`,
);
if (providerTtlMs) {
  await new Promise((r) => setTimeout(r, 2.5 * providerTtlMs));
  console.log(`${2.5 * providerTtlMs} ms later: ${JSON.stringify(await count())}`);
}
await boot.stop();
