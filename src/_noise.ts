/**
 * `noise()` whose encrypted connections do not throw an exception for every chunk they
 * receive.
 *
 * Why: in `@libp2p/noise` 17.0.3 an encrypted connection (`EncryptedMessageStream` in
 * `utils.ts`) cuts what it receives into frames with `@libp2p/utils`' `LengthPrefixedDecoder`,
 * whose loop reads lengths until the buffer runs out and learns that it has by catching the
 * `RangeError` the length decoder (`uint16BEDecode`, `encoder.ts`) throws when fewer than 2
 * bytes are left. So every chunk received on every connection to a bootstrap node or through a
 * relay cost one exception (an `Error` with its stack trace): 5.6–6.3 µs per chunk against
 * 0.6–0.7 µs without (the decoder alone, 200,000 chunks of one 100-byte frame), and the
 * largest single function, 4.0 % of all CPU time, when a relay and both ends open relayed
 * connections in one process (`bench/probes/relay_connect_cpu.ts` under `--cpu-prof`). The
 * wrapper gives each connection's decoder a length decoder that answers "a whole frame,
 * 65,535 bytes" when fewer than 2 bytes are there, which ends the same loop the same way (the
 * frame is longer than the buffer) without an exception. Per relayed connection that probe
 * then used 24.6 ms of CPU against 28.4 ms (medians of 8 interleaved pairs of 300
 * connections; the paired ratio's median 0.83, two pairs showed no difference).
 * No upstream issue was found (UPSTREAM.md #6); the fix upstream is a length decoder that checks before it
 * reads.
 *
 * @module
 */
import { noise } from "@libp2p/noise";
import type { Uint8ArrayList } from "uint8arraylist";

type NoiseFactory = ReturnType<typeof noise>;

/** The largest Noise frame: any length the buffer cannot hold ends the decoder's loop. */
const NOISE_MAX_FRAME = 0xffff;

/** A 2-byte big-endian length, or the largest frame when fewer than 2 bytes are there. */
function frameLength(data: Uint8Array | Uint8ArrayList): number {
  if (data.byteLength < 2) return NOISE_MAX_FRAME;
  return data instanceof Uint8Array ? (data[0] << 8) | data[1] : data.getUint16(0);
}

/** What the wrapper reaches of an encrypted connection (`EncryptedMessageStream`). */
interface Decoding {
  decoder?: { lengthDecoder?: (data: Uint8Array | Uint8ArrayList) => number };
}

function quieten<T extends { connection: unknown }>(secured: T): T {
  const decoder = (secured.connection as Decoding).decoder;
  if (decoder && typeof decoder.lengthDecoder === "function") {
    decoder.lengthDecoder = frameLength;
  }
  return secured;
}

/**
 * A connection encrypter factory like `noise()`, whose connections decode frame lengths
 * without exceptions.
 *
 * @returns The factory for `createLibp2p({ connectionEncrypters })`.
 */
export function quietNoise(): NoiseFactory {
  const make = noise();
  return (components) => {
    const encrypter = make(components);
    const outbound = encrypter.secureOutbound.bind(encrypter);
    const inbound = encrypter.secureInbound.bind(encrypter);
    encrypter.secureOutbound = async (connection, options) =>
      quieten(await outbound(connection, options));
    encrypter.secureInbound = async (connection, options) =>
      quieten(await inbound(connection, options));
    return encrypter;
  };
}

/** For tests: the length decoder given to each connection. */
export const _frameLength = frameLength;
