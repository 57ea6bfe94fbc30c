/**
 * ICE servers advertised by bootstrap nodes (requirement C2/C3): a bootstrap node that
 * knows STUN/TURN servers hands them to every participant that asks, so joiners need only
 * the code and the bootstrap list.
 *
 * @module
 */
import type { Libp2p, PeerId } from "@libp2p/interface";
import { FrameType } from "./frame.ts";
import { FramedStream } from "./framed_stream.ts";

/** The libp2p protocol on which bootstrap nodes advertise ICE servers. */
export const ICE_SERVERS_PROTOCOL = "/meshmeet/ice-servers/1.0.0";

const MAX_ICE_SERVERS = 16;

/**
 * Serve an ICE server list on a node.
 *
 * @param libp2p The bootstrap node.
 * @param iceServers What to advertise (STUN and TURN URLs with credentials).
 */
export async function advertiseIceServers(
  libp2p: Libp2p,
  iceServers: readonly RTCIceServer[],
): Promise<void> {
  const payload = new TextEncoder().encode(JSON.stringify({ iceServers }));
  await libp2p.handle(ICE_SERVERS_PROTOCOL, async (stream) => {
    const framed = new FramedStream(stream, { maxPayload: 64 * 1024 });
    await framed.write({ type: FrameType.Data, flags: 0, channel: 0, seq: 0, ref: 0, payload })
      .catch(() => {});
    await framed.close();
  }, { runOnLimitedConnection: true });
}

function _valid(server: unknown): server is RTCIceServer {
  if (server === null || typeof server !== "object") return false;
  const urls = (server as RTCIceServer).urls;
  const list = Array.isArray(urls) ? urls : [urls];
  return list.length > 0 && list.every((u) => typeof u === "string" && /^(stun|turn)s?:/.test(u));
}

/**
 * Ask bootstrap nodes for their ICE servers. Never throws: nodes that do not advertise
 * any (or do not answer within the signal) contribute nothing.
 *
 * @param libp2p The participant's node (connected to the bootstrap nodes).
 * @param peers The bootstrap nodes' peer ids.
 * @param signal Deadline.
 * @returns The servers, without duplicates.
 */
export async function fetchIceServers(
  libp2p: Libp2p,
  peers: PeerId[],
  signal: AbortSignal,
): Promise<RTCIceServer[]> {
  const lists = await Promise.all(peers.map(async (peer) => {
    try {
      const stream = await libp2p.dialProtocol(peer, ICE_SERVERS_PROTOCOL, {
        signal,
        runOnLimitedConnection: true,
      });
      const framed = new FramedStream(stream, { maxPayload: 64 * 1024 });
      try {
        const frame = await framed.read({ signal });
        const body = JSON.parse(new TextDecoder().decode(frame.payload));
        return Array.isArray(body?.iceServers) ? body.iceServers.filter(_valid) : [];
      } finally {
        await framed.close();
      }
    } catch {
      return [];
    }
  }));
  const seen = new Set<string>();
  const out: RTCIceServer[] = [];
  for (const server of lists.flat()) {
    const key = JSON.stringify(server);
    if (!seen.has(key) && out.length < MAX_ICE_SERVERS) {
      seen.add(key);
      out.push(server);
    }
  }
  return out;
}
