/**
 * Members of a meeting for rendezvous tests on a fake node: `n` identities with sealed
 * presence records, as the DHT would hold them.
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PeerId } from "@libp2p/interface";
import { sealPresence } from "../../src/presence.ts";
import type { TopicKeys } from "../../src/topic.ts";
import { silentLogger } from "../../src/logger.ts";
import type { ParticipantLibp2p } from "../../src/node.ts";
import { Rendezvous } from "../../src/rendezvous.ts";
import type { RendezvousInit } from "../../src/rendezvous/types.ts";

/**
 * `n` members' peer ids and their records by DHT key; every `badEvery`-th record is garbage.
 */
export async function sealedMembers(
  keys: TopicKeys,
  n: number,
  badEvery = 0,
): Promise<{ ids: PeerId[]; records: Map<string, Uint8Array> }> {
  const records = new Map<string, Uint8Array>();
  const ids: PeerId[] = [];
  for (let i = 0; i < n; i++) {
    const key = await generateKeyPair("Ed25519");
    const id = peerIdFromPrivateKey(key);
    ids.push(id);
    const { key: dhtKey, bytes } = await sealPresence(keys, key, {
      peerId: id.toString(),
      name: `p${i}`,
      joinedAt: Date.now(),
      addresses: [],
    }, { seq: 1, ttlMs: 60_000 });
    records.set(dhtKey, badEvery > 0 && i % badEvery === 0 ? new Uint8Array([1, 2, 3]) : bytes);
  }
  return { ids, records };
}

/**
 * A rendezvous on a fake node whose DHT is `contentRouting` (whatever methods the test
 * needs: `findProviders`, `get`, `put`, `provide`).
 */
export async function rendezvousOn(
  keys: TopicKeys,
  contentRouting: Record<string, unknown>,
  options: Partial<RendezvousInit> = {},
): Promise<Rendezvous> {
  const selfKey = await generateKeyPair("Ed25519");
  const libp2p = {
    peerId: peerIdFromPrivateKey(selfKey),
    getMultiaddrs: () => [],
    addEventListener: () => {},
    removeEventListener: () => {},
    contentRouting,
  } as unknown as ParticipantLibp2p;
  return new Rendezvous({
    libp2p,
    keys,
    privateKey: selfKey,
    log: silentLogger.forComponent("test"),
    selfInfo: () => ({ peerId: libp2p.peerId.toString(), name: "me", joinedAt: 0, addresses: [] }),
    onPresence: () => {},
    wantMore: () => true,
    isKnown: () => false,
    ...options,
  });
}
