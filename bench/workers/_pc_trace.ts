/**
 * Timestamps of every RTCPeerConnection made in this process (libwebrtc through
 * `@roamhq/wrtc`, the class meshmeet's own links use on Deno/Node): role, descriptions,
 * candidates, ICE and connection states. Installed by importing this module; read with
 * {@linkcode takeTraces}. Used by part 3 to split a dial into its phases and to find where
 * the slow mode spends its second.
 *
 * @module
 */
import { RTCPeerConnection as RuntimePeerConnection } from "../../src/runtime/webrtc.ts";

/** What happened to one peer connection, as epoch milliseconds (fractional). */
export interface PcTrace {
  /** Sequence number in this process. */
  id: number;
  /** First time the connection was used. */
  firstSeen: number;
  /** `offerer` (called createOffer) or `answerer` (called createAnswer). */
  role?: "offerer" | "answerer";
  /** setLocalDescription() resolved. */
  localSetAt?: number;
  /** setRemoteDescription() was called. */
  remoteSetAt?: number;
  /** Local candidates (time, type). */
  localCandidates: { at: number; type: string }[];
  /** Remote candidates added (time, type). */
  remoteCandidates: { at: number; type: string }[];
  /** iceConnectionState became checking. */
  iceCheckingAt?: number;
  /** iceConnectionState became connected. */
  iceConnectedAt?: number;
  /** connectionState became connected (DTLS and SCTP up). */
  connectedAt?: number;
  /** connectionState became failed. */
  failedAt?: number;
  /** connectionState became closed. */
  closedAt?: number;
}

const now = () => performance.timeOrigin + performance.now();
const traces: PcTrace[] = [];
const byPc = new WeakMap<object, PcTrace>();
let seq = 0;

function traceOf(pc: object): PcTrace {
  let t = byPc.get(pc);
  if (!t) {
    t = { id: ++seq, firstSeen: now(), localCandidates: [], remoteCandidates: [] };
    byPc.set(pc, t);
    traces.push(t);
    if (traces.length > 5000) traces.splice(0, traces.length - 5000);
  }
  return t;
}

const typeOf = (candidate: string | undefined) => /typ (\w+)/.exec(candidate ?? "")?.[1] ?? "?";

// deno-lint-ignore no-explicit-any
type AnyFn = (this: any, ...args: any[]) => any;
// deno-lint-ignore no-explicit-any
const proto = (RuntimePeerConnection as any).prototype as Record<string, AnyFn> & {
  [k: symbol]: boolean;
};
const INSTALLED = Symbol.for("meshmeet.bench.pcTrace");

if (!proto[INSTALLED]) {
  proto[INSTALLED] = true;
  const wrap = (name: string, before: (t: PcTrace, args: unknown[]) => void, after?: AnyFn) => {
    const original = proto[name];
    if (typeof original !== "function") return;
    proto[name] = function (this: object, ...args: unknown[]) {
      const t = traceOf(this);
      before(t, args);
      const result = original.apply(this, args);
      if (after && result instanceof Promise) {
        return result.then((v: unknown) => {
          after.call(this, t);
          return v;
        });
      }
      return result;
    };
  };
  wrap("createDataChannel", () => {});
  wrap("createOffer", (t) => t.role ??= "offerer");
  wrap("createAnswer", (t) => t.role ??= "answerer");
  wrap("setLocalDescription", () => {}, (t: PcTrace) => t.localSetAt ??= now());
  wrap("setRemoteDescription", (t) => t.remoteSetAt ??= now());
  wrap("addIceCandidate", (t, args) => {
    const c = args[0] as { candidate?: string } | undefined;
    if (c?.candidate) t.remoteCandidates.push({ at: now(), type: typeOf(c.candidate) });
  });
  const dispatch = proto.dispatchEvent;
  proto.dispatchEvent = function (this: Record<string, unknown>, event: Event) {
    const t = traceOf(this);
    const at = now();
    if (event.type === "icecandidate") {
      const c = (event as Event & { candidate?: { candidate?: string } }).candidate;
      if (c?.candidate) t.localCandidates.push({ at, type: typeOf(c.candidate) });
    } else if (event.type === "iceconnectionstatechange") {
      const s = this.iceConnectionState;
      if (s === "checking") t.iceCheckingAt ??= at;
      if (s === "connected" || s === "completed") t.iceConnectedAt ??= at;
    } else if (event.type === "connectionstatechange") {
      const s = this.connectionState;
      if (s === "connected") t.connectedAt ??= at;
      if (s === "failed") t.failedAt ??= at;
      if (s === "closed") t.closedAt ??= at;
    }
    return dispatch.call(this, event);
  };
}

/**
 * The traces of connections first seen at or after `since`.
 *
 * @param since Epoch ms.
 * @returns Copies of the traces.
 */
export function takeTraces(since: number): PcTrace[] {
  return traces.filter((t) => t.firstSeen >= since).map((t) => structuredClone(t));
}
