/**
 * ICE candidate gathering for `meshmeet doctor`: what this host would offer a peer (host,
 * server-reflexive and relay candidates), using the runtime's WebRTC (libwebrtc on
 * Deno and Node).
 *
 * @module
 */
import { RTCPeerConnection } from "../runtime/webrtc.ts";

/** One gathered ICE candidate. */
export interface GatheredCandidate {
  /** `host`, `srflx`, `prflx` or `relay`. */
  type: string;
  /** `udp` or `tcp`. */
  protocol: string;
  /** IP address. */
  address: string;
  /** Port. */
  port: number;
  /** The candidate line. */
  candidate: string;
}

/**
 * Parse an ICE candidate line (`candidate:…` or `a=candidate:…`).
 *
 * @param line The candidate attribute.
 * @returns The parsed candidate, or undefined when malformed.
 */
export function parseCandidate(line: string): GatheredCandidate | undefined {
  const m = /^(?:a=)?candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)/i.exec(line.trim());
  if (!m) return undefined;
  return {
    type: m[4].toLowerCase(),
    protocol: m[1].toLowerCase(),
    address: m[2],
    port: Number(m[3]),
    candidate: line.trim().replace(/^a=/, ""),
  };
}

/**
 * Gather the ICE candidates of a fresh peer connection.
 *
 * @param iceServers STUN/TURN servers to gather server-reflexive and relay candidates from.
 * @param options Time budget (gathering also ends when the runtime says it is complete).
 * @returns The candidates and whether gathering completed within the budget.
 */
export async function gatherCandidates(
  iceServers: RTCIceServer[],
  options: { timeoutMs?: number } = {},
): Promise<{ candidates: GatheredCandidate[]; complete: boolean; ms: number }> {
  const started = performance.now();
  const pc = new RTCPeerConnection({ iceServers });
  const candidates: GatheredCandidate[] = [];
  let complete = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(finish, options.timeoutMs ?? 5000);
      function finish() {
        clearTimeout(timer);
        pc.removeEventListener("icecandidate", onCandidate);
        pc.removeEventListener("icegatheringstatechange", onState);
        resolve();
      }
      function onCandidate(e: RTCPeerConnectionIceEvent) {
        if (e.candidate === null) {
          complete = true;
          return finish();
        }
        const c = parseCandidate(e.candidate.candidate);
        if (c && !candidates.some((x) => x.candidate === c.candidate)) candidates.push(c);
      }
      function onState() {
        if (pc.iceGatheringState === "complete") {
          complete = true;
          // Let candidates queued in the same turn arrive first.
          setTimeout(finish, 0);
        }
      }
      pc.addEventListener("icecandidate", onCandidate);
      pc.addEventListener("icegatheringstatechange", onState);
      pc.createDataChannel("meshmeet-doctor");
      pc.createOffer().then((offer) => pc.setLocalDescription(offer)).catch((err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    // Candidates can still be queued when gathering reports "complete": the local
    // description lists them all by then.
    for (const line of (pc.localDescription?.sdp ?? "").split(/\r?\n/)) {
      const c = line.startsWith("a=candidate:") ? parseCandidate(line) : undefined;
      if (c && !candidates.some((x) => x.candidate === c.candidate)) candidates.push(c);
    }
  } finally {
    pc.close();
  }
  const order = ["host", "srflx", "prflx", "relay"];
  candidates.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return { candidates, complete, ms: Math.round(performance.now() - started) };
}
