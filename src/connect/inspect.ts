/**
 * What a peer connection says about its path: the selected candidate pair (from
 * `getStats()`), whether it goes through TURN, and its ICE and connection states.
 *
 * @module
 */

/** One end of the selected candidate pair. */
export interface CandidateInfo {
  /** `host`, `srflx`, `prflx` or `relay`. */
  type: string;
  /** IP address (or mDNS name in browsers). */
  address: string;
  /** Port. */
  port: number;
}

/** The path a peer connection uses. */
export interface PathInfo {
  /** Local and remote end of the selected pair. */
  pair: { local: CandidateInfo; remote: CandidateInfo };
  /** `turn` when either end is a relay candidate, else `direct`. */
  path: "direct" | "turn";
  /** The pair's current round-trip time (ms), when the implementation reports it. */
  rtt?: number;
}

type Stat = Record<string, unknown>;

/**
 * Read the selected candidate pair of a peer connection.
 *
 * @param pc The peer connection.
 * @returns The path, or undefined when no pair has been selected (yet).
 */
export async function describePath(pc: RTCPeerConnection): Promise<PathInfo | undefined> {
  const stats = await pc.getStats();
  const byId = new Map<string, Stat>();
  let selectedId: string | undefined;
  stats.forEach((s: Stat) => {
    byId.set(s.id as string, s);
    if (s.type === "transport" && typeof s.selectedCandidatePairId === "string") {
      selectedId = s.selectedCandidatePairId;
    }
  });
  let pair = selectedId ? byId.get(selectedId) : undefined;
  if (!pair) {
    for (const s of byId.values()) {
      if (s.type === "candidate-pair" && (s.nominated || s.selected) && s.state === "succeeded") {
        pair = s;
        if (s.selected) break;
      }
    }
  }
  if (!pair) return undefined;
  const side = (id: unknown): CandidateInfo => {
    const c = byId.get(id as string) ?? {};
    return {
      type: String(c.candidateType ?? "unknown"),
      address: String(c.address ?? c.ip ?? ""),
      port: Number(c.port ?? 0),
    };
  };
  const local = side(pair.localCandidateId);
  const remote = side(pair.remoteCandidateId);
  const rtt = typeof pair.currentRoundTripTime === "number" && pair.currentRoundTripTime > 0
    ? pair.currentRoundTripTime * 1000
    : undefined;
  return {
    pair: { local, remote },
    path: local.type === "relay" || remote.type === "relay" ? "turn" : "direct",
    ...(rtt !== undefined ? { rtt } : {}),
  };
}

/**
 * The ICE and connection state of a peer connection.
 *
 * @param pc The peer connection.
 * @returns Both states.
 */
export function iceStateOf(pc: RTCPeerConnection): { ice: string; connection: string } {
  return { ice: pc.iceConnectionState, connection: pc.connectionState ?? pc.iceConnectionState };
}
