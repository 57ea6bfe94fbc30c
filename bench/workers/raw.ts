/**
 * Worker: the WebRTC limit. Two raw node-datachannel peer connections in this process with
 * the SDP and candidates handed over directly (no DHT, no relay, no signaling protocol):
 * time from creating them to the first message echoed back. Also the DTLS probe of part 3
 * (libdatachannel's own log, to find the ~1 s mode).
 *
 * @module
 */
import ndc from "node-datachannel";
import { serve } from "./_serve.ts";

const CONFIG = { iceServers: [], bindAddress: "127.0.0.1" };

/** One round; `log` collects libdatachannel log lines during the round (probe only). */
async function round(log?: string[]) {
  const t0 = performance.now();
  const a = new ndc.PeerConnection("a", CONFIG);
  const b = new ndc.PeerConnection("b", CONFIG);
  let aRemote = false, bRemote = false;
  const toA: [string, string][] = [], toB: [string, string][] = [];
  const marks: Record<string, number> = {};
  const mark = (k: string) => marks[k] ??= performance.now() - t0;
  a.onLocalDescription((sdp, type) => {
    b.setRemoteDescription(sdp, type);
    bRemote = true;
    for (const c of toB.splice(0)) b.addRemoteCandidate(...c);
  });
  b.onLocalDescription((sdp, type) => {
    a.setRemoteDescription(sdp, type);
    aRemote = true;
    for (const c of toA.splice(0)) a.addRemoteCandidate(...c);
  });
  a.onLocalCandidate((c, m) => bRemote ? b.addRemoteCandidate(c, m) : toB.push([c, m]));
  b.onLocalCandidate((c, m) => aRemote ? a.addRemoteCandidate(c, m) : toA.push([c, m]));
  a.onIceStateChange((s) => s === "connected" && mark("offererIceConnected"));
  b.onIceStateChange((s) => s === "connected" && mark("answererIceConnected"));
  a.onStateChange((s) => s === "connected" && mark("connected"));
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw round timed out")), 10_000);
      b.onDataChannel((dc) => dc.onMessage((m) => dc.sendMessage(String(m))));
      const dc = a.createDataChannel("x");
      dc.onOpen(() => {
        mark("open");
        dc.sendMessage("x");
      });
      dc.onMessage(() => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
    const pair = a.getSelectedCandidatePair();
    return { ok: true, ms, marks, pair: `${pair?.local.type}/${pair?.remote.type}`, log };
  } finally {
    a.close();
    b.close();
  }
}

/**
 * Classify a round from libdatachannel's log: did the DTLS ClientHello reach the server
 * before its DTLS transport existed (it is then replayed inside DtlsTransport::start(),
 * between "Starting DTLS transport" and "DTLS MTU set"), and did the handshake wait for
 * a DTLS retransmission?
 */
function classify(lines: string[]) {
  let replayed = false;
  let inStart = false;
  let retransmitted = false;
  let serverAnsweredReplay = false;
  let afterReplay = false;
  for (const l of lines) {
    if (l.includes("Starting DTLS transport") && l.includes("DtlsTransport::start")) inStart = true;
    else if (inStart && l.includes("DtlsTransport::incoming")) {
      replayed = true;
      afterReplay = true;
    } else if (l.includes("DTLS MTU set")) inStart = false;
    else if (afterReplay && !retransmitted && l.includes("IceTransport::send")) {
      // The server's first flight (ServerHello, certificate) is far larger than a ClientHello.
      const size = Number(/size=(\d+)/.exec(l)?.[1] ?? 0);
      if (size > 400) {
        serverAnsweredReplay = true;
        afterReplay = false;
      }
    }
    if (l.includes("DTLS retransmit done")) retransmitted = true;
  }
  return { replayed, retransmitted, serverAnsweredReplay };
}

await serve({
  round: () => round(),
  async dtlsProbe(args: { rounds: number }) {
    // Verbose is needed for the DTLS lines. The logger stays on until the process exits:
    // swapping it while native threads log has crashed node-datachannel ("Failed to call
    // JavaScript callback"), so dial.ts runs the probe in short-lived processes.
    const lines: string[] = [];
    ndc.initLogger("Verbose", (_level, message) => {
      if (/Dtls|DTLS|IceTransport::send/.test(message)) {
        lines.push(message.replace(/\s+/g, " ").slice(0, 160));
      }
    });
    const rounds = [];
    for (let i = 0; i < args.rounds; i++) {
      lines.length = 0;
      const r = await round();
      rounds.push({ ms: r.ms, marks: r.marks, ...classify(lines) });
    }
    return rounds;
  },
}, () => ndc.cleanup());
