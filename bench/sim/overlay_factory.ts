/**
 * The real overlay in the simulator: every simulated member is an `OverlayNode` from
 * `src/overlay/node.ts`, sharing one `MemberIndex` (peer ids ↔ dense integers) so that
 * 10,000 rosters of 10,000 entries are arrays, not maps.
 *
 * The one stand-in is the crypto: a real member signs with Ed25519 (~50 µs a signature in
 * JavaScript, ~5 s of CPU per member for a 10,000-member roster snapshot); here a signature
 * is a 32-bit hash of the signer's peer id and the signed bytes, padded to Ed25519's 64
 * bytes so that byte counts stay honest. Verification recomputes it, so a statement
 * attributed to the wrong member still fails.
 *
 * @module
 */
import { MemberIndex, OverlayNode } from "../../src/overlay/node.ts";
import type { OverlayCrypto, OverlayOptions, PeerId } from "../../src/overlay/types.ts";
import type { NodeFactory } from "./network.ts";

/**
 * FNV-1a over a peer id and bytes; payloads over 2 KiB are sampled (head, tail and every
 * 61st byte) so that 10,000 members relaying a 16 KiB broadcast stay cheap.
 */
function sigHash(peerId: PeerId, bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < peerId.length; i++) h = Math.imul(h ^ peerId.charCodeAt(i), 0x01000193);
  const n = bytes.length;
  const step = n > 2048 ? 61 : 1;
  const head = Math.min(n, 1024);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  for (let i = head; i < n; i += step) h = Math.imul(h ^ bytes[i], 0x01000193);
  if (n > head) {
    for (let i = Math.max(head, n - 64); i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return Math.imul(h ^ n, 0x01000193) >>> 0;
}

/**
 * Verified signatures, by signature object: in the simulator a message is passed by
 * reference, so 10,000 members verify the very same entry object. A second verification of
 * the same signature object by the same claimed signer over as many bytes returns the first
 * answer without hashing again (nothing in the simulator tampers with bytes in flight; a
 * statement attributed to another member still fails).
 */
const verified = new WeakMap<Uint8Array, { peerId: PeerId; length: number; ok: boolean }>();

/**
 * The simulator's signer for one member.
 * @param self The member's peer id.
 * @returns Sign and verify.
 */
export function simCrypto(self: PeerId): OverlayCrypto {
  return {
    sign(bytes: Uint8Array): Uint8Array {
      const sig = new Uint8Array(64);
      new DataView(sig.buffer).setUint32(0, sigHash(self, bytes));
      return sig;
    },
    verify(peerId: PeerId, bytes: Uint8Array, sig: Uint8Array): boolean {
      const seen = verified.get(sig);
      if (seen && seen.peerId === peerId && seen.length === bytes.length) return seen.ok;
      const ok = sig.length === 64 &&
        ((sig[0] << 24) | (sig[1] << 16) | (sig[2] << 8) | sig[3]) >>> 0 === sigHash(peerId, bytes);
      verified.set(sig, { peerId, length: bytes.length, ok });
      return ok;
    },
  };
}

/**
 * A factory of real overlay nodes for {@linkcode Network}.
 * @param options Overlay options (defaults: `OVERLAY_DEFAULTS`).
 * @param topic Signing domain.
 * @returns The factory.
 */
export function overlayFactory(options: OverlayOptions = {}, topic = "sim"): NodeFactory {
  const index = new MemberIndex();
  return (init) =>
    new OverlayNode({
      self: {
        peerId: init.peerId,
        name: init.name,
        joinedAt: init.joinedAt,
        contact: init.contact,
      },
      topic,
      crypto: simCrypto(init.peerId),
      options,
      random: init.random,
      index,
      now: init.now,
    });
}
