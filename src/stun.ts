/**
 * STUN messages (RFC 5389, with RFC 5780's attributes): the binding request a node sends
 * to learn its public address, and the parsing of the answer. Pure code; the UDP socket
 * lives in `runtime/stun_client.ts`.
 *
 * @module
 */

/** The magic cookie of every STUN message. */
export const STUN_MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;
const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_CHANGE_REQUEST = 0x0003;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_RESPONSE_ORIGIN = 0x802b;
const ATTR_OTHER_ADDRESS = 0x802c;

/** A transport address. */
export interface StunAddress {
  /** IPv4 dotted or IPv6 text. */
  address: string;
  /** UDP port. */
  port: number;
  /** 4 or 6. */
  family: 4 | 6;
}

/** What a binding response says. */
export interface StunBindingResult {
  /** Our address as the server saw it (public address behind a NAT). */
  mapped: StunAddress;
  /** The server's alternate address (RFC 5780 OTHER-ADDRESS), if it has one. */
  other?: StunAddress;
  /** The address the response came from (RFC 5780 RESPONSE-ORIGIN), if given. */
  origin?: StunAddress;
}

/**
 * Encode a binding request.
 *
 * @param transactionId 12 random bytes.
 * @param change RFC 5780 CHANGE-REQUEST flags (ask the server to answer from another IP/port).
 * @returns The request bytes.
 * @throws {TypeError} When the transaction id is not 12 bytes.
 *
 * @example
 * ```ts ignore
 * const request = encodeBindingRequest(crypto.getRandomValues(new Uint8Array(12)));
 * ```
 */
export function encodeBindingRequest(
  transactionId: Uint8Array,
  change: { ip?: boolean; port?: boolean } = {},
): Uint8Array {
  if (transactionId.length !== 12) throw new TypeError("STUN transaction id must be 12 bytes");
  const withChange = change.ip === true || change.port === true;
  const out = new Uint8Array(20 + (withChange ? 8 : 0));
  const view = new DataView(out.buffer);
  view.setUint16(0, BINDING_REQUEST);
  view.setUint16(2, withChange ? 8 : 0);
  view.setUint32(4, STUN_MAGIC_COOKIE);
  out.set(transactionId, 8);
  if (withChange) {
    view.setUint16(20, ATTR_CHANGE_REQUEST);
    view.setUint16(22, 4);
    view.setUint32(24, (change.ip ? 4 : 0) | (change.port ? 2 : 0));
  }
  return out;
}

function _address(view: DataView, offset: number, length: number, xor: Uint8Array | null) {
  const family = view.getUint8(offset + 1);
  let port = view.getUint16(offset + 2);
  if (xor) port ^= STUN_MAGIC_COOKIE >>> 16;
  if (family === 0x01 && length >= 8) {
    const bytes = [0, 1, 2, 3].map((i) => view.getUint8(offset + 4 + i) ^ (xor ? xor[i] : 0));
    return { address: bytes.join("."), port, family: 4 as const };
  }
  if (family === 0x02 && length >= 20) {
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2) {
      const hi = view.getUint8(offset + 4 + i) ^ (xor ? xor[i] : 0);
      const lo = view.getUint8(offset + 5 + i) ^ (xor ? xor[i + 1] : 0);
      words.push(((hi << 8) | lo).toString(16));
    }
    return { address: _compressIpv6(words), port, family: 6 as const };
  }
  return undefined;
}

function _compressIpv6(words: string[]): string {
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLength && j - i > 1) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLength).join(":")}`;
}

/**
 * Decode a binding response to the request with the given transaction id.
 *
 * @param bytes The datagram.
 * @param transactionId The request's transaction id.
 * @returns The addresses in the response, or `undefined` when the datagram is not a
 * response to this request (another transaction, not STUN).
 * @throws {Error} When the server answered with a binding error, or a success without a
 * mapped address.
 *
 * @example
 * ```ts ignore
 * const result = decodeBindingResponse(datagram, transactionId);
 * ```
 */
export function decodeBindingResponse(
  bytes: Uint8Array,
  transactionId: Uint8Array,
): StunBindingResult | undefined {
  if (bytes.length < 20) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(0);
  const length = view.getUint16(2);
  if (view.getUint32(4) !== STUN_MAGIC_COOKIE || 20 + length > bytes.length) return undefined;
  for (let i = 0; i < 12; i++) if (bytes[8 + i] !== transactionId[i]) return undefined;
  if (type === BINDING_ERROR) throw new Error("STUN server answered with a binding error");
  if (type !== BINDING_SUCCESS) return undefined;
  const xor = new Uint8Array(16);
  xor.set(bytes.subarray(4, 20));
  let mapped: StunAddress | undefined;
  let plain: StunAddress | undefined;
  let other: StunAddress | undefined;
  let origin: StunAddress | undefined;
  for (let offset = 20; offset + 4 <= 20 + length;) {
    const attr = view.getUint16(offset);
    const attrLength = view.getUint16(offset + 2);
    const body = offset + 4;
    if (body + attrLength > bytes.length) break;
    if (attr === ATTR_XOR_MAPPED_ADDRESS) mapped = _address(view, body, attrLength, xor);
    else if (attr === ATTR_MAPPED_ADDRESS) plain = _address(view, body, attrLength, null);
    else if (attr === ATTR_OTHER_ADDRESS) other = _address(view, body, attrLength, null);
    else if (attr === ATTR_RESPONSE_ORIGIN) origin = _address(view, body, attrLength, null);
    offset = body + Math.ceil(attrLength / 4) * 4;
  }
  const result = mapped ?? plain;
  if (!result) throw new Error("STUN binding response has no mapped address");
  return { mapped: result, ...(other ? { other } : {}), ...(origin ? { origin } : {}) };
}

/**
 * The `host:port` STUN servers named in an ICE server list (`stun:` URLs; `turn:` servers
 * answer binding requests too and are used when no `stun:` URL is given).
 *
 * @param iceServers RTCIceServer entries.
 * @returns Host and port of each server, STUN first.
 *
 * @example
 * ```ts ignore
 * stunServersOf([{ urls: "stun:198.51.100.1:3478" }]); // [{ host: "198.51.100.1", port: 3478 }]
 * ```
 */
export function stunServersOf(
  iceServers: readonly RTCIceServer[] = [],
): { host: string; port: number }[] {
  const stun: { host: string; port: number }[] = [];
  const turn: { host: string; port: number }[] = [];
  for (const server of iceServers) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?/.exec(String(url));
      if (!m) continue;
      const host = m[2].replace(/^\[|\]$/g, "");
      const port = m[3] ? Number(m[3]) : 3478;
      if (m[1] === "stun") stun.push({ host, port });
      else if (m[1] === "turn") turn.push({ host, port });
    }
  }
  return stun.length > 0 ? stun : turn;
}
